"""Teasers waiting for their article page: an entry whose page could not be fetched is kept
here (not stored as an article yet) and tried again with backoff; it becomes an article, and
is delivered, once its page came or its last attempt failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.models import Entry
from bot.storage.articles import urls_in
from bot.storage.db import Database, from_db_time, utcnow


@dataclass(frozen=True)
class Teaser:
    entry: Entry
    source_id: int | None
    news: bool
    attempts: int
    last_error: str | None


def _dump(e: Entry) -> str:
    return json.dumps({"title": e.title, "text": e.text, "url": e.url, "guid": e.guid,
                       "published": e.published.isoformat() if e.published else None,
                       "origin": e.origin, "html": e.text_is_html}, ensure_ascii=False)


def _load(raw: str) -> Entry:
    d = json.loads(raw)
    return Entry(title=d["title"], text=d["text"], url=d["url"], guid=d["guid"],
                 published=from_db_time(d["published"]), origin=d["origin"],
                 text_is_html=bool(d["html"]))


class Teasers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def wait(self, entry: Entry, source_id: int | None, news: bool, error: str,
                   next_at: datetime) -> None:
        """Keep a teaser whose page failed, to be tried again at ``next_at``."""
        assert entry.url
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO teasers (url, source_id, entry, news, attempts, next_at,"
                " last_error, created_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET attempts = teasers.attempts + 1,"
                " next_at = excluded.next_at, last_error = excluded.last_error",
                (entry.url, source_id, _dump(entry), int(news), next_at, error[:300],
                 utcnow()))

    async def due(self, now: datetime, limit: int = 50) -> list[Teaser]:
        async with self.db.read() as tx:
            rows = await tx.fetchall("SELECT * FROM teasers WHERE next_at <= ?"
                                     " ORDER BY next_at LIMIT ?", (now, limit))
        return [Teaser(_load(r["entry"]), r["source_id"], bool(r["news"]), r["attempts"],
                       r["last_error"]) for r in rows]

    async def done(self, url: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM teasers WHERE url = ?", (url,))

    async def waiting(self, urls: list[str]) -> set[str]:
        """Which of ``urls`` are teasers waiting (a poll must not take them again)."""
        async with self.db.read() as tx:
            return await urls_in(tx, "teasers", urls)
