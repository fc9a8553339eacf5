"""Chats (subscribers, groups, channels) and their filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.config import ChannelConfig
from bot.delivery.match import Filters, phrase_stems
from bot.storage.db import Database, from_db_time, to_db_time, utcnow


@dataclass(frozen=True)
class Chat:
    chat_id: int
    kind: str
    lang: str
    mode: str
    digest_time: str
    tz: str
    thread_id: int | None
    status: str
    last_digest_at: datetime | None

    @property
    def is_group(self) -> bool:
        return self.kind != "private"


def _chat(row) -> Chat:
    return Chat(row["chat_id"], row["kind"], row["lang"], row["mode"], row["digest_time"],
                row["tz"], row["thread_id"], row["status"], from_db_time(row["last_digest_at"]))


async def add_chats(db: Database, chat_ids: list[int]) -> None:
    """Many new private chats with the defaults at once (benchmarks and load tests)."""
    now = to_db_time(utcnow())
    async with db.write() as conn:
        await conn.executemany("INSERT INTO chats (chat_id, created_at, updated_at) VALUES"
                               " (?, ?, ?)", [(c, now, now) for c in chat_ids])


async def upsert_chat(db: Database, chat_id: int, kind: str = "private", *,
                      title: str | None = None, thread_id: int | None = None,
                      activate: bool = True) -> Chat:
    now = to_db_time(utcnow())
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO chats (chat_id, kind, title, thread_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
            " kind = excluded.kind, title = COALESCE(excluded.title, title),"
            " thread_id = COALESCE(excluded.thread_id, thread_id),"
            " updated_at = excluded.updated_at,"
            " status = CASE WHEN ? THEN 'active' ELSE status END",
            (chat_id, kind, title, thread_id, now, now, int(activate)))
    chat = await get_chat(db, chat_id)
    assert chat is not None
    return chat


async def get_chat(db: Database, chat_id: int) -> Chat | None:
    row = await db.fetchone("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
    return _chat(row) if row else None


async def update_chat(db: Database, chat_id: int, **fields: object) -> None:
    allowed = {"lang", "mode", "digest_time", "tz", "status", "thread_id", "last_digest_at"}
    assert set(fields) <= allowed, fields
    sets = ", ".join(f"{k} = ?" for k in fields)
    async with db.write() as conn:
        await conn.execute(f"UPDATE chats SET {sets}, updated_at = ? WHERE chat_id = ?",
                           (*fields.values(), to_db_time(utcnow()), chat_id))


async def forget_chat(db: Database, chat_id: int) -> None:
    """Everything stored about a chat goes: filters, queue, delivery history, the chat."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM chats WHERE chat_id = ?", (chat_id,))


async def set_filter(db: Database, chat_id: int, kind: str, value: str, on: bool) -> None:
    async with db.write() as conn:
        if on:
            await conn.execute("INSERT OR IGNORE INTO chat_filters (chat_id, kind, value)"
                               " VALUES (?, ?, ?)", (chat_id, kind, value))
        else:
            await conn.execute("DELETE FROM chat_filters WHERE chat_id = ? AND kind = ?"
                               " AND value = ?", (chat_id, kind, value))


async def filter_values(db: Database, chat_id: int) -> dict[str, list[str]]:
    rows = await db.fetchall("SELECT kind, value FROM chat_filters WHERE chat_id = ?"
                             " ORDER BY kind, value", (chat_id,))
    out: dict[str, list[str]] = {"topic": [], "place": [], "follow": [], "exclude": []}
    for r in rows:
        out[r["kind"]].append(r["value"])
    return out


def filters_from_values(values: dict[str, list[str]]) -> Filters:
    return Filters(topics=frozenset(values.get("topic", ())),
                   places=frozenset(values.get("place", ())),
                   follow=tuple(phrase_stems(v) for v in values.get("follow", ())),
                   exclude=tuple(phrase_stems(v) for v in values.get("exclude", ())))


async def chats_in_mode(conn: aiosqlite.Connection, mode: str) -> list[tuple[Chat, Filters]]:
    """Active chats in ``mode`` ('instant' or 'digest') with their filters; ``conn`` may be
    inside a write transaction (the delivery decision reads them there)."""
    async with conn.execute("SELECT * FROM chats WHERE status = 'active' AND mode = ?",
                            (mode,)) as cur:
        chats = [_chat(r) for r in await cur.fetchall()]
    async with conn.execute("SELECT f.chat_id, f.kind, f.value FROM chat_filters f JOIN chats c"
                            " ON c.chat_id = f.chat_id WHERE c.status = 'active'"
                            " AND c.mode = ?", (mode,)) as cur:
        rows = await cur.fetchall()
    values: dict[int, dict[str, list[str]]] = {}
    for r in rows:
        values.setdefault(r[0], {}).setdefault(r[1], []).append(r[2])
    return [(c, filters_from_values(values.get(c.chat_id, {}))) for c in chats]


async def migrate_chat(db: Database, old: int, new: int) -> None:
    """A group became a supergroup: everything moves to the new id (ON UPDATE CASCADE)."""
    async with db.write() as conn:
        exists = await (await conn.execute("SELECT 1 FROM chats WHERE chat_id = ?", (new,))
                        ).fetchone()
        if exists:  # both ids known: the queue moves, the old chat goes
            await conn.execute("UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ?"
                               " AND status = 'pending'", (new, old))
            await conn.execute("DELETE FROM chats WHERE chat_id = ?", (old,))
        else:
            await conn.execute("UPDATE chats SET chat_id = ?, kind = 'supergroup'"
                               " WHERE chat_id = ?", (new, old))


async def chat_filters(db: Database, chat_id: int) -> Filters:
    return filters_from_values(await filter_values(db, chat_id))


async def sync_channels(db: Database, channels: tuple[ChannelConfig, ...]) -> None:
    """Make the chats of [[channels]] match the config: active, instant, their filters exactly
    those listed. A channel no longer listed is paused (its history stays)."""
    now = to_db_time(utcnow())
    ids = [c.chat_id for c in channels]
    async with db.write() as conn:
        for c in channels:
            kind = "supergroup" if c.thread_id else "channel"
            await conn.execute(
                "INSERT INTO chats (chat_id, kind, lang, mode, thread_id, status, from_config,"
                " created_at, updated_at) VALUES (?, ?, ?, 'instant', ?, 'active', 1, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang, mode = 'instant',"
                " thread_id = excluded.thread_id, from_config = 1,"
                " updated_at = excluded.updated_at,"
                " status = CASE WHEN status IN ('blocked', 'dead') THEN status ELSE 'active' END",
                (c.chat_id, kind, c.lang, c.thread_id, now, now))
            await conn.execute("DELETE FROM chat_filters WHERE chat_id = ?", (c.chat_id,))
            await conn.executemany(
                "INSERT OR IGNORE INTO chat_filters (chat_id, kind, value) VALUES (?, ?, ?)",
                [(c.chat_id, kind, value.lower() if kind in ("follow", "exclude") else value)
                 for kind, values in (("topic", c.topics), ("place", c.places),
                                      ("follow", c.follow), ("exclude", c.exclude))
                 for value in values])
        await conn.execute(
            f"UPDATE chats SET status = 'paused' WHERE from_config = 1 AND status = 'active'"
            f" AND chat_id NOT IN ({','.join('?' * len(ids))})", ids)
