"""The outbox: every message to send, written in the same transaction as the decision to send.

A row's life: pending -> sending (claimed, with a lease, in its own transaction before the
send) -> sent (after Telegram accepted it), or back to pending (retry later, attempts counted),
or failed (rejected, or out of attempts: never sent again), or cancelled (the chat is gone, an
edit was replaced). A crash or a failed write after the send leaves the row 'sending': it goes
again only when its lease has run out (or at the next start, when this process holds the
database alone), so a failure repeats at most the one message in flight per chat.

deliveries (chat, story) is unique: a story is queued for a chat once. Edits (a sent story's
message listing new outlets) go after everything else: a chat's edit waits until nothing else
is pending for it, and edits are taken only when no other row is due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.db import Database, Tx, utcnow


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    chat_kind: str
    story_id: int | None
    kind: str
    text: str
    thread_id: int | None
    preview: bool
    edit_message_id: int | None
    attempts: int
    silent: bool = False


@dataclass(frozen=True)
class Message:
    """A message to queue for a chat."""

    chat_id: int
    text: str
    thread_id: int | None = None
    silent: bool = False


async def enqueue(tx: Tx, chat_id: int, text: str, *, kind: str = "story",
                  story_id: int | None = None, thread_id: int | None = None,
                  preview: bool = True, edit_message_id: int | None = None,
                  silent: bool = False) -> int | None:
    """Queue a message. A story is queued for a chat once: returns None when it already
    was."""
    now = utcnow()
    if story_id is not None and kind in ("story", "digest") and await tx.execute(
            "INSERT INTO deliveries (chat_id, story_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", (chat_id, story_id, now)) == 0:
        return None
    outbox_id = await tx.insert(
        "INSERT INTO outbox (chat_id, story_id, kind, text, thread_id, preview, edit_message_id,"
        " silent, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (chat_id, story_id, kind, text, thread_id, int(preview), edit_message_id, int(silent),
         now))
    if story_id is not None and kind in ("story", "digest"):
        await tx.execute("UPDATE deliveries SET outbox_id = ? WHERE chat_id = ?"
                         " AND story_id = ?", (outbox_id, chat_id, story_id))
    return outbox_id


async def enqueue_new_story(tx: Tx, story_id: int, messages: Sequence[Message]) -> int:
    """Queue the instant messages of a story created in this very transaction: no chat has
    had it yet, so each chat's delivery row and message are written in three statements for
    all of them, not three each (a thousand subscribers kept the write lock for a thousand
    round trips). One message per chat, the first. Returns how many were queued."""
    first: dict[int, Message] = {}
    for m in messages:
        first.setdefault(m.chat_id, m)
    if not first:
        return 0
    now = utcnow()
    await tx.executemany(
        "INSERT INTO deliveries (chat_id, story_id, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING", [(c, story_id, now) for c in first])
    await tx.executemany(
        "INSERT INTO outbox (chat_id, story_id, kind, text, thread_id, preview,"
        " edit_message_id, silent, created_at) VALUES (?, ?, 'story', ?, ?, 1, NULL, ?, ?)",
        [(m.chat_id, story_id, m.text, m.thread_id, int(m.silent), now)
         for m in first.values()])
    # A join (each message finds its chat's delivery by key), not a subquery per delivery
    # (which would scan the story's messages for each chat).
    await tx.execute(
        "UPDATE deliveries SET outbox_id = o.id FROM outbox o WHERE o.kind = 'story'"
        " AND o.story_id = ? AND deliveries.story_id = o.story_id"
        " AND deliveries.chat_id = o.chat_id AND deliveries.outbox_id IS NULL", (story_id,))
    return len(first)


def _row(r) -> OutboxRow:
    return OutboxRow(r["id"], r["chat_id"], r["chat_kind"], r["story_id"], r["kind"],
                     r["text"], r["thread_id"], bool(r["preview"]), r["edit_message_id"],
                     r["attempts"], bool(r["silent"]))


async def _due(tx: Tx, now: datetime, busy: set[int], limit: int, *,
               lock: bool = False) -> list[OutboxRow]:
    """The oldest pending row of each chat that is not busy, due now, oldest first; a
    chat's edits only once nothing else is pending for it, and after every other due
    row. With ``lock``, the rows are locked for the transaction (rows locked by another
    are skipped)."""
    out = await _due_part(tx, now, busy, limit, edits=False, lock=lock)
    if len(out) < limit:
        out += await _due_part(tx, now, busy | {r.chat_id for r in out}, limit - len(out),
                               edits=True, lock=lock)
    return out


async def _due_part(tx: Tx, now: datetime, busy: set[int], limit: int, *, edits: bool,
                    lock: bool) -> list[OutboxRow]:
    # Walks the pending index in id order and stops at the limit: cheap with 10,000
    # queued.
    kind = "o.kind = 'edit' AND NOT EXISTS (SELECT 1 FROM outbox WHERE chat_id =" \
        " o.chat_id AND status = 'pending' AND kind != 'edit')" if edits \
        else "o.kind != 'edit'"
    rows = await tx.fetchall(
        "SELECT o.*, c.kind AS chat_kind FROM outbox o JOIN chats c"
        " ON c.chat_id = o.chat_id"
        f" WHERE o.status = 'pending' AND {kind} AND c.status IN ('active', 'paused')"
        " AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)"
        " AND NOT EXISTS (SELECT 1 FROM outbox f WHERE f.chat_id = o.chat_id"
        "  AND f.status = 'sending')"
        " AND o.id = (SELECT MIN(id) FROM outbox WHERE chat_id = o.chat_id"
        f" AND status = 'pending' AND kind {'=' if edits else '!='} 'edit')"
        " ORDER BY o.id LIMIT ?" + (tx.dialect.skip_locked if lock else ""),
        (now, limit + len(busy)))
    return [_row(r) for r in rows if r["chat_id"] not in busy][:limit]


async def _take(tx: Tx, rows: list[OutboxRow], lease_until: datetime) -> list[OutboxRow]:
    taken = []
    for r in rows:
        if await tx.execute("UPDATE outbox SET status = 'sending', lease_until = ?"
                            " WHERE id = ? AND status = 'pending'", (lease_until, r.id)):
            taken.append(r)
    return taken


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def due(self, now: datetime, busy: set[int], limit: int = 100) -> list[OutboxRow]:
        """The oldest pending row of each chat that is not busy, due now, oldest first; a
        chat's edits only once nothing else is pending for it, and after every other due
        row."""
        async with self.db.read() as tx:
            return await _due(tx, now, busy, limit)

    async def claim(self, now: datetime, busy: set[int], limit: int, lease: timedelta
                    ) -> list[OutboxRow]:
        """Take the due rows (see ``due``) for sending: each becomes 'sending' until
        ``now + lease``, in one transaction, before anything is sent. Where several processes
        share the database (PostgreSQL), the due rows are read and locked in that
        transaction, and rows another process is claiming are passed over."""
        if self.db.dialect.skip_locked:
            async with self.db.transaction() as tx:
                rows = await _due(tx, now, busy, limit, lock=True)
                return await _take(tx, rows, now + lease)
        rows = await self.due(now, busy, limit)
        if not rows:
            return []
        async with self.db.transaction() as tx:
            return await _take(tx, rows, now + lease)

    async def mark_sent(self, row_id: int, message_id: int | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?,"
                             " lease_until = NULL WHERE id = ?",
                             (message_id, utcnow(), row_id))

    async def retry(self, row_id: int, error: str, at: datetime, *, count: bool = True,
                    max_attempts: int = 10) -> bool:
        """Back to pending, due at ``at``; with ``count``, one more attempt. A row out of
        attempts fails instead (returns False)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET attempts = attempts + ?, last_error = ?, next_attempt_at = ?,"
                " lease_until = NULL, status = CASE WHEN attempts + ? >= ? THEN 'failed'"
                " ELSE 'pending' END WHERE id = ?",
                (int(count), error[:300], at, int(count), max_attempts, row_id))
            return await tx.fetchval("SELECT status FROM outbox WHERE id = ?",
                                     (row_id,)) == "pending"

    async def release(self, row_id: int, error: str, at: datetime) -> None:
        """Back to pending without counting an attempt (the bot itself cannot send now)."""
        await self.retry(row_id, error, at, count=False)

    async def fail(self, row_id: int, error: str) -> None:
        """Never to be sent: Telegram rejected the message itself."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE outbox SET status = 'failed', last_error = ?,"
                             " lease_until = NULL WHERE id = ?", (error[:300], row_id))

    async def stop_chat(self, chat_id: int, status: str, error: str) -> None:
        """The chat blocked the bot or is gone: mark it and cancel what was queued for it."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE chats SET status = ?, updated_at = ? WHERE chat_id = ?",
                             (status, utcnow(), chat_id))
            await tx.execute("UPDATE outbox SET status = 'cancelled', last_error = ?,"
                             " lease_until = NULL WHERE chat_id = ?"
                             " AND status IN ('pending', 'sending')", (error[:300], chat_id))

    async def release_expired(self, now: datetime) -> int:
        """Rows whose claim ran out (a process died, or could not record the outcome) are
        pending again; returns how many."""
        async with self.db.transaction() as tx:
            return await tx.execute(
                "UPDATE outbox SET status = 'pending', lease_until = NULL"
                " WHERE status = 'sending' AND lease_until <= ?", (now,))

    async def release_all_claims(self) -> int:
        """At start, when this process holds the database alone: whatever was being sent when
        the last one stopped goes again (at most one repeat per chat)."""
        async with self.db.transaction() as tx:
            return await tx.execute("UPDATE outbox SET status = 'pending', lease_until = NULL"
                                    " WHERE status = 'sending'")

    async def notify(self, chat_id: int, text: str) -> None:
        """A notice for a chat (an admin's alert): the chat is created, paused (it gets
        notices, not stories), when it never wrote to the bot."""
        now = utcnow()
        async with self.db.transaction() as tx:
            await tx.execute("INSERT INTO chats (chat_id, status, created_at, updated_at)"
                             " VALUES (?, 'paused', ?, ?) ON CONFLICT (chat_id) DO NOTHING",
                             (chat_id, now, now))
            await enqueue(tx, chat_id, text, kind="notice", preview=False)

    async def enqueue_digest(self, chat_id: int, story_ids: list[int], messages: list[str],
                             now: datetime, *, thread_id: int | None = None,
                             silent: bool = False) -> int:
        """Queue a digest in one transaction: its stories are marked delivered to the chat
        (so no later digest or instant message repeats them), its messages queued, and the
        chat's last_digest_at moved to ``now``. Returns how many stories were new to the
        chat."""
        async with self.db.transaction() as tx:
            fresh = 0
            for story_id in story_ids:
                fresh += await tx.execute(
                    "INSERT INTO deliveries (chat_id, story_id, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING", (chat_id, story_id, now))
            if fresh:
                for text in messages:
                    await enqueue(tx, chat_id, text, kind="digest", thread_id=thread_id,
                                  preview=False, silent=silent)
            await tx.execute("UPDATE chats SET last_digest_at = ?, updated_at = ?"
                             " WHERE chat_id = ?", (now, now, chat_id))
        return fresh

    # ------------------------------------------------------------ source updates

    async def grown_stories(self, quiet_since: datetime, limit: int = 100) -> list[int]:
        """Stories whose first new article since their last update is older than
        ``quiet_since``."""
        async with self.db.read() as tx:
            rows = await tx.fetchall("SELECT story_id FROM story_updates WHERE since <= ?"
                                     " ORDER BY since LIMIT ?", (quiet_since, limit))
        return [r["story_id"] for r in rows]

    async def queue_story_edits(self, story_id: int, render: Callable[[str, str], str],
                                sent_since: datetime) -> int:
        """Edit every message that sent the story at once (since ``sent_since``) whose text
        is not ``render(lang, tz)`` any more; returns how many edits were queued.

        A newer edit replaces a pending older one. A message still waiting to be sent keeps
        the story in story_updates, so that it is edited once sent (its row may be in flight
        now and is never rewritten under the sender).
        """
        async with self.db.transaction() as tx:
            # The message's last edit that was not replaced: sent, or pending (only the
            # newest edit of a message is ever pending, since a newer one drops it).
            rows = await tx.fetchall(
                "SELECT o.chat_id, o.status, o.message_id, o.text, c.lang, c.tz,"
                " e.text AS edited,"
                " CASE WHEN e.status = 'pending' THEN e.id END AS pending_edit"
                " FROM outbox o JOIN chats c ON c.chat_id = o.chat_id"
                " LEFT JOIN outbox e ON e.id = (SELECT MAX(id) FROM outbox"
                "  WHERE chat_id = o.chat_id AND kind = 'edit'"
                "  AND edit_message_id = o.message_id AND status NOT IN ('cancelled', 'failed'))"
                " WHERE o.story_id = ? AND o.kind = 'story' AND c.status = 'active'"
                " AND (o.status IN ('pending', 'sending') OR (o.status = 'sent'"
                " AND o.message_id IS NOT NULL"
                " AND o.sent_at >= ?))", (story_id, sent_since))
            texts: dict[tuple[str, str], str] = {}
            queued = 0
            waiting = False
            for r in rows:
                if r["status"] in ("pending", "sending"):
                    waiting = True
                    continue
                key = (r["lang"], r["tz"])
                text = texts.get(key)
                if text is None:
                    text = texts[key] = render(*key)
                if text == (r["edited"] or r["text"]):
                    continue
                if r["pending_edit"] is not None:
                    await tx.execute("UPDATE outbox SET status = 'cancelled', last_error ="
                                     " 'replaced by a newer edit' WHERE id = ? AND status ="
                                     " 'pending'", (r["pending_edit"],))
                await enqueue(tx, r["chat_id"], text, kind="edit", story_id=story_id,
                              edit_message_id=r["message_id"])
                queued += 1
            if not waiting:
                await tx.execute("DELETE FROM story_updates WHERE story_id = ?", (story_id,))
        return queued

    async def forget_story_updates(self, quiet_since: datetime, too_old: datetime) -> None:
        """Stop following stories that grew before ``too_old`` (their messages are too old
        to edit, or never got sent) and quiet ones that nobody got at once (digests list
        every outlet when they are made)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM story_updates WHERE since < ? OR (since <= ? AND NOT EXISTS"
                " (SELECT 1 FROM outbox o WHERE o.story_id = story_updates.story_id"
                " AND o.kind = 'story'))", (too_old, quiet_since))
