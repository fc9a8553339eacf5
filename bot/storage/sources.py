"""Sources and their health: conditional-GET validators, errors, backoff schedule."""

from __future__ import annotations

from datetime import datetime

from bot.config import SourceConfig
from bot.models import SourceState
from bot.storage.db import Database, from_db_time, to_db_time, utcnow


def _row_to_state(row) -> SourceState:
    return SourceState(
        id=row["id"], name=row["name"], kind=row["kind"], location=row["location"],
        interval=row["interval"], enabled=bool(row["enabled"]), managed_by=row["managed_by"],
        etag=row["etag"], last_modified=row["last_modified"], error_count=row["error_count"],
        last_error=row["last_error"], last_error_at=from_db_time(row["last_error_at"]),
        last_success_at=from_db_time(row["last_success_at"]),
        last_checked_at=from_db_time(row["last_checked_at"]),
        next_check_at=from_db_time(row["next_check_at"]))


async def sync_sources(db: Database, configured: tuple[SourceConfig, ...]) -> list[SourceState]:
    """Make the stored sources match the config; config sources no longer listed are disabled.

    A source whose location changed starts afresh (validators and errors cleared). Sources
    added by an admin are left alone.
    """
    now = to_db_time(utcnow())
    names = [s.name for s in configured]
    async with db.write() as conn:
        for s in configured:
            await conn.execute(
                "INSERT INTO sources (name, kind, location, interval, enabled, managed_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, 'config', ?)"
                " ON CONFLICT (name) DO UPDATE SET"
                "  etag = CASE WHEN location = excluded.location THEN etag END,"
                "  last_modified = CASE WHEN location = excluded.location THEN last_modified END,"
                "  error_count ="
                "   CASE WHEN location = excluded.location THEN error_count ELSE 0 END,"
                "  next_check_at = CASE WHEN location = excluded.location THEN next_check_at END,"
                "  kind = excluded.kind, location = excluded.location,"
                "  interval = excluded.interval, enabled = excluded.enabled,"
                "  managed_by = 'config'",
                (s.name, s.kind, s.location, s.interval, int(s.enabled), now))
        await conn.execute(
            f"UPDATE sources SET enabled = 0 WHERE managed_by = 'config'"
            f" AND name NOT IN ({','.join('?' * len(names))})", names)
    return await list_sources(db)


async def list_sources(db: Database) -> list[SourceState]:
    rows = await db.fetchall("SELECT * FROM sources ORDER BY id")
    return [_row_to_state(r) for r in rows]


async def get_source(db: Database, source_id: int) -> SourceState | None:
    row = await db.fetchone("SELECT * FROM sources WHERE id = ?", (source_id,))
    return _row_to_state(row) if row else None


async def record_success(db: Database, source_id: int, *, etag: str | None,
                         last_modified: str | None, next_check: datetime) -> None:
    now = to_db_time(utcnow())
    async with db.write() as conn:
        await conn.execute(
            "UPDATE sources SET etag = ?, last_modified = ?, error_count = 0,"
            " last_success_at = ?, last_checked_at = ?, next_check_at = ? WHERE id = ?",
            (etag, last_modified, now, now, to_db_time(next_check), source_id))


async def record_failure(db: Database, source_id: int, error: str,
                         next_check_for_errors) -> SourceState:
    """Count one more error and store the next check, computed from the new error count."""
    now = utcnow()
    async with db.write() as conn:
        row = await db.fetchone("SELECT error_count FROM sources WHERE id = ?", (source_id,))
        errors = (row["error_count"] if row else 0) + 1
        await conn.execute(
            "UPDATE sources SET error_count = ?, last_error = ?, last_error_at = ?,"
            " last_checked_at = ?, next_check_at = ? WHERE id = ?",
            (errors, error[:500], to_db_time(now), to_db_time(now),
             to_db_time(next_check_for_errors(errors)), source_id))
    state = await get_source(db, source_id)
    assert state is not None
    return state


async def find_source(db: Database, key: str) -> SourceState | None:
    """A source by its number ('12', '#12') or its name."""
    key = key.strip().removeprefix("#")
    if key.isdigit():
        return await get_source(db, int(key))
    row = await db.fetchone("SELECT * FROM sources WHERE name = ?", (key,))
    return _row_to_state(row) if row else None


async def source_at(db: Database, location: str) -> SourceState | None:
    row = await db.fetchone("SELECT * FROM sources WHERE location = ?", (location,))
    return _row_to_state(row) if row else None


async def add_source(db: Database, name: str, url: str, interval: int) -> SourceState:
    """A feed added by an admin; the name is made unique with a number when taken."""
    async with db.write() as conn:
        base, n = name, 1
        while await (await conn.execute("SELECT 1 FROM sources WHERE name = ?", (name,))
                     ).fetchone():
            n += 1
            name = f"{base}-{n}"
        cur = await conn.execute(
            "INSERT INTO sources (name, kind, location, interval, enabled, managed_by,"
            " created_at) VALUES (?, 'feed', ?, ?, 1, 'admin', ?)",
            (name, url, interval, to_db_time(utcnow())))
        source_id = cur.lastrowid
    state = await get_source(db, int(source_id))
    assert state is not None
    return state


async def remove_source(db: Database, source_id: int) -> None:
    """The source goes; its articles stay (their source_id becomes NULL)."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))


async def set_enabled(db: Database, source_id: int, enabled: bool) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE sources SET enabled = ? WHERE id = ?",
                           (int(enabled), source_id))
