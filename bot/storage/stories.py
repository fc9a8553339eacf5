"""Stories: the groups of articles on one event, their search index, and the views
subscribers get (digest candidates, search results, edits)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.storage.db import Database, Tx, from_db_time, utcnow

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
    # (url, origin, source name or None) of every article, earliest first
    sources: tuple[tuple[str | None, str, str | None], ...]
    names: frozenset[str] = frozenset()  # people and organisations of the first article
    published: datetime | None = None  # the first article's time (published, else seen)


# ---------------------------------------------------------------- inside Store.place


async def create(tx: Tx, article_id: int, title: str, at: datetime, *,
                 news: bool = True) -> int:
    """A new story; ``news`` False: stored and searchable, never delivered (old news, a
    source's baseline, the seeds)."""
    return await tx.insert(
        "INSERT INTO stories (first_article_id, title, started_at, updated_at, created_at,"
        " news) VALUES (?, ?, ?, ?, ?, ?)", (article_id, title, at, at, utcnow(), int(news)))


async def attach(tx: Tx, article_id: int, story_id: int, reprint_of: int | None,
                 similarity: float | None) -> None:
    await tx.execute(
        "UPDATE articles SET story_id = ?, reprint_of = ?, similarity = ? WHERE id = ?",
        (story_id, reprint_of, similarity, article_id))
    at = "(SELECT COALESCE(published_at, fetched_at) FROM articles WHERE id = ?)"
    await tx.execute(f"UPDATE stories SET updated_at = {at} WHERE id = ? AND updated_at < {at}",
                     (article_id, story_id, article_id))


async def make_original(tx: Tx, new_id: int, old_root: int, story_id: int, title: str,
                        at: datetime) -> None:
    """An earlier article arrived after its reprint: it becomes the original of that group
    and the story's first article."""
    await tx.execute("UPDATE articles SET reprint_of = ? WHERE id = ? OR reprint_of = ?",
                     (new_id, old_root, old_root))
    await tx.execute("UPDATE articles SET reprint_of = NULL WHERE id = ?", (new_id,))
    await tx.execute(
        "UPDATE stories SET first_article_id = ?, title = ?, started_at = ?"
        " WHERE id = ? AND started_at >= ?", (new_id, title, at, story_id, at))


async def index_for_search(tx: Tx, article_id: int, title_lemmas: list[str],
                           body_lemmas: list[str]) -> None:
    """Put an original article's lemmas in the search index."""
    if await tx.execute("INSERT INTO search_indexed (article_id) VALUES (?)"
                        " ON CONFLICT DO NOTHING", (article_id,)) == 0:
        return
    await tx.execute(tx.dialect.search_insert, (article_id, " ".join(title_lemmas),
                      " ".join(body_lemmas[:SEARCH_BODY_LEMMAS])))


async def note_grew(tx: Tx, story_id: int, now: datetime) -> None:
    """A story gained an article: its messages sent at once may be edited to list it."""
    await tx.execute("INSERT INTO story_updates (story_id, since) VALUES (?, ?)"
                     " ON CONFLICT DO NOTHING", (story_id, now))


# ---------------------------------------------------------------- reads


async def _story_rows(tx: Tx, where: str, params: tuple) -> list[StoryRow]:
    rows = await tx.fetchall(
        "SELECT s.id, s.title, s.created_at, s.started_at, a.id AS article_id, a.url, a.origin,"
        " a.summary, a.key_figures, a.text, COALESCE(a.published_at, a.fetched_at) AS at"
        " FROM stories s"
        f" JOIN articles a ON a.id = s.first_article_id WHERE {where}", params)
    if not rows:
        return []
    ids = [r["article_id"] for r in rows]
    marks = ",".join("?" * len(ids))
    topics: dict[int, list[str]] = {}
    for r in await tx.fetchall(f"SELECT article_id, topic_id FROM article_topics WHERE"
                               f" article_id IN ({marks}) ORDER BY score DESC, topic_id", ids):
        topics.setdefault(r[0], []).append(r[1])
    places: dict[int, set[str]] = {}
    names: dict[int, set[str]] = {}
    for r in await tx.fetchall(f"SELECT article_id, kind, name FROM article_entities WHERE"
                               f" kind IN ('place', 'person', 'organization')"
                               f" AND article_id IN ({marks})", ids):
        (places if r[1] == "place" else names).setdefault(r[0], set()).add(r[2])
    story_ids = [r["id"] for r in rows]
    smarks = ",".join("?" * len(story_ids))
    sources: dict[int, list[tuple[str | None, str, str | None]]] = {}
    for r in await tx.fetchall(
            f"SELECT a.story_id, a.url, a.origin, src.name FROM articles a"
            f" LEFT JOIN sources src ON src.id = a.source_id WHERE a.story_id IN ({smarks})"
            " ORDER BY COALESCE(a.published_at, a.fetched_at), a.id", story_ids):
        sources.setdefault(r[0], []).append((r[1], r[2], r[3]))
    out = []
    for r in rows:
        aid = r["article_id"]
        out.append(StoryRow(
            story_id=r["id"], title=r["title"], url=r["url"], origin=r["origin"],
            summary=r["summary"], key_figures=tuple(json.loads(r["key_figures"] or "[]")),
            text=r["text"], created_at=from_db_time(r["created_at"]),
            started_at=from_db_time(r["started_at"]), topics=tuple(topics.get(aid, ())),
            places=frozenset(places.get(aid, ())), sources=tuple(sources.get(r["id"], ())),
            names=frozenset(n.casefold() for n in names.get(aid, ())),
            published=from_db_time(r["at"])))
    return out


class Stories:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def index_for_search(self, batch: list[tuple[int, list[str], list[str]]]) -> None:
        """(article id, title lemmas, body lemmas) of originals stored before the index."""
        async with self.db.transaction() as tx:
            for article_id, title_lemmas, body_lemmas in batch:
                await index_for_search(tx, article_id, title_lemmas, body_lemmas)

    async def rebuild_search(self, lemmatize) -> int:
        """Empty the search index and put every original article back in it (a damaged
        index: `pressbot reindex`). ``lemmatize(title, text)`` gives the lemmas."""
        async with self.db.transaction() as tx:
            for statement in tx.dialect.search_reset():
                await tx.execute(statement)
            await tx.execute("DELETE FROM search_indexed")
        done = 0
        while True:
            async with self.db.read() as tx:
                rows = await tx.fetchall(
                    "SELECT a.id, a.title, a.text FROM articles a LEFT JOIN search_indexed s"
                    " ON s.article_id = a.id WHERE s.article_id IS NULL"
                    " AND a.reprint_of IS NULL AND a.story_id IS NOT NULL ORDER BY a.id"
                    " LIMIT 500")
            if not rows:
                return done
            await self.index_for_search([(r[0], *lemmatize(r[1], r[2])) for r in rows])
            done += len(rows)

    async def search(self, query: str, limit: int = 5, offset: int = 0) -> list[int]:
        """Story ids best matching an FTS5 query: by relevance (BM25, a title hit weighs
        three times a body hit), newest first among equals; ``offset`` pages on."""
        async with self.db.read() as tx:
            rows = await tx.fetchall(
                f"WITH hits AS ({tx.dialect.search_hits})"
                " SELECT a.story_id, MIN(ROUND(h.score, 2)) AS score, MAX(s.started_at) AS at"
                " FROM hits h JOIN articles a ON a.id = h.article_id"
                " JOIN stories s ON s.id = a.story_id"
                " GROUP BY a.story_id ORDER BY score, at DESC LIMIT ? OFFSET ?",
                (tx.dialect.search_query(query), limit, offset))
        return [r[0] for r in rows]

    async def by_id(self, story_ids: list[int]) -> list[StoryRow]:
        """The stories, in the order of ``story_ids``."""
        if not story_ids:
            return []
        async with self.db.read() as tx:
            rows = await _story_rows(tx, f"s.id IN ({','.join('?' * len(story_ids))})",
                                     tuple(story_ids))
        order = {sid: i for i, sid in enumerate(story_ids)}
        return sorted(rows, key=lambda r: order[r.story_id])

    async def undelivered_since(self, chat_id: int, since: datetime,
                                limit: int = 500) -> list[StoryRow]:
        """Stories that are news, created since ``since`` (inclusive: times are whole
        seconds) and never queued for the chat, oldest first."""
        async with self.db.read() as tx:
            return await _story_rows(
                tx, "COALESCE(s.created_at, s.updated_at) >= ? AND s.news = 1"
                " AND NOT EXISTS (SELECT 1 FROM"
                " deliveries d WHERE d.chat_id = ? AND d.story_id = s.id)"
                " ORDER BY s.created_at, s.id LIMIT ?", (since, chat_id, limit))

    async def articles_of(self, story_id: int) -> list:
        """The articles of a story, earliest first: (id, url, origin, guid, source_id, at,
        reprint_of)."""
        async with self.db.read() as tx:
            return await tx.fetchall(
                "SELECT id, url, origin, guid, source_id, COALESCE(published_at, fetched_at)"
                " AS at, reprint_of FROM articles WHERE story_id = ? ORDER BY at, id",
                (story_id,))
