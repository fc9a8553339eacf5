"""Reprint and story tables: fingerprints, the LSH band index, stories, lemma frequencies.

Every function here runs on the connection of an open write transaction (``Database.write``),
so a whole pipeline step for one article (insert, index, attach) is atomic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.dedup.fingerprint import Fingerprint, pack, unpack
from bot.storage.db import from_db_time, to_db_time, utcnow


@dataclass(frozen=True)
class StoredFingerprint:
    article_id: int
    fingerprint: Fingerprint
    reprint_of: int | None
    story_id: int | None
    at: datetime | None  # published, else fetched
    host: str | None
    label: str  # URL, or origin (#guid)
    story_terms: tuple[str, ...] = ()  # lemmas of title and lead, as for stories


@dataclass(frozen=True)
class StoryCandidate:
    article_id: int
    story_id: int
    terms: list[str]
    host: str | None
    at: datetime | None


async def _rows(conn: aiosqlite.Connection, sql: str, params: Iterable = ()) -> list:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())


async def lsh_candidates(conn: aiosqlite.Connection, keys: list[int], *,
                         exclude: int | None = None, limit: int = 50) -> list[int]:
    """Articles sharing at least one band key, most shared keys first."""
    if not keys:
        return []
    unique = list(dict.fromkeys(keys))
    rows = await _rows(
        conn, f"SELECT article_id, COUNT(*) AS n FROM lsh_bands WHERE key IN"
        f" ({','.join('?' * len(unique))}) GROUP BY article_id ORDER BY n DESC LIMIT ?",
        [*unique, limit + 1])
    return [r[0] for r in rows if r[0] != exclude][:limit]


_ARTICLE_FP = (
    "SELECT a.id, a.reprint_of, a.story_id, COALESCE(a.published_at, a.fetched_at) AS at,"
    " a.url, a.origin, a.guid, f.words, f.shingles, f.lede, f.title, f.story_terms"
    " FROM articles a JOIN article_fingerprints f ON f.article_id = a.id")


def _label(url: str | None, origin: str, guid: str | None) -> str:
    if url:
        return url
    return f"{origin}#{guid}" if guid else origin


async def load_fingerprints(conn: aiosqlite.Connection, ids: list[int],
                            host_of) -> list[StoredFingerprint]:
    if not ids:
        return []
    rows = await _rows(conn, f"{_ARTICLE_FP} WHERE a.id IN ({','.join('?' * len(ids))})", ids)
    out = []
    for r in rows:
        fp = Fingerprint(words=r["words"], shingles=unpack(r["shingles"]), lede=unpack(r["lede"]),
                         title=unpack(r["title"]), windows=())
        out.append(StoredFingerprint(r["id"], fp, r["reprint_of"], r["story_id"],
                                     from_db_time(r["at"]), host_of(r["url"], r["origin"]),
                                     _label(r["url"], r["origin"], r["guid"]),
                                     tuple(r["story_terms"].split())))
    return out


async def save_fingerprint(conn: aiosqlite.Connection, article_id: int, fp: Fingerprint,
                           index_keys: list[int], story_terms: list[str]) -> None:
    await conn.execute(
        "INSERT OR REPLACE INTO article_fingerprints (article_id, words, shingles, lede, title,"
        " story_terms) VALUES (?, ?, ?, ?, ?, ?)",
        (article_id, fp.words, pack(fp.shingles), pack(fp.lede), pack(fp.title),
         " ".join(story_terms)))
    await conn.executemany("INSERT OR IGNORE INTO lsh_bands (key, article_id) VALUES (?, ?)",
                           [(k, article_id) for k in dict.fromkeys(index_keys)])


async def add_document_frequencies(conn: aiosqlite.Connection, lemmas: set[str]) -> None:
    await conn.executemany(
        "INSERT INTO lemma_df (lemma, df) VALUES (?, 1)"
        " ON CONFLICT (lemma) DO UPDATE SET df = df + 1", [(w,) for w in lemmas])
    await conn.execute(
        "INSERT INTO corpus_stats (key, value) VALUES ('documents', 1)"
        " ON CONFLICT (key) DO UPDATE SET value = value + 1")


async def document_frequencies(conn: aiosqlite.Connection,
                               lemmas: Iterable[str]) -> tuple[int, dict[str, int]]:
    words = list(set(lemmas))
    row = await _rows(conn, "SELECT value FROM corpus_stats WHERE key = 'documents'")
    total = row[0][0] if row else 0
    df: dict[str, int] = {}
    for i in range(0, len(words), 500):
        chunk = words[i:i + 500]
        for r in await _rows(conn, f"SELECT lemma, df FROM lemma_df WHERE lemma IN"
                                   f" ({','.join('?' * len(chunk))})", chunk):
            df[r[0]] = r[1]
    return total, df


FULL_SCAN_MAX = 500  # articles in the window compared one by one; beyond, a prefilter
PREFILTER_TERMS = 16  # the rarest of the new article's terms looked up in the search index
PREFILTER_HITS = 1000  # search hits considered (best first) before the time window applies
PREFILTER_STORIES = 200  # stories whose articles are compared


async def story_candidates(conn: aiosqlite.Connection, start: datetime, end: datetime,
                           exclude: int, host_of, terms: Iterable[str] = (),
                           df: dict[str, int] | None = None) -> list[StoryCandidate]:
    """Articles with a story (reprints too: their headlines and leads describe the story),
    published between ``start`` and ``end``.

    When the window holds more than FULL_SCAN_MAX articles (a busy archive: a thousand feeds
    bring tens of thousands in 72 hours), only the articles of the stories that share the new
    article's rarest terms are returned, found through the lemma search index, so that the
    cost of placing an article does not grow with the archive.
    """
    window = (to_db_time(start), to_db_time(end))
    select = ("SELECT a.id, a.story_id, a.url, a.origin, f.story_terms,"
              " COALESCE(a.published_at, a.fetched_at) AS at"
              " FROM articles a JOIN article_fingerprints f ON f.article_id = a.id"
              " WHERE COALESCE(a.published_at, a.fetched_at) BETWEEN ? AND ?"
              " AND a.story_id IS NOT NULL AND a.id != ?")
    count = (await _rows(conn, "SELECT COUNT(*) FROM articles WHERE COALESCE(published_at,"
                               " fetched_at) BETWEEN ? AND ?", window))[0][0]
    rare = sorted({t for t in terms if t.isalnum()}, key=lambda t: ((df or {}).get(t, 0), t))
    if count <= FULL_SCAN_MAX or not rare:
        rows = await _rows(conn, select, (*window, exclude))
    else:
        query = " OR ".join(f'"{t}"' for t in rare[:PREFILTER_TERMS])
        first = (await _rows(conn, "SELECT MIN(id) FROM articles WHERE COALESCE(published_at,"
                                   " fetched_at) BETWEEN ? AND ?", window))[0][0] or 0
        rows = await _rows(
            conn,
            f"{select} AND a.story_id IN (SELECT DISTINCT h.story_id FROM ("
            " SELECT a2.story_id, COALESCE(a2.published_at, a2.fetched_at) AS at FROM"
            " (SELECT rowid AS id FROM article_search WHERE article_search MATCH ?"
            "  AND rowid >= ? ORDER BY rank LIMIT ?) hit"
            " JOIN articles a2 ON a2.id = hit.id) h WHERE h.at BETWEEN ? AND ? LIMIT ?)",
            (*window, exclude, query, first, PREFILTER_HITS, *window, PREFILTER_STORIES))
    return [StoryCandidate(r["id"], r["story_id"], r["story_terms"].split(),
                           host_of(r["url"], r["origin"]), from_db_time(r["at"])) for r in rows]


async def create_story(conn: aiosqlite.Connection, article_id: int, title: str,
                       at: datetime) -> int:
    cur = await conn.execute(
        "INSERT INTO stories (first_article_id, title, started_at, updated_at, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (article_id, title, to_db_time(at), to_db_time(at), to_db_time(utcnow())))
    return int(cur.lastrowid)


async def attach(conn: aiosqlite.Connection, article_id: int, story_id: int,
                 reprint_of: int | None, similarity: float | None) -> None:
    await conn.execute(
        "UPDATE articles SET story_id = ?, reprint_of = ?, similarity = ? WHERE id = ?",
        (story_id, reprint_of, similarity, article_id))
    await conn.execute(
        "UPDATE stories SET updated_at = MAX(updated_at, (SELECT COALESCE(published_at,"
        " fetched_at) FROM articles WHERE id = ?)) WHERE id = ?", (article_id, story_id))


async def make_original(conn: aiosqlite.Connection, new_id: int, old_root: int,
                        story_id: int, title: str, at: datetime) -> None:
    """An earlier article arrived after its reprint: it becomes the original of that group
    and the story's first article."""
    await conn.execute("UPDATE articles SET reprint_of = ? WHERE id = ? OR reprint_of = ?",
                       (new_id, old_root, old_root))
    await conn.execute("UPDATE articles SET reprint_of = NULL WHERE id = ?", (new_id,))
    await conn.execute(
        "UPDATE stories SET first_article_id = ?, title = ?, started_at = MIN(started_at, ?)"
        " WHERE id = ? AND started_at >= ?",
        (new_id, title, to_db_time(at), story_id, to_db_time(at)))


async def story_of(conn: aiosqlite.Connection, article_id: int) -> int | None:
    rows = await _rows(conn, "SELECT story_id FROM articles WHERE id = ?", (article_id,))
    return rows[0][0] if rows else None


async def story_sources(conn: aiosqlite.Connection, story_id: int) -> list:
    """The articles of a story, earliest first: (id, url, origin, source_id, at, reprint_of)."""
    return await _rows(
        conn, "SELECT id, url, origin, guid, source_id, COALESCE(published_at, fetched_at) AS at,"
        " reprint_of FROM articles WHERE story_id = ? ORDER BY at, id", (story_id,))


async def save_understanding(conn: aiosqlite.Connection, article_id: int, understood) -> None:
    """Topic tags (with the terms that earned each), summary, key figures, people,
    organisations and places of an article."""
    tags = understood.topics
    await conn.execute("UPDATE articles SET summary = ?, key_figures = ? WHERE id = ?",
                       (understood.summary, json.dumps(list(understood.key_figures),
                                                       ensure_ascii=False), article_id))
    e = understood.entities
    await conn.executemany(
        "INSERT OR IGNORE INTO article_entities (article_id, kind, name) VALUES (?, ?, ?)",
        [(article_id, kind, name) for kind, names in (
            ("person", e.people), ("organization", e.organizations),
            ("location", e.locations), ("place", e.places)) for name in names])
    await conn.executemany(
        "INSERT OR REPLACE INTO article_topics (article_id, topic_id, score, terms)"
        " VALUES (?, ?, ?, ?)",
        [(article_id, t.id, t.score, json.dumps(list(t.terms), ensure_ascii=False))
         for t in tags])
