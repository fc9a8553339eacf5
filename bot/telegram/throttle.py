"""A per-chat limit on commands and button presses: a chat that sends more than
``per_minute`` in a minute gets one polite notice (at most one a minute), then no answers until
its minute frees up. Keeps one user from spending the bot's sending budget (30 messages a second
for everyone)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.telegram.handlers.common import answer, obey
from bot.telegram.texts import t

WINDOW = 60.0


class Throttle(BaseMiddleware):
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}
        self.warned: dict[int, float] = {}  # chat -> when it was last told to slow down

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message):
            chat_id = event.chat.id
        elif isinstance(event, CallbackQuery):
            chat_id = event.message.chat.id if event.message else event.from_user.id
        else:
            return await handler(event, data)
        now = self.clock()
        times = self.seen.setdefault(chat_id, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            quiet = isinstance(event, CallbackQuery)
            if self.warned.get(chat_id, -WINDOW) <= now - WINDOW:
                self.warned[chat_id] = now
                chat = await data["store"].chats.get(chat_id)
                text = t(chat.lang if chat else "ru", "slow_down")
                if quiet:
                    await obey(lambda: event.answer(text))
                else:
                    await answer(event, text)
            elif quiet:
                await obey(lambda: event.answer())  # the button stops spinning, nothing more
            return None
        times.append(now)
        if len(self.seen) > 100_000:  # forget chats idle for a minute
            for key in [k for k, v in self.seen.items() if not v or v[-1] <= now - WINDOW]:
                del self.seen[key]
                self.warned.pop(key, None)
        return await handler(event, data)
