"""Counts for /stats and the metrics endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.storage.db import Database, to_db_time, utcnow


@dataclass(frozen=True)
class Stats:
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


async def collect(db: Database) -> Stats:
    day_ago = to_db_time(utcnow() - timedelta(days=1))
    row = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM articles) AS articles,"
        " (SELECT COUNT(*) FROM stories) AS stories,"
        " (SELECT COUNT(*) FROM articles WHERE reprint_of IS NOT NULL) AS reprints,"
        " (SELECT COUNT(*) FROM chats WHERE status = 'active') AS active,"
        " (SELECT COUNT(*) FROM chats WHERE status = 'paused') AS paused,"
        " (SELECT COUNT(*) FROM chats WHERE status IN ('blocked', 'dead')) AS gone,"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox,"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at > ?) AS sent_day,"
        " (SELECT COUNT(*) FROM sources WHERE enabled = 1) AS sources,"
        " (SELECT COUNT(*) FROM sources WHERE enabled = 1 AND error_count > 0) AS failing",
        (day_ago,))
    assert row is not None
    return Stats(*(int(v) for v in row))  # columns in the order of the fields
