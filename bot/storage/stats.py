"""Counts for /stats and the metrics endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.storage.db import Database, utcnow


@dataclass(frozen=True)
class Counts:
    articles: int
    stories: int
    reprints: int
    active: int
    paused: int
    gone: int
    outbox: int
    sent_day: int
    sources: int
    failing: int
    sent_total: int
    failed: int


class Stats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def collect(self) -> Counts:
        day_ago = utcnow() - timedelta(days=1)
        async with self.db.read() as tx:
            row = await tx.fetchone(
                "SELECT (SELECT COUNT(*) FROM articles) AS articles,"
                " (SELECT COUNT(*) FROM stories) AS stories,"
                " (SELECT COUNT(*) FROM articles WHERE reprint_of IS NOT NULL) AS reprints,"
                " (SELECT COUNT(*) FROM chats WHERE status = 'active') AS active,"
                " (SELECT COUNT(*) FROM chats WHERE status = 'paused') AS paused,"
                " (SELECT COUNT(*) FROM chats WHERE status IN ('blocked', 'dead')) AS gone,"
                " (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox,"
                " (SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at > ?)"
                "  AS sent_day,"
                " (SELECT COUNT(*) FROM sources WHERE enabled = 1) AS sources,"
                " (SELECT COUNT(*) FROM sources WHERE enabled = 1 AND error_count > 0)"
                "  AS failing,"
                " (SELECT COUNT(*) FROM outbox WHERE status = 'sent') AS sent_total,"
                " (SELECT COUNT(*) FROM outbox WHERE status = 'failed') AS failed",
                (day_ago,))
        assert row is not None
        return Counts(*(int(v) for v in row))  # columns in the order of the fields

    async def integrity(self, quick: bool = True) -> str:
        async with self.db.read() as tx:
            return str(await tx.fetchval(tx.dialect.integrity(quick)))
