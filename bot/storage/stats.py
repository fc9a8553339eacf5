"""Counts for /stats and the metrics endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.db import Database, from_db_time, to_db_time, utcnow


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
    sent_total: int


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
        " (SELECT COUNT(*) FROM sources WHERE enabled = 1 AND error_count > 0) AS failing,"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'sent') AS sent_total",
        (day_ago,))
    assert row is not None
    return Stats(*(int(v) for v in row))  # columns in the order of the fields


async def source_health(db: Database) -> list[tuple[str, bool, int, datetime | None]]:
    """(name, enabled, consecutive errors, last success) of every source."""
    rows = await db.fetchall("SELECT name, enabled, error_count, last_success_at FROM sources"
                             " ORDER BY id")
    return [(r[0], bool(r[1]), int(r[2]), from_db_time(r[3])) for r in rows]


async def integrity(db: Database, quick: bool = True) -> str:
    row = await db.fetchone("PRAGMA quick_check" if quick else "PRAGMA integrity_check")
    assert row is not None
    return str(row[0])
