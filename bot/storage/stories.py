"""Stories as subscribers see them: the search index, digest candidates, story views."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.db import Database, from_db_time, to_db_time

SEARCH_BODY_LEMMAS = 1500  # the lead and more: enough to find a story, bounded in size


@dataclass(frozen=True)
class StoryRow:
    """A story with what its first article says about it."""

    story_id: int
    title: str
    url: str | None
    origin: str
    summary: str | None
    key_figures: tuple[str, ...]
    text: str
    created_at: datetime | None
    started_at: datetime | None
    topics: tuple[str, ...]  # best first
    places: frozenset[str]
    sources: tuple[tuple[str | None, str], ...]  # (url, origin) of every article, earliest first


async def index_for_search(conn: aiosqlite.Connection, article_id: int, title_lemmas: list[str],
                           body_lemmas: list[str]) -> None:
    """Put an original article's lemmas in the search index (inside a write transaction)."""
    cur = await conn.execute("INSERT OR IGNORE INTO search_indexed (article_id) VALUES (?)",
                             (article_id,))
    if cur.rowcount == 0:
        return
    await conn.execute("INSERT INTO article_search (rowid, title, body) VALUES (?, ?, ?)",
                       (article_id, " ".join(title_lemmas),
                        " ".join(body_lemmas[:SEARCH_BODY_LEMMAS])))


async def unsearchable_articles(db: Database, limit: int = 500) -> list[tuple[int, str, str]]:
    """Original articles not yet in the search index (stored by an older pressbot)."""
    rows = await db.fetchall(
        "SELECT a.id, a.title, a.text FROM articles a LEFT JOIN search_indexed s"
        " ON s.article_id = a.id WHERE s.article_id IS NULL AND a.reprint_of IS NULL"
        " AND a.story_id IS NOT NULL ORDER BY a.id LIMIT ?", (limit,))
    return [(r[0], r[1], r[2]) for r in rows]


async def search(db: Database, query: str, limit: int = 5) -> list[int]:
    """Story ids best matching an FTS5 query, best first, newest first among equals."""
    rows = await db.fetchall(
        "WITH hits AS (SELECT rowid AS article_id, bm25(article_search, 3.0, 1.0) AS score"
        " FROM article_search WHERE article_search MATCH ? ORDER BY score LIMIT 500)"
        " SELECT a.story_id, MIN(ROUND(h.score, 2)) AS score, MAX(s.started_at) AS at"
        " FROM hits h JOIN articles a ON a.id = h.article_id"
        " JOIN stories s ON s.id = a.story_id"
        " GROUP BY a.story_id ORDER BY score, at DESC LIMIT ?", (query, limit))
    return [r[0] for r in rows]


async def _story_rows(db: Database, where: str, params: tuple) -> list[StoryRow]:
    rows = await db.fetchall(
        "SELECT s.id, s.title, s.created_at, s.started_at, a.id AS article_id, a.url, a.origin,"
        " a.summary, a.key_figures, a.text FROM stories s"
        f" JOIN articles a ON a.id = s.first_article_id WHERE {where}", params)
    if not rows:
        return []
    ids = [r["article_id"] for r in rows]
    marks = ",".join("?" * len(ids))
    topics: dict[int, list[str]] = {}
    for r in await db.fetchall(f"SELECT article_id, topic_id FROM article_topics WHERE"
                               f" article_id IN ({marks}) ORDER BY score DESC", ids):
        topics.setdefault(r[0], []).append(r[1])
    places: dict[int, set[str]] = {}
    for r in await db.fetchall(f"SELECT article_id, name FROM article_entities WHERE"
                               f" kind = 'place' AND article_id IN ({marks})", ids):
        places.setdefault(r[0], set()).add(r[1])
    story_ids = [r["id"] for r in rows]
    smarks = ",".join("?" * len(story_ids))
    sources: dict[int, list[tuple[str | None, str]]] = {}
    for r in await db.fetchall(
            f"SELECT story_id, url, origin FROM articles WHERE story_id IN ({smarks})"
            " ORDER BY COALESCE(published_at, fetched_at), id", story_ids):
        sources.setdefault(r[0], []).append((r[1], r[2]))
    out = []
    for r in rows:
        aid = r["article_id"]
        out.append(StoryRow(
            story_id=r["id"], title=r["title"], url=r["url"], origin=r["origin"],
            summary=r["summary"], key_figures=tuple(json.loads(r["key_figures"] or "[]")),
            text=r["text"], created_at=from_db_time(r["created_at"]),
            started_at=from_db_time(r["started_at"]), topics=tuple(topics.get(aid, ())),
            places=frozenset(places.get(aid, ())), sources=tuple(sources.get(r["id"], ()))))
    return out


async def stories_by_id(db: Database, story_ids: list[int]) -> list[StoryRow]:
    """The stories, in the order of ``story_ids``."""
    if not story_ids:
        return []
    rows = await _story_rows(db, f"s.id IN ({','.join('?' * len(story_ids))})",
                             tuple(story_ids))
    order = {sid: i for i, sid in enumerate(story_ids)}
    return sorted(rows, key=lambda r: order[r.story_id])


async def undelivered_since(db: Database, chat_id: int, since: datetime,
                            limit: int = 500) -> list[StoryRow]:
    """Stories created since ``since`` (inclusive: times are whole seconds) that were never
    queued for the chat, oldest first."""
    return await _story_rows(
        db, "COALESCE(s.created_at, s.updated_at) >= ? AND NOT EXISTS (SELECT 1 FROM deliveries d"
        " WHERE d.chat_id = ? AND d.story_id = s.id) ORDER BY s.created_at, s.id LIMIT ?",
        (to_db_time(since), chat_id, limit))
