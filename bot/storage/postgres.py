"""The PostgreSQL database (asyncpg): the same interface as the SQLite ``Database`` in db.py.

``transaction()`` and ``read()`` yield a ``PgTx`` with the methods of db.py's ``Tx``, so the
table-family modules run the same SQL on both: ``?`` placeholders become ``$1, $2, ...``
(outside quotes and comments), datetimes go as timestamptz values in whole seconds, as SQLite
keeps them (a naive one is refused, as on SQLite; ISO-8601 text, which the SQLite store keeps,
is read as a time too) and come back as aware UTC datetimes, booleans go as 0/1, rows are
asyncpg Records (read by name and by index, iterated as tuples), and ``insert`` returns the new
row's id through ``RETURNING id``. What differs in the SQL itself is in dialect.py.

Connections come from a pool. Writes of one process go one at a time (an asyncio lock, as on
SQLite), each in a transaction on a connection of its own; reads take any free connection and
see what was committed. Several processes may share the database: migrations run under an
advisory lock, and outbox claims lock their rows with FOR UPDATE SKIP LOCKED.

Every error of the server or of the connection becomes a ``DatabaseError`` of one line that
names the database (its URL without the password).

A *sandbox* (``pressbot analyze --db postgresql://...``) runs everything on one connection in
one outer transaction that is rolled back on close.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage.db import BUSY_TIMEOUT_MS, DatabaseError, utcnow
from bot.storage.dialect import POSTGRES
from bot.storage.pg_schema import PG_MIGRATIONS

CONNECT_TIMEOUT = 10.0  # seconds to reach the server
POOL_SIZE = 5  # connections of one process: one writer, the rest for reads
MIGRATION_LOCK = 0x70726573  # pg_advisory_lock key held while migrations run ("pres")
ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def safe_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}@{host}" if user else host
        query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))[:300]
    except ValueError:
        return "postgresql://(a URL that cannot be read)"


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


@functools.lru_cache(maxsize=2048)
def pg_sql(sql: str) -> str:
    """``?`` placeholders as ``$1, $2, ...``; a ``?`` in a string, a quoted name or a comment
    stays."""
    out: list[str] = []
    n = 0
    i = 0
    length = len(sql)
    while i < length:
        c = sql[i]
        if c in ("'", '"'):
            end = sql.find(c, i + 1)
            while end != -1 and end + 1 < length and sql[end + 1] == c:  # '' or "" inside
                end = sql.find(c, end + 2)
            end = length - 1 if end == -1 else end
            out.append(sql[i:end + 1])
            i = end + 1
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = length if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif c == "?":
            n += 1
            out.append(f"${n}")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value
    if isinstance(value, bool):
        return int(value)
    return value


def _params(params: Iterable[Any]) -> list[Any]:
    return [_param(p) for p in params]


PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # timestamptz counts microseconds from here


def _encode_time(value: datetime | str) -> tuple[int]:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"a time must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    delta = value - PG_EPOCH  # whole seconds: "at or after" a stored time means what it does
    return ((delta.days * 86400 + delta.seconds) * 1_000_000,)  # on SQLite


def _decode_time(value: tuple[int]) -> datetime:
    return PG_EPOCH + timedelta(microseconds=value[0])


async def _setup_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("timestamptz", schema="pg_catalog", encoder=_encode_time,
                              decoder=_decode_time, format="tuple")


def _count(status: str) -> int:
    """Rows changed, from a command tag: 'UPDATE 3', 'INSERT 0 1', 'DELETE 0'."""
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else 0


class PgTx:
    """SQL on one connection, inside a transaction (writes) or not (reads)."""

    dialect = POSTGRES

    def __init__(self, conn: asyncpg.Connection, where: str,
                 lock: asyncio.Lock | None = None) -> None:
        self._conn = conn
        self._where = where
        self._lock = lock  # a sandbox: one connection shared by every context

    async def _call(self, method: str, sql: str, *args: Any) -> Any:
        try:
            if self._lock is None:
                return await getattr(self._conn, method)(sql, *args)
            async with self._lock:
                return await getattr(self._conn, method)(sql, *args)
        except ERRORS as exc:
            raise DatabaseError(f"database {self._where}: {one_line(exc)}") from exc

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        return _count(await self._call("execute", pg_sql(sql), *_params(params)))

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run an INSERT; returns the new row's id."""
        statement = pg_sql(sql)
        if " RETURNING " not in statement.upper():
            statement += " RETURNING id"
        return int(await self._call("fetchval", statement, *_params(params)) or 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [_params(r) for r in rows]
        if batch:
            await self._call("executemany", pg_sql(sql), batch)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return list(await self._call("fetch", pg_sql(sql), *_params(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        return await self._call("fetchrow", pg_sql(sql), *_params(params))

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None

    async def copy_rows(self, table: str, columns: Sequence[str],
                        rows: Sequence[Sequence[Any]]) -> None:
        """Bulk load with COPY (``pressbot migrate``)."""
        if not rows:
            return
        try:
            await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))
        except ERRORS as exc:
            raise DatabaseError(f"database {self._where}: {table}: {one_line(exc)}") from exc


class PgDatabase:
    """Same methods as db.py's ``Database``: ``transaction()``, ``read()``, ``migrate()``,
    ``schema_version()``, ``close()``; ``path`` is the URL without its password."""

    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, url: str, *, sandbox: bool = False,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self._pool = pool
        self.url = url
        self.path = safe_url(url)
        self.sandbox = sandbox
        self.busy_timeout_ms = busy_timeout_ms
        self._write = asyncio.Lock()
        self._conn: asyncpg.Connection | None = None  # the sandbox's one connection
        self._outer: Any = None
        self._statement = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, sandbox: bool = False,
                   busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                   pool_size: int = POOL_SIZE) -> PgDatabase:
        """``busy_timeout_ms``: how long a statement waits for another's lock
        (lock_timeout)."""
        where = safe_url(url)
        settings = {"application_name": "pressbot", "TimeZone": "UTC",
                    "lock_timeout": str(int(busy_timeout_ms))}
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=1 if sandbox else max(2, pool_size),
                timeout=CONNECT_TIMEOUT, server_settings=settings, command_timeout=None,
                init=_setup_connection)
        except ERRORS as exc:
            raise DatabaseError(f"cannot connect to database {where}: {one_line(exc)}"
                                ) from None
        except ValueError as exc:  # a URL asyncpg cannot read
            raise DatabaseError(f"cannot use database URL {where}: {one_line(exc)}") from None
        db = cls(pool, url, sandbox=sandbox, busy_timeout_ms=busy_timeout_ms)
        try:
            await db.migrate()
            if sandbox:
                db._conn = await pool.acquire()
                db._outer = db._conn.transaction()
                await db._outer.start()
        except BaseException:
            await db._close_pool()
            raise
        return db

    async def _close_pool(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), 10)
        except (TimeoutError, *ERRORS):
            self._pool.terminate()

    async def close(self) -> None:
        if self._conn is not None:
            with suppress(*ERRORS):
                await self._outer.rollback()
            with suppress(*ERRORS):
                await self._pool.release(self._conn)
            self._conn = None
        await self._close_pool()

    async def __aenter__(self) -> PgDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.read() as tx:
            if await tx.fetchval("SELECT to_regclass('schema_migrations')") is None:
                return 0
            return int(await tx.fetchval(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def migrate(self) -> list[int]:
        """Apply every migration not yet recorded, in order, each in its own transaction, while
        holding an advisory lock (processes started together migrate one after another)."""
        try:
            conn = await self._pool.acquire(timeout=CONNECT_TIMEOUT)
        except ERRORS as exc:
            raise DatabaseError(f"cannot connect to database {self.path}: {one_line(exc)}"
                                ) from None
        applied: list[int] = []
        try:
            tx = PgTx(conn, self.path)
            await tx.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            try:
                await tx.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                    " name text NOT NULL, applied_at timestamptz NOT NULL)")
                current = int(await tx.fetchval(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
                newest = PG_MIGRATIONS[-1][0]
                if current > newest:
                    raise DatabaseError(f"database {self.path} has schema {current}, newer"
                                        f" than this pressbot ({newest})")
                for version, name, statements in PG_MIGRATIONS:
                    if version <= current:
                        continue
                    try:
                        async with conn.transaction():
                            for statement in statements:
                                await tx.execute(statement)
                            await tx.execute("INSERT INTO schema_migrations (version, name,"
                                             " applied_at) VALUES (?, ?, ?)",
                                             (version, name, utcnow()))
                    except DatabaseError as exc:
                        raise DatabaseError(f"migration {version} ({name}) failed: {exc}"
                                            ) from None
                    applied.append(version)
            finally:
                with suppress(*ERRORS, DatabaseError):
                    await tx.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        finally:
            with suppress(*ERRORS):
                await self._pool.release(conn)
        return applied

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            conn = await self._pool.acquire(timeout=CONNECT_TIMEOUT)
        except ERRORS as exc:
            raise DatabaseError(f"database {self.path}: {one_line(exc)}") from None
        try:
            yield conn
        finally:
            with suppress(*ERRORS):
                await self._pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        """A write transaction; the only way to change the database."""
        async with self._write:
            if self._conn is not None:  # a sandbox: a savepoint in the outer transaction
                async with self._statement:
                    savepoint = self._conn.transaction()
                    await savepoint.start()
                try:
                    yield PgTx(self._conn, self.path, self._statement)
                except BaseException:
                    async with self._statement:
                        await savepoint.rollback()
                    raise
                async with self._statement:
                    await savepoint.commit()
                return
            async with self._connection() as conn:
                try:
                    async with conn.transaction():
                        yield PgTx(conn, self.path)
                except ERRORS as exc:  # the COMMIT itself failed
                    raise DatabaseError(f"database {self.path}: {one_line(exc)}") from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgTx]:
        """Reads of the last committed state (or of the sandbox)."""
        if self._conn is not None:
            yield PgTx(self._conn, self.path, self._statement)
            return
        async with self._connection() as conn:
            yield PgTx(conn, self.path)
