"""Articles: insert with exact de-duplication (canonical URL, content hash, guid per source)."""

from __future__ import annotations

from dataclasses import replace

import aiosqlite

from bot.models import Article
from bot.storage.db import Database, from_db_time, to_db_time, utcnow


def _row_to_article(row) -> Article:
    return Article(
        id=row["id"], source_id=row["source_id"], url=row["url"], guid=row["guid"],
        origin=row["origin"], title=row["title"], text=row["text"],
        published=from_db_time(row["published_at"]), fetched_at=from_db_time(row["fetched_at"]),
        content_hash=row["content_hash"], story_id=row["story_id"],
        reprint_of=row["reprint_of"])


async def find_existing(db: Database, article: Article) -> Article | None:
    """The stored article that ``article`` exactly duplicates, if any."""
    row = await db.fetchone(
        "SELECT * FROM articles WHERE content_hash = ? OR (url IS NOT NULL AND url = ?) "
        "OR (guid IS NOT NULL AND guid = ? AND source_id IS ?) LIMIT 1",
        (article.content_hash, article.url, article.guid, article.source_id))
    return _row_to_article(row) if row else None


async def insert_row(conn: aiosqlite.Connection, article: Article) -> Article:
    """Insert inside an open write transaction; the caller has ruled out duplicates."""
    fetched = article.fetched_at or utcnow()
    cur = await conn.execute(
        "INSERT INTO articles (source_id, url, guid, origin, title, text, published_at,"
        " fetched_at, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (article.source_id, article.url, article.guid, article.origin, article.title,
         article.text, to_db_time(article.published), to_db_time(fetched),
         article.content_hash))
    return replace(article, id=cur.lastrowid, fetched_at=fetched)


async def insert_article(db: Database, article: Article) -> tuple[Article, bool]:
    """Store ``article`` unless it is an exact duplicate; return (stored row, inserted?)."""
    async with db.write() as conn:
        existing = await find_existing(db, article)
        if existing is not None:
            return existing, False
        return await insert_row(conn, article), True


async def known_urls(db: Database, urls: list[str]) -> set[str]:
    """Which of ``urls`` are stored already (so their pages are not fetched again)."""
    found: set[str] = set()
    for i in range(0, len(urls), 500):
        chunk = urls[i:i + 500]
        rows = await db.fetchall(
            f"SELECT url FROM articles WHERE url IN ({','.join('?' * len(chunk))})", chunk)
        found.update(r["url"] for r in rows)
    return found


async def latest_articles(db: Database, limit: int) -> list[Article]:
    rows = await db.fetchall(
        "SELECT * FROM articles ORDER BY COALESCE(published_at, fetched_at) DESC, id DESC LIMIT ?",
        (limit,))
    return [_row_to_article(r) for r in rows]


async def count_articles(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) AS n FROM articles")
    return int(row["n"])


async def unindexed_articles(db: Database, limit: int = 500) -> list[Article]:
    """Stored articles without a fingerprint (stored before reprint detection), oldest first."""
    rows = await db.fetchall(
        "SELECT a.* FROM articles a LEFT JOIN article_fingerprints f ON f.article_id = a.id"
        " WHERE f.article_id IS NULL ORDER BY COALESCE(a.published_at, a.fetched_at), a.id"
        " LIMIT ?", (limit,))
    return [_row_to_article(r) for r in rows]
