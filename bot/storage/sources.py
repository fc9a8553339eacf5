"""Sources and their health: conditional-GET validators, errors, backoff schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import SourceConfig
from bot.models import SourceState
from bot.storage.db import Database, from_db_time, utcnow


def _state(row) -> SourceState:
    return SourceState(
        id=row["id"], name=row["name"], kind=row["kind"], location=row["location"],
        interval=row["interval"], enabled=bool(row["enabled"]), managed_by=row["managed_by"],
        etag=row["etag"], last_modified=row["last_modified"], error_count=row["error_count"],
        last_error=row["last_error"], last_error_at=from_db_time(row["last_error_at"]),
        last_success_at=from_db_time(row["last_success_at"]),
        last_checked_at=from_db_time(row["last_checked_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        failing_since=from_db_time(row["failing_since"]), min_interval=row["min_interval"],
        category=row["category"])


class Sources:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def sync(self, configured: tuple[SourceConfig, ...]) -> list[SourceState]:
        """Make the stored sources match the config; config sources no longer listed are
        disabled. A source whose location changed starts afresh (validators and errors
        cleared). Sources added by an admin are left alone."""
        now = utcnow()
        names = [s.name for s in configured]
        async with self.db.transaction() as tx:
            for s in configured:
                await tx.execute(
                    "INSERT INTO sources (name, kind, location, interval, enabled, managed_by,"
                    " created_at) VALUES (?, ?, ?, ?, ?, 'config', ?)"
                    " ON CONFLICT (name) DO UPDATE SET"
                    "  etag = CASE WHEN sources.location = excluded.location"
                    "   THEN sources.etag END,"
                    "  last_modified = CASE WHEN sources.location = excluded.location"
                    "   THEN sources.last_modified END,"
                    "  error_count = CASE WHEN sources.location = excluded.location"
                    "   THEN sources.error_count ELSE 0 END,"
                    "  next_check_at = CASE WHEN sources.location = excluded.location"
                    "   THEN sources.next_check_at END,"
                    "  kind = excluded.kind, location = excluded.location,"
                    "  interval = excluded.interval, enabled = excluded.enabled,"
                    "  managed_by = 'config'",
                    (s.name, s.kind, s.location, s.interval, int(s.enabled), now))
            await tx.execute("UPDATE sources SET enabled = 0 WHERE managed_by = 'config'"
                             + (f" AND name NOT IN ({','.join('?' * len(names))})"
                                if names else ""), names)
        return await self.all()

    async def all(self) -> list[SourceState]:
        async with self.db.read() as tx:
            return [_state(r) for r in await tx.fetchall("SELECT * FROM sources ORDER BY id")]

    async def get(self, source_id: int) -> SourceState | None:
        async with self.db.read() as tx:
            row = await tx.fetchone("SELECT * FROM sources WHERE id = ?", (source_id,))
        return _state(row) if row else None

    async def record_success(self, source_id: int, *, etag: str | None,
                             last_modified: str | None, next_check: datetime,
                             min_interval: int | None = None) -> None:
        """``min_interval``: the feed's own lower bound on polling (<ttl>, sy:updatePeriod)."""
        now = utcnow()
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, error_count = 0,"
                " last_success_at = ?, last_checked_at = ?, next_check_at = ?,"
                " failing_since = NULL, min_interval = ? WHERE id = ?",
                (etag, last_modified, now, now, next_check, min_interval, source_id))

    async def record_failure(self, source_id: int, error: str,
                             next_check_for_errors: Callable[[int], datetime]) -> SourceState:
        """Count one more error and store the next check, computed from the new error
        count."""
        now = utcnow()
        async with self.db.transaction() as tx:
            errors = (await tx.fetchval("SELECT error_count FROM sources WHERE id = ?",
                                        (source_id,)) or 0) + 1
            await tx.execute(
                "UPDATE sources SET error_count = ?, last_error = ?, last_error_at = ?,"
                " last_checked_at = ?, next_check_at = ?,"
                " failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                (errors, error[:500], now, now, next_check_for_errors(errors), now, source_id))
            row = await tx.fetchone("SELECT * FROM sources WHERE id = ?", (source_id,))
        assert row is not None
        return _state(row)

    async def find(self, key: str) -> SourceState | None:
        """A source by its number ('12', '#12') or its name."""
        key = key.strip().removeprefix("#")
        if key.isdigit():
            return await self.get(int(key))
        async with self.db.read() as tx:
            row = await tx.fetchone("SELECT * FROM sources WHERE name = ?", (key,))
        return _state(row) if row else None

    async def at(self, location: str) -> SourceState | None:
        async with self.db.read() as tx:
            row = await tx.fetchone("SELECT * FROM sources WHERE location = ?", (location,))
        return _state(row) if row else None

    async def add(self, name: str, url: str, interval: int, *, category: str | None = None,
                  identity: str | None = None) -> SourceState:
        """A feed added by an admin; the name is made unique with a number when taken.
        ``identity``: what tells the feed from others under other addresses (JSON)."""
        async with self.db.transaction() as tx:
            base, n = name, 1
            while await tx.fetchone("SELECT 1 FROM sources WHERE name = ?", (name,)):
                n += 1
                name = f"{base}-{n}"
            source_id = await tx.insert(
                "INSERT INTO sources (name, kind, location, interval, enabled, managed_by,"
                " created_at, category, identity) VALUES (?, 'feed', ?, ?, 1, 'admin', ?, ?, ?)",
                (name, url, interval, utcnow(), category, identity))
            row = await tx.fetchone("SELECT * FROM sources WHERE id = ?", (source_id,))
        assert row is not None
        return _state(row)

    async def identities(self) -> dict[int, str]:
        """Source id -> the stored identity of its feed (JSON), for sources that have one."""
        async with self.db.read() as tx:
            rows = await tx.fetchall("SELECT id, identity FROM sources"
                                     " WHERE identity IS NOT NULL")
        return {r[0]: r[1] for r in rows}

    async def rename(self, source_id: int, name: str) -> bool:
        """False when another source has that name."""
        async with self.db.transaction() as tx:
            if await tx.fetchone("SELECT 1 FROM sources WHERE name = ? AND id != ?",
                                 (name, source_id)):
                return False
            await tx.execute("UPDATE sources SET name = ? WHERE id = ?", (name, source_id))
            return True

    async def remove(self, source_id: int) -> None:
        """The source goes; its articles stay (their source_id becomes NULL)."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM sources WHERE id = ?", (source_id,))

    async def set_enabled(self, source_id: int, enabled: bool) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE sources SET enabled = ? WHERE id = ?",
                             (int(enabled), source_id))

    async def health(self) -> list[tuple[str, bool, int, datetime | None]]:
        """(name, enabled, consecutive errors, last success) of every source."""
        async with self.db.read() as tx:
            rows = await tx.fetchall("SELECT name, enabled, error_count, last_success_at"
                                     " FROM sources ORDER BY id")
        return [(r[0], bool(r[1]), int(r[2]), from_db_time(r[3])) for r in rows]
