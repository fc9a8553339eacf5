"""The sender: drains the outbox under Telegram's limits, and never turns a failure into a
repeat or a loss.

- Rows are claimed (bot/storage/outbox.py) in their own transaction before they are sent; at
  most one message in flight per chat. The pace is the transport's (one pacer for everything
  the bot sends, bot/delivery/pacer.py).
- Every outcome has its class (bot/delivery/outcomes.py) and one action:
    sent       marked sent
    retry      back to pending with exponential backoff for that chat (429: ``retry_after``),
               attempts counted (429s are not), the last error kept; out of attempts: failed
    chat gone  the chat is marked blocked or dead and its queue cancelled
    rejected   failed with its reason, never retried
    migrated   the chat moves to its supergroup id and the message goes again at once
    bot down   (401 token revoked, 409 another instance, 404 wrong token) every send pauses
               with backoff and one ERROR line; the row goes back to pending, nothing is
               marked sent
- When the outcome cannot be written (disk full, the database locked by another process), the
  sender keeps it in memory, stops taking rows and retries the write with backoff; the row stays
  claimed, so it is not sent again before its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bot.delivery.outcomes import BOT_DOWN, CHAT_GONE, MIGRATED, REJECTED, SENT, Outcome
from bot.delivery.pacer import CURRENT_TURN, Turn
from bot.storage.db import DatabaseError, utcnow
from bot.storage.outbox import OutboxRow
from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
LEASE = timedelta(minutes=5)  # longer than any one send (aiogram's request timeout is 60 s)
STORAGE_ERRORS = (sqlite3.Error, DatabaseError, OSError)


class Transport(Protocol):
    async def send(self, row: OutboxRow) -> Outcome: ...


class Sender:
    def __init__(self, store: Store, transport: Transport, *, max_attempts: int = 10,
                 max_in_flight: int = 64, idle: float = 0.2,
                 clock: Callable[[], float] = time.monotonic,
                 lease: timedelta = LEASE, backoff: float = 2.0, pause: float = 5.0) -> None:
        """``backoff``: a chat's first wait after an error (doubling up to MAX_BACKOFF);
        ``pause``: the first wait of every send when the bot or the database fails."""
        self.store = store
        self.outbox = store.outbox
        self.transport = transport
        self.max_attempts = max_attempts
        self.max_in_flight = max_in_flight
        self.idle = idle
        self.clock = clock
        self.lease = lease
        self.backoff = backoff
        self.pause = pause
        self._ready_at: dict[int, float] = {}  # chats backed off after an error
        self._in_flight: set[int] = set()
        self._tasks: dict[asyncio.Task, Turn] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._unrecorded: list[tuple[OutboxRow, Outcome]] = []
        self._paused_until = 0.0  # every send waits (bot down, storage failing)
        self._pauses = 0
        self.bot_down: str | None = None  # why Telegram refuses the bot, while it does
        self.storage_error: str | None = None
        self.too_many = 0
        self.failed = 0

    def wake(self) -> None:
        """New rows were queued: look now rather than after the idle pause."""
        self._wake.set()

    def _busy(self) -> set[int]:
        now = self.clock()
        waiting = {c for c, t in self._ready_at.items() if t > now}
        if len(self._ready_at) > 10_000:
            self._ready_at = {c: t for c, t in self._ready_at.items() if t > now}
        return self._in_flight | waiting

    def _pause(self, why: str) -> float:
        """Pause every send with exponential backoff (5 s doubling to 5 minutes)."""
        self._pauses += 1
        delay = min(self.pause * 2 ** (self._pauses - 1), MAX_BACKOFF)
        self._paused_until = self.clock() + delay
        return delay

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        while not stop.is_set():
            started = await self.step()
            if not started:
                await self._idle_wait(stop)
        await self.finish()

    async def _idle_wait(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        now = self.clock()
        waits = [t - now for t in self._ready_at.values() if t > now]
        if self._paused_until > now:
            waits.append(self._paused_until - now)
        pause = min([self.idle, *waits]) if waits else self.idle
        stop_wait = asyncio.create_task(stop.wait())
        wake_wait = asyncio.create_task(self._wake.wait())
        await asyncio.wait({stop_wait, wake_wait}, timeout=max(pause, 0.01),
                           return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        wake_wait.cancel()

    async def finish(self) -> None:
        """Wait for the messages on their way (those still waiting for their turn go back
        to the queue), and record what can be recorded."""
        for task, turn in list(self._tasks.items()):
            if not turn.granted:
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._unrecorded:
            await self._record_unrecorded()

    async def step(self) -> int:
        """Start sending the due rows that may go now; returns how many were started."""
        if self.clock() < self._paused_until:
            return 0
        if self._unrecorded and not await self._record_unrecorded():
            return 0
        room = self.max_in_flight - len(self._in_flight)
        if room <= 0:
            await asyncio.sleep(0.01)
            return 0
        try:
            rows = await self.outbox.claim(utcnow(), self._busy(), room, self.lease)
        except STORAGE_ERRORS as exc:
            self._storage_failed(exc, "claiming messages")
            return 0
        started = 0
        for row in rows:
            self._in_flight.add(row.chat_id)
            turn = Turn()
            task = asyncio.create_task(self._send(row, turn))
            self._tasks[task] = turn
            task.add_done_callback(self._sent)
            started += 1
        return started

    def _sent(self, task: asyncio.Task) -> None:
        """A send is over: its chat may take the next message now."""
        self._tasks.pop(task, None)
        self._wake.set()

    def _storage_failed(self, exc: BaseException, doing: str) -> None:
        first = self.storage_error is None
        self.storage_error = f"{doing}: {type(exc).__name__}: {exc}"[:300]
        delay = self._pause(self.storage_error)
        if first:
            log.error("database write failed while %s (%s); sending paused, next try in"
                      " %.0f s", doing, exc, delay)

    async def _record_unrecorded(self) -> bool:
        pending, self._unrecorded = self._unrecorded, []
        for i, (row, outcome) in enumerate(pending):
            try:
                await self._apply(row, outcome)
            except STORAGE_ERRORS as exc:
                self._unrecorded = pending[i:]
                self._storage_failed(exc, "recording what Telegram answered")
                return False
        if self.storage_error is not None:
            log.warning("database writable again; sending resumes")
            self.storage_error = None
            self._pauses = 0
        return True

    async def drain(self, timeout: float = 60.0) -> None:
        """Send until the outbox holds nothing due (tests and benchmarks)."""
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if await self.step():
                await asyncio.sleep(0)
                continue
            if not self._in_flight and not self._unrecorded and not await self.outbox.due(
                    utcnow() + timedelta(days=1), set(), limit=1):
                return
            # Nothing could start: wait for a send to end (or 50 ms), not spin on the queue.
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.05)
        await self.finish()

    async def _send(self, row: OutboxRow, turn: Turn) -> None:
        CURRENT_TURN.set(turn)
        try:
            try:
                outcome = await self.transport.send(row)
            except asyncio.CancelledError:
                if turn.granted:
                    raise
                with contextlib.suppress(*STORAGE_ERRORS):  # stopping before its turn
                    await self.outbox.release(row.id, "not sent: stopping", utcnow())
                return
            try:
                await self._apply(row, outcome)
            except STORAGE_ERRORS as exc:
                self._unrecorded.append((row, outcome))
                self._storage_failed(exc, "recording what Telegram answered")
        finally:
            self._in_flight.discard(row.chat_id)

    async def _apply(self, row: OutboxRow, outcome: Outcome) -> None:
        chat = row.chat_id
        if outcome.kind == SENT:
            await self.outbox.mark_sent(row.id, outcome.message_id)
            if self.bot_down is not None:
                log.warning("Telegram accepts the bot again; sending resumes")
                self.bot_down = None
                self._pauses = 0
        elif outcome.kind == BOT_DOWN:
            first = self.bot_down is None
            self.bot_down = outcome.error
            delay = self._pause(outcome.error)
            await self.outbox.release(row.id, outcome.error,
                                      utcnow() + timedelta(seconds=delay))
            if first:
                log.error("Telegram refuses the bot: %s (token revoked, another pressbot or a"
                          " webhook on this token?); sending paused, next try in %.0f s",
                          outcome.error, delay)
        elif outcome.kind == MIGRATED:
            assert outcome.migrate_to is not None
            await self.outbox.release(row.id, outcome.error, utcnow())
            await self.store.chats.migrate(chat, outcome.migrate_to)
            log.info("chat %s moved to %s", chat, outcome.migrate_to, extra={"chat": chat})
        elif outcome.kind == CHAT_GONE:
            await self.outbox.stop_chat(chat, outcome.chat_status or "dead", outcome.error)
            log.info("chat %s: %s; delivery stopped", chat, outcome.error, extra={"chat": chat})
        elif outcome.kind == REJECTED:
            await self.outbox.fail(row.id, outcome.error)
            self.failed += 1
            log.warning("chat %s: message %s rejected: %s", chat, row.id, outcome.error,
                        extra={"chat": chat})
        elif outcome.retry_after is not None:  # 429: obey, not counted as an attempt
            self.too_many += 1
            self._ready_at[chat] = self.clock() + outcome.retry_after
            await self.outbox.retry(row.id, f"429 retry after {outcome.retry_after:g}",
                                    utcnow() + timedelta(seconds=outcome.retry_after),
                                    count=False, max_attempts=self.max_attempts)
        else:  # RETRY: the chat backs off exponentially
            delay = min(self.backoff * 2 ** row.attempts, MAX_BACKOFF)
            self._ready_at[chat] = self.clock() + delay
            if not await self.outbox.retry(row.id, outcome.error,
                                           utcnow() + timedelta(seconds=delay),
                                           max_attempts=self.max_attempts):
                self.failed += 1
                log.warning("chat %s: message %s failed after %d attempts: %s", chat, row.id,
                            self.max_attempts, outcome.error, extra={"chat": chat})
