"""The paced sender: drains the outbox under Telegram's limits and never loses a message.

- At most one message in flight per chat, and a chat's next message waits its interval (1 s for
  a private chat, 3 s for a group or channel: 20 a minute).
- Overall, sends take slots from one clock at ``rate`` a second (30 by default; more only with
  paid broadcasts). A 429 pauses that chat for ``retry_after`` and slows everything down for a
  while; successes bring the rate back.
- What Telegram answered is classified by the transport (bot/delivery/outcomes.py): a chat
  that is gone is marked and its queue dropped; a rejected message is dropped with its reason;
  a migrated group moves and the message goes again; everything else is retried with
  exponential backoff (up to 5 minutes).
- A row is marked sent only after Telegram accepted it: a crash repeats at most the message in
  flight, one per chat. ``run`` stops taking rows when asked and finishes those in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bot.delivery.outcomes import BOT_DOWN, CHAT_GONE, MIGRATED, REJECTED, SENT, Outcome
from bot.storage.db import utcnow
from bot.storage.outbox import OutboxRow
from bot.storage.store import Store

log = logging.getLogger(__name__)

PRIVATE_INTERVAL = 1.0
GROUP_INTERVAL = 3.0
MAX_BACKOFF = 300.0
MARGIN = 0.97  # slots at 97% of the limit: network jitter bunches arrivals at the server


class Transport(Protocol):
    async def send(self, row: OutboxRow) -> Outcome: ...


class Sender:
    def __init__(self, store: Store, transport: Transport, *, rate: float = 30.0,
                 max_in_flight: int = 64, idle: float = 0.2,
                 clock: Callable[[], float] = time.monotonic,
                 private_interval: float = PRIVATE_INTERVAL,
                 group_interval: float = GROUP_INTERVAL) -> None:
        """The intervals are Telegram's per-chat limits; a self-hosted Bot API server in
        local mode, or a test, may set others."""
        self.store = store
        self.outbox = store.outbox
        self.transport = transport
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.rate = rate
        self.max_in_flight = max_in_flight
        self.idle = idle
        self.clock = clock
        self._factor = 1.0  # < 1 after 429s
        self._next_slot = 0.0
        self._ready_at: dict[int, float] = {}
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.too_many = 0

    def wake(self) -> None:
        """New rows were queued: look now rather than after the idle pause."""
        self._wake.set()

    async def _slot(self) -> None:
        now = self.clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / (self.rate * MARGIN * self._factor)
        if slot > now:
            await asyncio.sleep(slot - now)

    def _busy(self) -> set[int]:
        now = self.clock()
        waiting = {c for c, t in self._ready_at.items() if t > now}
        return self._in_flight | waiting

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        while not stop.is_set():
            started = await self.step()
            if not started:
                self._wake.clear()
                waits = [t - self.clock() for t in self._ready_at.values() if t > self.clock()]
                pause = min([self.idle, *waits]) if waits else self.idle
                stop_wait = asyncio.create_task(stop.wait())
                wake_wait = asyncio.create_task(self._wake.wait())
                await asyncio.wait({stop_wait, wake_wait}, timeout=max(pause, 0.01),
                                   return_when=asyncio.FIRST_COMPLETED)
                stop_wait.cancel()
                wake_wait.cancel()
        await self.finish()

    async def finish(self) -> None:
        """Wait for the messages in flight."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def step(self) -> int:
        """Start sending the due rows that may go now; returns how many were started."""
        room = self.max_in_flight - len(self._in_flight)
        if room <= 0:
            await asyncio.sleep(0.01)
            return 0
        rows = await self.outbox.due(utcnow(), self._busy(), limit=room)
        started = 0
        for row in rows:
            if self._stop.is_set():
                break
            if row.chat_id in self._busy():
                continue
            await self._slot()
            if self._stop.is_set():
                break
            self._in_flight.add(row.chat_id)
            task = asyncio.create_task(self._send(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def drain(self, timeout: float = 60.0) -> None:
        """Send until the outbox holds nothing due (tests and benchmarks)."""
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if not await self.step() and not self._in_flight:
                if not await self.outbox.due(utcnow() + timedelta(days=1), set(), limit=1):
                    return
                await asyncio.sleep(0.05)
            await asyncio.sleep(0)
        await self.finish()

    def _interval(self, row: OutboxRow) -> float:
        return self.group_interval if row.chat_kind != "private" else self.private_interval

    async def _send(self, row: OutboxRow) -> None:
        chat = row.chat_id
        try:
            outcome = await self.transport.send(row)
            await self._apply(row, outcome)
        finally:
            self._in_flight.discard(chat)

    async def _apply(self, row: OutboxRow, outcome: Outcome) -> None:
        chat = row.chat_id
        if outcome.kind == SENT:
            await self.outbox.mark_sent(row.id, outcome.message_id)
            self._factor = min(1.0, self._factor * 1.02)
            self._ready_at[chat] = self.clock() + self._interval(row)
        elif outcome.retry_after is not None:
            self.too_many += 1
            self._factor = max(0.5, self._factor * 0.8)
            self._ready_at[chat] = self.clock() + outcome.retry_after
            await self.outbox.retry(row.id, f"429 retry after {outcome.retry_after:g}",
                                    utcnow() + timedelta(seconds=outcome.retry_after),
                                    count=False)
            log.info("chat %s: 429, retry after %ss", chat, outcome.retry_after,
                     extra={"chat": chat})
        elif outcome.kind == MIGRATED:
            assert outcome.migrate_to is not None
            await self.store.chats.migrate(chat, outcome.migrate_to)
            log.info("chat %s moved to %s", chat, outcome.migrate_to, extra={"chat": chat})
        elif outcome.kind == CHAT_GONE:
            await self.outbox.stop_chat(chat, outcome.chat_status or "dead", outcome.error)
            log.info("chat %s: %s; delivery stopped", chat, outcome.error, extra={"chat": chat})
        elif outcome.kind in (REJECTED, BOT_DOWN):
            await self.outbox.drop(row.id, outcome.error)
            log.warning("chat %s: %s", chat, outcome.error, extra={"chat": chat})
        else:  # RETRY
            delay = min(2.0 ** (row.attempts + 1), MAX_BACKOFF)
            self._ready_at[chat] = self.clock() + delay
            await self.outbox.retry(row.id, outcome.error, utcnow() + timedelta(seconds=delay))
