"""The paced sender: drains the outbox under Telegram's limits and never loses a message.

- At most one message in flight per chat, and a chat's next message waits its interval (1 s for
  a private chat, 3 s for a group or channel: 20 a minute).
- Overall, sends take slots from one clock at ``rate`` a second (30 by default; more only with
  paid broadcasts). A 429 pauses that chat for ``retry_after`` and slows everything down for a
  while; successes bring the rate back.
- 403 (blocked, deactivated): the chat is marked blocked and its queue dropped. 400 "chat not
  found": marked dead. migrate_to_chat_id: the chat moves and the message is sent again at once.
  Network errors and 5xx: retried with exponential backoff (up to 5 minutes).
- A row is marked sent only after Telegram accepted it: a crash repeats at most the message in
  flight, one per chat. ``run`` stops taking rows when asked and finishes those in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import LinkPreviewOptions

from bot.storage import outbox
from bot.storage.chats import migrate_chat
from bot.storage.db import Database, utcnow

log = logging.getLogger(__name__)

PRIVATE_INTERVAL = 1.0
GROUP_INTERVAL = 3.0
MAX_BACKOFF = 300.0
MARGIN = 0.97  # slots at 97% of the limit: network jitter bunches arrivals at the server


def make_bot(token: str, api_server: str | None = None) -> Bot:
    """aiogram's real client, pointed at Telegram or at a self-hosted Bot API server."""
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(api_server)) if api_server \
        else AiohttpSession()
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class Sender:
    def __init__(self, db: Database, bot: Bot, *, rate: float = 30.0,
                 max_in_flight: int = 64, idle: float = 0.2,
                 clock: Callable[[], float] = time.monotonic,
                 private_interval: float = PRIVATE_INTERVAL,
                 group_interval: float = GROUP_INTERVAL) -> None:
        """The intervals are Telegram's per-chat limits; a self-hosted Bot API server in
        local mode, or a test, may set others."""
        self.db = db
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.bot = bot
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
        self.sent = 0
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
        rows = await outbox.due(self.db, utcnow(), self._busy(), limit=room)
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
        """Send until the outbox holds nothing due (tests and `pressbot digest`)."""
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if not await self.step() and not self._in_flight:
                if not await outbox.due(self.db, utcnow() + timedelta(days=1), set(), limit=1):
                    return
                await asyncio.sleep(0.05)
            await asyncio.sleep(0)
        await self.finish()

    def _interval(self, row: outbox.OutboxRow) -> float:
        return self.group_interval if row.chat_kind != "private" else self.private_interval

    async def _send(self, row: outbox.OutboxRow) -> None:
        chat = row.chat_id
        try:
            if row.kind == "edit" and row.edit_message_id:
                message = await self.bot.edit_message_text(
                    text=row.text, chat_id=chat, message_id=row.edit_message_id,
                    link_preview_options=LinkPreviewOptions(is_disabled=not row.preview))
                message_id = row.edit_message_id if message is True else message.message_id
            else:
                message = await self.bot.send_message(
                    chat, row.text, message_thread_id=row.thread_id,
                    link_preview_options=LinkPreviewOptions(is_disabled=not row.preview))
                message_id = message.message_id
        except TelegramRetryAfter as exc:
            self.too_many += 1
            self._factor = max(0.5, self._factor * 0.8)
            self._ready_at[chat] = self.clock() + exc.retry_after
            await outbox.mark_retry(self.db, row.id, f"429 retry after {exc.retry_after}",
                                    utcnow() + timedelta(seconds=exc.retry_after), count=False)
            log.info("chat %s: 429, retry after %ss", chat, exc.retry_after,
                     extra={"chat": chat})
        except TelegramMigrateToChat as exc:
            await migrate_chat(self.db, chat, exc.migrate_to_chat_id)
            log.info("chat %s moved to %s", chat, exc.migrate_to_chat_id, extra={"chat": chat})
        except TelegramForbiddenError as exc:
            await outbox.stop_chat(self.db, chat, "blocked", exc.message)
            log.info("chat %s: %s; delivery stopped", chat, exc.message, extra={"chat": chat})
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                await outbox.stop_chat(self.db, chat, "dead", exc.message)
            else:  # the message itself is wrong: sending it again will not help
                await outbox.drop(self.db, row.id, exc.message)
            log.warning("chat %s: %s", chat, exc.message, extra={"chat": chat})
        except (TelegramServerError, TelegramNetworkError, OSError, TimeoutError) as exc:
            delay = min(2.0 ** (row.attempts + 1), MAX_BACKOFF)
            self._ready_at[chat] = self.clock() + delay
            await outbox.mark_retry(self.db, row.id, f"{type(exc).__name__}: {exc}",
                                    utcnow() + timedelta(seconds=delay))
        else:
            await outbox.mark_sent(self.db, row.id, message_id)
            self.sent += 1
            self._factor = min(1.0, self._factor * 1.02)
            self._ready_at[chat] = self.clock() + self._interval(row)
        finally:
            self._in_flight.discard(chat)
