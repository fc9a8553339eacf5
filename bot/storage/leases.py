"""Leases between pressbot processes sharing one PostgreSQL database: PostgreSQL's session
advisory locks, held on a connection of their own (not the pool's), so that a process that dies
(SIGKILL, a lost machine) loses them the moment its connection closes.

    leases = await Leases.open(db)          # db: a PgDatabase
    if await leases.take(SOURCE, source_id): ... await leases.give_back(SOURCE, source_id)
    if await leases.take(LEADER): ...       # at most one process at a time
    await leases.alive()                    # the connection (and so every lease) still holds

A lease is one advisory lock (two int4 keys: what kind of lease, which one); taking it never
waits (pg_try_advisory_lock). When the connection breaks, every lease of it is gone: ``take``
reconnects and starts afresh, ``alive`` says False and the holder must stop acting on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg

from bot.storage.postgres import CONNECT_TIMEOUT, ERRORS, PgDatabase, one_line

# Kinds of lease (the first key of the lock; the migration lock uses the one-bigint key space).
SOURCE = 0x70720001  # a source being polled; second key: the source's id
LEADER = 0x70720002  # reads Telegram's updates, sends, runs the every-minute jobs; key 0
STARTUP = 0x70720003  # held while a process syncs the sources and catches up its indexes
ALIVE_TIMEOUT = 5.0  # seconds the server may take to answer ``alive``


class LeaseError(Exception):
    """The lease connection cannot be made or broke."""


class Leases:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    @classmethod
    async def open(cls, db: PgDatabase) -> Leases:
        leases = cls(db)
        async with leases._lock:
            await leases._connect()
        return leases

    async def _connect(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            try:
                self._conn = await asyncpg.connect(
                    self.db.url, timeout=CONNECT_TIMEOUT,
                    server_settings={"application_name": "pressbot leases"})
            except ERRORS as exc:
                self._conn = None
                raise LeaseError(f"database {self.db.path}: leases: {one_line(exc)}") from None
        return self._conn

    async def take(self, kind: int, key: int = 0) -> bool:
        """Take a lease if nobody holds it; False when another process (or this one) does."""
        async with self._lock:
            conn = await self._connect()
            try:
                return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)",
                                                kind, key))
            except ERRORS as exc:
                await self._drop()
                raise LeaseError(f"database {self.db.path}: leases: {one_line(exc)}") from None

    @asynccontextmanager
    async def hold(self, kind: int, key: int = 0, timeout: float = 300.0
                   ) -> AsyncIterator[None]:
        """Hold a lease for a block, waiting for it while another process holds it (processes
        started together do their start-up one after another)."""
        async with self._lock:
            conn = await self._connect()
            try:
                await asyncio.wait_for(conn.fetchval("SELECT pg_advisory_lock($1, $2)",
                                                     kind, key), timeout)
            except ERRORS as exc:
                await self._drop()
                raise LeaseError(f"database {self.db.path}: leases: {one_line(exc)}") from None
        try:
            yield
        finally:
            await self.give_back(kind, key)

    async def give_back(self, kind: int, key: int = 0) -> None:
        """Let go of a lease (nothing happens when the connection, and so the lease, is
        gone)."""
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                return
            try:
                await self._conn.fetchval("SELECT pg_advisory_unlock($1, $2)", kind, key)
            except ERRORS:
                await self._drop()

    async def alive(self) -> bool:
        """Whether the connection holding the leases still answers (if not, they are gone
        and the connection is closed)."""
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                return False
            try:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), ALIVE_TIMEOUT)
                return True
            except ERRORS:
                await self._drop()
                return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with suppress(*ERRORS):
                    await asyncio.wait_for(conn.close(), 5)
                if not conn.is_closed():
                    conn.terminate()
