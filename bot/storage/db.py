"""One SQLite connection per process: WAL, foreign keys, busy timeout, migrations, one writer.

All writes go through ``Database.write()``, which takes an asyncio lock and opens
``BEGIN IMMEDIATE``, so a write never meets a lock upgrade deadlock and never interleaves with
another coroutine's write. A *sandbox* database (``pressbot analyze --db``) wraps everything in one
outer transaction that is rolled back on close: the archive is read, never changed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """The database file cannot be opened or upgraded."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_db_time(value: datetime | None) -> str | None:
    """Timestamps are stored as UTC ISO-8601 text, which sorts in time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: str, sandbox: bool) -> None:
        self.conn = conn
        self.path = path
        self.sandbox = sandbox
        self._lock = asyncio.Lock()
        self._savepoint = 0

    @classmethod
    async def open(cls, path: Path | str, *, sandbox: bool = False) -> Database:
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open database {target}: {exc}") from None
        conn.row_factory = aiosqlite.Row
        db = cls(conn, target, sandbox)
        try:
            await db._configure()
            await db.migrate()
        except DatabaseError:
            await conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise DatabaseError(f"cannot use database {target}: {exc}") from None
        if sandbox:
            await conn.execute("BEGIN IMMEDIATE")
        return db

    async def _configure(self) -> None:
        await self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            await self.conn.execute("PRAGMA journal_mode = WAL")
            await self.conn.execute("PRAGMA synchronous = NORMAL")
        await self.conn.execute("PRAGMA foreign_keys = ON")

    async def close(self) -> None:
        if self.sandbox:
            await self.conn.execute("ROLLBACK")
        await self.conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        row = await self.fetchone(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        if row is None:
            return 0
        row = await self.fetchone("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        return int(row["v"])

    async def migrate(self) -> list[int]:
        """Apply every migration not yet recorded, in order, each in its own transaction."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = await self.schema_version()
        newest = MIGRATIONS[-1][0]
        if current > newest:
            raise DatabaseError(
                f"database {self.path} has schema {current}, newer than this pressbot ({newest})")
        applied = []
        for version, name, statements in MIGRATIONS:
            if version <= current:
                continue
            async with self.write() as conn:
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, to_db_time(utcnow())))
            applied.append(version)
        return applied

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction; the only way to change the database."""
        async with self._lock:
            if self.sandbox:
                self._savepoint += 1
                name = f"sp{self._savepoint}"
                await self.conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self.conn
                except BaseException:
                    await self.conn.execute(f"ROLLBACK TO {name}")
                    await self.conn.execute(f"RELEASE {name}")
                    raise
                await self.conn.execute(f"RELEASE {name}")
                return
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()
