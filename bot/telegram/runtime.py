"""The Telegram side of a running pressbot: the bot client (or the console's stand-in), the
transport the sender uses, the Dispatcher with every handler, and the task that feeds it
updates (long polling, or the terminal in console mode)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.config import Settings
from bot.storage.store import Store
from bot.telegram.app import build_dispatcher, set_commands
from bot.telegram.console import Console, ConsoleSession
from bot.telegram.transport import TelegramTransport, make_bot

log = logging.getLogger(__name__)


class TelegramRuntime:
    def __init__(self, settings: Settings, store: Store, *, console: bool,
                 wake: Callable[[], None], scheduler: Any = None,
                 console_in: TextIO | None = None, console_out: TextIO | None = None) -> None:
        self.settings = settings
        self.console = console
        self.console_in = console_in or sys.stdin
        if console:
            self.session: ConsoleSession | None = ConsoleSession(console_out or sys.stdout)
            self.bot = Bot("1000:console", session=self.session,
                           default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        else:
            assert settings.telegram.token is not None
            self.session = None
            self.bot = make_bot(settings.telegram.token, settings.telegram.api_server)
        self.transport = TelegramTransport(self.bot)
        self.dispatcher = build_dispatcher(store, settings, wake=wake, scheduler=scheduler)
        self._task: asyncio.Task | None = None

    async def start(self, stop: asyncio.Event) -> None:
        if self.console:
            assert self.session is not None
            console = Console(self.dispatcher, self.bot, self.session)
            self._task = asyncio.create_task(console.run(stop, self.console_in),
                                             name="console")
            return
        await set_commands(self.bot, self.settings.telegram.admins)
        self._task = asyncio.create_task(
            self.dispatcher.start_polling(self.bot, handle_signals=False,
                                          close_bot_session=False), name="polling")

    async def stop(self) -> None:
        if not self.console and self._task is not None and not self._task.done():
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:  # polling had not started
                self._task.cancel()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)
            if not self._task.done():
                self._task.cancel()

    async def close(self) -> None:
        await self.bot.session.close()

    @property
    def tasks(self) -> list[asyncio.Task]:
        return [self._task] if self._task is not None else []
