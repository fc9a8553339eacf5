"""Chats (subscribers, groups, channels) and their filters.

Filters are stored as the values people chose (topic ids, place tags, words); delivery turns
them into the matcher's ``Filters``."""

from __future__ import annotations

from bot.config import ChannelConfig
from bot.models import Chat, FilterValues
from bot.storage.db import Database, Tx, from_db_time, utcnow

FILTER_KINDS = ("topic", "place", "follow", "exclude", "mute")


def _chat(row) -> Chat:
    return Chat(row["chat_id"], row["kind"], row["lang"], row["mode"], row["digest_time"],
                row["tz"], row["thread_id"], row["status"], from_db_time(row["last_digest_at"]),
                row["quiet_start"], row["quiet_end"])


def _empty() -> FilterValues:
    return {kind: [] for kind in FILTER_KINDS}


async def chats_in_mode(tx: Tx, mode: str) -> list[tuple[Chat, FilterValues]]:
    """Active chats in ``mode`` ('instant' or 'digest') with their filter values."""
    chats = [_chat(r) for r in await tx.fetchall(
        "SELECT * FROM chats WHERE status = 'active' AND mode = ?", (mode,))]
    rows = await tx.fetchall(
        "SELECT f.chat_id, f.kind, f.value FROM chat_filters f JOIN chats c"
        " ON c.chat_id = f.chat_id WHERE c.status = 'active' AND c.mode = ?"
        " ORDER BY f.kind, f.value", (mode,))
    values: dict[int, FilterValues] = {}
    for r in rows:
        values.setdefault(r[0], _empty())[r[1]].append(r[2])
    return [(c, values.get(c.chat_id) or _empty()) for c in chats]


class Chats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_many(self, chat_ids: list[int]) -> None:
        """Many new private chats with the defaults at once (benchmarks and load tests)."""
        now = utcnow()
        async with self.db.transaction() as tx:
            await tx.executemany("INSERT INTO chats (chat_id, created_at, updated_at) VALUES"
                                 " (?, ?, ?)", [(c, now, now) for c in chat_ids])

    async def upsert(self, chat_id: int, kind: str = "private", *, title: str | None = None,
                     thread_id: int | None = None, activate: bool = True) -> Chat:
        now = utcnow()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chats (chat_id, kind, title, thread_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " kind = excluded.kind, title = COALESCE(excluded.title, chats.title),"
                " thread_id = COALESCE(excluded.thread_id, chats.thread_id),"
                " updated_at = excluded.updated_at,"
                " status = CASE WHEN ? = 1 THEN 'active' ELSE chats.status END",
                (chat_id, kind, title, thread_id, now, now, int(activate)))
            row = await tx.fetchone("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        assert row is not None
        return _chat(row)

    async def get(self, chat_id: int) -> Chat | None:
        async with self.db.read() as tx:
            row = await tx.fetchone("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        return _chat(row) if row else None

    async def update(self, chat_id: int, **fields: object) -> None:
        allowed = {"lang", "mode", "digest_time", "tz", "status", "thread_id", "last_digest_at",
                   "quiet_start", "quiet_end"}
        assert set(fields) <= allowed, fields
        sets = ", ".join(f"{k} = ?" for k in fields)
        async with self.db.transaction() as tx:
            await tx.execute(f"UPDATE chats SET {sets}, updated_at = ? WHERE chat_id = ?",
                             (*fields.values(), utcnow(), chat_id))

    async def forget(self, chat_id: int) -> None:
        """Everything stored about a chat goes: filters, queue, delivery history, the chat."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM chats WHERE chat_id = ?", (chat_id,))

    async def set_filter(self, chat_id: int, kind: str, value: str, on: bool) -> None:
        async with self.db.transaction() as tx:
            if on:
                await tx.execute("INSERT INTO chat_filters (chat_id, kind, value)"
                                 " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                 (chat_id, kind, value))
            else:
                await tx.execute("DELETE FROM chat_filters WHERE chat_id = ? AND kind = ?"
                                 " AND value = ?", (chat_id, kind, value))

    async def toggle_filter(self, chat_id: int, kind: str, value: str) -> bool:
        """Turn a value on when it is off and off when it is on, in one transaction (two
        quick taps on a button toggle twice); returns whether it is on now."""
        async with self.db.transaction() as tx:
            if await tx.execute("DELETE FROM chat_filters WHERE chat_id = ? AND kind = ?"
                                " AND value = ?", (chat_id, kind, value)):
                return False
            await tx.execute("INSERT INTO chat_filters (chat_id, kind, value) VALUES (?, ?, ?)",
                             (chat_id, kind, value))
            return True

    async def clear_filters(self, chat_id: int, kind: str) -> int:
        """Forget every value of one kind (``/clear``); returns how many there were."""
        async with self.db.transaction() as tx:
            return await tx.execute("DELETE FROM chat_filters WHERE chat_id = ? AND kind = ?",
                                    (chat_id, kind))

    async def count_words(self, chat_id: int) -> int:
        """Words and names the chat follows or excludes (bounded by [telegram] max_words)."""
        async with self.db.read() as tx:
            return int(await tx.fetchval(
                "SELECT COUNT(*) FROM chat_filters WHERE chat_id = ?"
                " AND kind IN ('follow', 'exclude')", (chat_id,)))

    async def filter_values(self, chat_id: int) -> FilterValues:
        async with self.db.read() as tx:
            rows = await tx.fetchall("SELECT kind, value FROM chat_filters WHERE chat_id = ?"
                                     " ORDER BY kind, value", (chat_id,))
        out = _empty()
        for r in rows:
            out[r["kind"]].append(r["value"])
        return out

    async def in_mode(self, mode: str) -> list[tuple[Chat, FilterValues]]:
        async with self.db.read() as tx:
            return await chats_in_mode(tx, mode)

    async def migrate(self, old: int, new: int) -> None:
        """A group became a supergroup: everything moves to the new id (ON UPDATE CASCADE)."""
        async with self.db.transaction() as tx:
            if await tx.fetchone("SELECT 1 FROM chats WHERE chat_id = ?", (new,)):
                # both ids known: the queue moves, the old chat goes
                await tx.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ?"
                                 " AND status = 'pending'", (new, old))
                await tx.execute("DELETE FROM chats WHERE chat_id = ?", (old,))
            else:
                await tx.execute("UPDATE chats SET chat_id = ?, kind = 'supergroup'"
                                 " WHERE chat_id = ?", (new, old))

    async def sync_channels(self, channels: tuple[ChannelConfig, ...]) -> None:
        """Make the chats of [[channels]] match the config: active, instant, their filters
        exactly those listed. A channel no longer listed is paused (its history stays)."""
        now = utcnow()
        ids = [c.chat_id for c in channels]
        async with self.db.transaction() as tx:
            for c in channels:
                kind = "supergroup" if c.thread_id else "channel"
                await tx.execute(
                    "INSERT INTO chats (chat_id, kind, lang, mode, thread_id, status,"
                    " from_config, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'instant', ?, 'active', 1, ?, ?)"
                    " ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang,"
                    " mode = 'instant', thread_id = excluded.thread_id, from_config = 1,"
                    " updated_at = excluded.updated_at,"
                    " status = CASE WHEN chats.status IN ('blocked', 'dead') THEN chats.status"
                    " ELSE 'active' END", (c.chat_id, kind, c.lang, c.thread_id, now, now))
                await tx.execute("DELETE FROM chat_filters WHERE chat_id = ?", (c.chat_id,))
                await tx.executemany(
                    "INSERT INTO chat_filters (chat_id, kind, value) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(c.chat_id, kind, value.lower() if kind in ("follow", "exclude") else value)
                     for kind, values in (("topic", c.topics), ("place", c.places),
                                          ("follow", c.follow), ("exclude", c.exclude))
                     for value in values])
            await tx.execute(
                "UPDATE chats SET status = 'paused' WHERE from_config = 1 AND status = 'active'"
                + (f" AND chat_id NOT IN ({','.join('?' * len(ids))})" if ids else ""), ids)
