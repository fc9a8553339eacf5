"""The Telegram side of a running pressbot: the bot client (or the console's stand-in), the
transport the sender uses, the Dispatcher with every handler, and the task that feeds it
updates (long polling, or the terminal in console mode)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.config import Settings
from bot.delivery.pacer import Pacer
from bot.storage.store import Store
from bot.telegram.app import build_dispatcher, set_commands
from bot.telegram.console import Console, ConsoleSession
from bot.telegram.transport import TelegramTransport, describe, make_bot

log = logging.getLogger(__name__)
COMMAND_ATTEMPTS = 8
MAX_RESTART = 300.0


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or return True at once when ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


class TelegramRuntime:
    def __init__(self, settings: Settings, store: Store, *, console: bool,
                 wake: Callable[[], None], scheduler: Any = None,
                 console_in: TextIO | None = None, console_out: TextIO | None = None,
                 polling_timeout: int = 30, charts: Any = None) -> None:
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
            self.bot = make_bot(settings.telegram.token, settings.telegram.api_server,
                                proxy=settings.telegram.proxy)
        self.pacer = Pacer(settings.telegram.rate, private_interval=0 if console else 1.0,
                           group_interval=0 if console else 3.0)
        self.transport = TelegramTransport(self.bot, self.pacer)
        self.dispatcher = build_dispatcher(store, settings, wake=wake, scheduler=scheduler,
                                           charts=charts)
        self._task: asyncio.Task | None = None
        self._commands_task: asyncio.Task | None = None
        self._stop: asyncio.Event | None = None
        self.polling_timeout = polling_timeout
        self.state = "starting"  # for /healthz: polling, restarting: <why>, console
        self.restarts = 0

    async def start(self, stop: asyncio.Event) -> None:
        """Start reading updates (or the terminal). Never fails for Telegram's sake: an
        unreachable Bot API, a failing getMe or setMyCommands are retried with backoff in
        the background while the rest of pressbot goes on."""
        self._stop = stop
        if self.console:
            assert self.session is not None
            console = Console(self.dispatcher, self.bot, self.session)
            self._task = asyncio.create_task(console.run(stop, self.console_in),
                                             name="console")
            self.state = "console"
            return
        self._commands_task = asyncio.create_task(self._set_commands(stop), name="commands")
        self._task = asyncio.create_task(self._supervise(stop), name="polling")

    async def _set_commands(self, stop: asyncio.Event) -> None:
        delay = 5.0
        for attempt in range(1, COMMAND_ATTEMPTS + 1):
            try:
                await set_commands(self.bot, self.settings.telegram.admins)
                return
            except Exception as exc:  # never fatal: the commands menu is a convenience
                if attempt == COMMAND_ATTEMPTS:
                    log.warning("setMyCommands failed %d times (%s); the menu stays as it was",
                                attempt, describe(exc))
                    return
                log.warning("setMyCommands failed (%s); trying again in %.0f s",
                            describe(exc), delay)
            if await _wait(stop, delay):
                return
            delay = min(delay * 2, MAX_RESTART)

    async def _supervise(self, stop: asyncio.Event) -> None:
        """Long polling, restarted with backoff whenever it stops (getMe failing at start, a
        crash inside aiogram), until pressbot stops."""
        delay = 1.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            began = loop.time()
            self.state = "polling"
            try:
                await self.dispatcher.start_polling(
                    self.bot, handle_signals=False, close_bot_session=False,
                    polling_timeout=self.polling_timeout)
                reason = "polling stopped"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = describe(exc)
            if stop.is_set():
                break
            if loop.time() - began > 60:
                delay = 1.0
            self.state = f"restarting: {reason}"
            self.restarts += 1
            log.warning("Telegram updates: %s; reading them again in %.0f s", reason, delay)
            if await _wait(stop, delay):
                break
            delay = min(delay * 2, MAX_RESTART)
        self.state = "stopped"

    async def stop(self) -> None:
        if not self.console and self.dispatcher._running_lock.locked():
            with contextlib.suppress(RuntimeError):  # polling just ended on its own
                await self.dispatcher.stop_polling()
        for task in (self._task, self._commands_task):
            if task is None:
                continue
            await asyncio.wait({task}, timeout=5)
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        await self.pacer.close()
        await self.bot.session.close()

    @property
    def tasks(self) -> list[asyncio.Task]:
        return [self._task] if self._task is not None else []
