"""The SQLite database: connections, PRAGMAs, migrations, transactions.

Two connections to one file in WAL mode: a writer and a reader. Every change goes through
``Database.transaction()``, which takes an asyncio lock and opens ``BEGIN IMMEDIATE``, so a write
never meets a lock-upgrade deadlock and never interleaves with another coroutine's write. Reads
go through ``Database.read()`` on the reader connection: they see the last committed state and
never wait behind a long write (a bot command is answered while a big feed is being stored).

A *sandbox* database (``pressbot analyze --db``) wraps everything in one outer transaction on
one connection that is rolled back on close: the archive is read, never changed.

Only the storage package sees a connection: ``Tx`` is the handle its modules run SQL on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.dialect import SQLITE
from bot.storage.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """The database cannot be opened, read or written; the message is one line."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_db_time(value: datetime | None) -> str | None:
    """Timestamps are stored as UTC ISO-8601 text, which sorts in time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value)


def _param(value: Any) -> Any:
    return to_db_time(value) if isinstance(value, datetime) else value


def _params(params: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(_param(p) for p in params)


def describe(exc: BaseException) -> str:
    """One line for an SQLite error, whatever bytes its message holds."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.encode("utf-8", "replace").decode("utf-8")[:200]


def damaged_hint(exc: BaseException) -> str:
    """What to do about an error that says the file is damaged."""
    text = str(exc).lower()
    if "article_search" in text or "fts5" in text:
        return " (the search index is damaged: `pressbot reindex` rebuilds it)"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (" (the file is damaged: `pressbot restore BACKUP` brings back a backup; a"
                " damaged search index alone is rebuilt by `pressbot reindex`)")
    if "full" in text:
        return " (the disk is full: free some space)"
    return ""


@contextmanager
def _search_index_damage(sql: str) -> Iterator[None]:
    """Garbage in the search index's pages can read as a record of absurd length, and SQLite
    answers SQLITE_NOMEM (Python's MemoryError) instead of "malformed": for a query of the
    search index that is damage, with its remedy."""
    try:
        yield
    except MemoryError:
        if "article_search" not in sql:
            raise
        raise sqlite3.DatabaseError("fts5: the search index (article_search) cannot be read:"
                                    " SQLite ran out of memory reading it") from None


class Tx:
    """SQL on one connection, inside a transaction (writes) or not (reads). Datetime
    parameters are stored as UTC text."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        async with self._conn.execute(sql, _params(params)) as cur:
            return cur.rowcount

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run an INSERT; returns the new row's id."""
        async with self._conn.execute(sql, _params(params)) as cur:
            return int(cur.lastrowid or 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, [_params(r) for r in rows])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        with _search_index_damage(sql):
            async with self._conn.execute(sql, _params(params)) as cur:
                return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        with _search_index_damage(sql):
            async with self._conn.execute(sql, _params(params)) as cur:
                return await cur.fetchone()

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None

    async def iterate(self, sql: str, params: Iterable[Any] = (), size: int = 1000
                      ) -> AsyncIterator[list[aiosqlite.Row]]:
        """The rows of a query in lists of at most ``size`` (a whole table, read in bounded
        memory: ``pressbot migrate``)."""
        async with self._conn.execute(sql, _params(params)) as cur:
            while rows := await cur.fetchmany(size):
                yield list(rows)


async def _connect(target: str) -> aiosqlite.Connection:
    try:
        conn = await aiosqlite.connect(target, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {target}: {describe(exc)}") from None
    conn.row_factory = aiosqlite.Row
    return conn


class Database:
    dialect = SQLITE

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: str,
                 sandbox: bool, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        self._writer = writer
        self._reader = reader
        self.path = path
        self.sandbox = sandbox
        self._lock = asyncio.Lock()
        self._savepoint = 0

    @classmethod
    async def open(cls, path: Path | str, *, sandbox: bool = False,
                   busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
        """``busy_timeout_ms``: how long a write waits for another process's lock."""
        target = str(path)
        if target != ":memory:":
            try:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder of database {target}:"
                                    f" {exc.strerror or exc}") from None
        writer = await _connect(target)
        reader = writer
        db = cls(writer, reader, target, sandbox, busy_timeout_ms)
        try:
            await db._configure(writer)
            await db.migrate()
            if target != ":memory:" and not sandbox:
                reader = await _connect(target)
                await db._configure(reader, reader=True)
                db._reader = reader
        except DatabaseError:
            await db._close_connections()
            raise
        except (sqlite3.Error, UnicodeDecodeError, ValueError) as exc:
            await db._close_connections()
            if isinstance(exc, UnicodeDecodeError | ValueError):  # bytes where names belong
                why = "its schema is damaged"
                hint = " (`pressbot restore BACKUP` brings back a backup)"
            else:
                why, hint = describe(exc), damaged_hint(exc)
            raise DatabaseError(f"cannot use database {target}: {why}{hint}") from None
        if sandbox:
            await writer.execute("BEGIN IMMEDIATE")
        return db

    async def _configure(self, conn: aiosqlite.Connection, *, reader: bool = False) -> None:
        pragmas = [f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}"]
        if self.path != ":memory:" and not reader:
            pragmas += ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"]
        pragmas += ["PRAGMA foreign_keys = ON",
                    # A schema that cannot be read (a damaged file) fails here, in one line.
                    "SELECT COUNT(*) FROM sqlite_master"]
        for pragma in pragmas:  # each statement read to its end: no read stays open
            async with conn.execute(pragma) as cur:
                await cur.fetchall()

    async def _close_connections(self) -> None:
        for conn in {id(self._writer): self._writer, id(self._reader): self._reader}.values():
            with suppress(sqlite3.Error):
                await conn.close()

    async def close(self) -> None:
        if self.sandbox:
            await self._writer.execute("ROLLBACK")
        await self._close_connections()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.read() as tx:
            if await tx.fetchone("SELECT name FROM sqlite_master WHERE type = 'table'"
                                 " AND name = 'schema_migrations'") is None:
                return 0
            return int(await tx.fetchval(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def migrate(self) -> list[int]:
        """Apply every migration not yet recorded, in order, each in its own transaction.
        A migration that rebuilds a table runs with foreign keys off (SQLite's documented
        way to change a table), checked with foreign_key_check before it commits."""
        await self._writer.execute(
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
            rebuild = any(s.lstrip().upper().startswith("DROP TABLE") for s in statements)
            if rebuild and not self.sandbox:
                await self._writer.execute("PRAGMA foreign_keys = OFF")
            try:
                async with self.transaction() as tx:
                    for statement in statements:
                        await tx.execute(statement)
                    if rebuild:
                        broken = await tx.fetchall("PRAGMA foreign_key_check")
                        if broken:
                            raise DatabaseError(f"migration {version} ({name}) breaks foreign"
                                                f" keys in {broken[0][0]}")
                    await tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES (?, ?, ?)", (version, name, utcnow()))
            finally:
                if rebuild and not self.sandbox:
                    await self._writer.execute("PRAGMA foreign_keys = ON")
            applied.append(version)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction; the only way to change the database."""
        async with self._lock:
            conn = self._writer
            if self.sandbox:
                self._savepoint += 1
                name = f"sp{self._savepoint}"
                await conn.execute(f"SAVEPOINT {name}")
                try:
                    yield Tx(conn)
                except BaseException:
                    await conn.execute(f"ROLLBACK TO {name}")
                    await conn.execute(f"RELEASE {name}")
                    raise
                await conn.execute(f"RELEASE {name}")
                return
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn)
            except BaseException:
                with suppress(sqlite3.Error):  # gone already (disk full rolls it back)
                    await conn.execute("ROLLBACK")
                raise
            try:
                await conn.execute("COMMIT")
            except BaseException:
                # a failed COMMIT (disk full, I/O error) may leave the transaction open
                with suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """Reads of the last committed state (the reader connection), or of the sandbox."""
        yield Tx(self._reader)
