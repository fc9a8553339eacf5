"""Articles: exact de-duplication (canonical URL, content hash, guid per source), what
understanding made of each (topics, entities, summary, figures), and listings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from bot.models import Article
from bot.storage.db import Database, Tx, from_db_time, utcnow
from bot.understand.analyzer import Understood


def article_of(row) -> Article:
    return Article(
        id=row["id"], source_id=row["source_id"], url=row["url"], guid=row["guid"],
        origin=row["origin"], title=row["title"], text=row["text"],
        published=from_db_time(row["published_at"]), fetched_at=from_db_time(row["fetched_at"]),
        content_hash=row["content_hash"], story_id=row["story_id"],
        reprint_of=row["reprint_of"])


async def find_existing(tx: Tx, article: Article) -> Article | None:
    """The stored article that ``article`` exactly duplicates, if any."""
    row = await tx.fetchone(
        "SELECT * FROM articles WHERE content_hash = ? OR (url IS NOT NULL AND url = ?) "
        "OR (guid IS NOT NULL AND guid = ? AND source_id IS NOT DISTINCT FROM ?) LIMIT 1",
        (article.content_hash, article.url, article.guid, article.source_id))
    return article_of(row) if row else None


async def insert(tx: Tx, article: Article) -> Article:
    """Insert inside a write transaction; the caller has ruled out duplicates."""
    fetched = article.fetched_at or utcnow()
    article_id = await tx.insert(
        "INSERT INTO articles (source_id, url, guid, origin, title, text, published_at,"
        " fetched_at, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (article.source_id, article.url, article.guid, article.origin, article.title,
         article.text, article.published, fetched, article.content_hash))
    return replace(article, id=article_id, fetched_at=fetched)


async def save_understanding(tx: Tx, article_id: int, understood: Understood) -> None:
    """Topic tags (with the terms that earned each), summary, key figures, people,
    organisations and places of an article."""
    await tx.execute("UPDATE articles SET summary = ?, key_figures = ? WHERE id = ?",
                     (understood.summary, json.dumps(list(understood.key_figures),
                                                     ensure_ascii=False), article_id))
    e = understood.entities
    await tx.executemany(
        "INSERT INTO article_entities (article_id, kind, name) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(article_id, kind, name) for kind, names in (
            ("person", e.people), ("organization", e.organizations),
            ("location", e.locations), ("place", e.places)) for name in names])
    await tx.executemany(
        "INSERT INTO article_topics (article_id, topic_id, score, terms) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (article_id, topic_id) DO UPDATE SET score = excluded.score,"
        " terms = excluded.terms",
        [(article_id, t.id, t.score, json.dumps(list(t.terms), ensure_ascii=False))
         for t in understood.topics])



async def urls_in(tx: Tx, table: str, urls: list[str]) -> set[str]:
    """Which of ``urls`` the ``url`` column of ``table`` holds (in chunks of 500 parameters)."""
    found: set[str] = set()
    for i in range(0, len(urls), 500):
        chunk = urls[i:i + 500]
        rows = await tx.fetchall(
            f"SELECT url FROM {table} WHERE url IN ({','.join('?' * len(chunk))})", chunk)
        found.update(r[0] for r in rows)
    return found

class Articles:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, article: Article) -> tuple[Article, bool]:
        """Store ``article`` unless it is an exact duplicate; return (stored row,
        inserted?). (Articles of feeds go through ``Store.place``.)"""
        async with self.db.transaction() as tx:
            existing = await find_existing(tx, article)
            if existing is not None:
                return existing, False
            return await insert(tx, article), True

    async def known_urls(self, urls: list[str]) -> set[str]:
        """Which of ``urls`` are stored already (so their pages are not fetched again)."""
        async with self.db.read() as tx:
            return await urls_in(tx, "articles", urls)

    async def latest(self, limit: int) -> list[Article]:
        async with self.db.read() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM articles ORDER BY COALESCE(published_at, fetched_at) DESC,"
                " id DESC LIMIT ?", (limit,))
        return [article_of(r) for r in rows]

    async def top_names(self, since: datetime, limit: int = 16) -> list[tuple[str, str, int]]:
        """(kind, name, articles) of the people and organisations most mentioned since
        ``since``, in original articles (reprints do not count twice)."""
        async with self.db.read() as tx:
            rows = await tx.fetchall(
                "SELECT e.kind, e.name, COUNT(*) AS n FROM article_entities e"
                " JOIN articles a ON a.id = e.article_id"
                " WHERE e.kind IN ('person', 'organization') AND a.reprint_of IS NULL"
                " AND COALESCE(a.published_at, a.fetched_at) >= ?"
                " GROUP BY e.kind, e.name ORDER BY n DESC, e.name LIMIT ?", (since, limit))
        return [(r[0], r[1], int(r[2])) for r in rows]

    async def count(self) -> int:
        async with self.db.read() as tx:
            return int(await tx.fetchval("SELECT COUNT(*) FROM articles"))

    async def unindexed(self, limit: int = 500) -> list[Article]:
        """Stored articles without a fingerprint (stored before reprint detection), oldest
        first."""
        async with self.db.read() as tx:
            rows = await tx.fetchall(
                "SELECT a.* FROM articles a LEFT JOIN article_fingerprints f"
                " ON f.article_id = a.id WHERE f.article_id IS NULL"
                " ORDER BY COALESCE(a.published_at, a.fetched_at), a.id LIMIT ?", (limit,))
        return [article_of(r) for r in rows]

    async def unsearchable(self, limit: int = 500) -> list[tuple[int, str, str]]:
        """Original articles not yet in the search index (stored by an older pressbot)."""
        async with self.db.read() as tx:
            rows = await tx.fetchall(
                "SELECT a.id, a.title, a.text FROM articles a LEFT JOIN search_indexed s"
                " ON s.article_id = a.id WHERE s.article_id IS NULL AND a.reprint_of IS NULL"
                " AND a.story_id IS NOT NULL ORDER BY a.id LIMIT ?", (limit,))
        return [(r[0], r[1], r[2]) for r in rows]
