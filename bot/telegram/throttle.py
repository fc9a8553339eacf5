"""A per-chat limit on commands: a chat that sends more than ``per_minute`` messages in a
minute gets one polite notice, then no answers until its minute frees up. Keeps one user from
spending the bot's sending budget (30 messages a second for everyone)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from bot.telegram.handlers.common import answer
from bot.telegram.texts import t

WINDOW = 60.0


class Throttle(BaseMiddleware):
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}
        self.warned: set[int] = set()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message):
            return await handler(event, data)
        chat_id = event.chat.id
        now = self.clock()
        times = self.seen.setdefault(chat_id, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            if chat_id not in self.warned:
                self.warned.add(chat_id)
                chat = await data["store"].chats.get(chat_id)
                await answer(event, t(chat.lang if chat else "ru", "slow_down"))
            return None
        self.warned.discard(chat_id)
        times.append(now)
        if len(self.seen) > 100_000:  # forget chats idle for a minute
            for key in [k for k, v in self.seen.items() if not v or v[-1] <= now - WINDOW]:
                del self.seen[key]
        return await handler(event, data)
