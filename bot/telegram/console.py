"""Console mode: the same Dispatcher and handlers, with the terminal as the one chat.

A ConsoleSession stands in for aiogram's HTTP session: the Bot API calls the handlers and the
sender make are answered here, messages print as plain text, inline buttons as numbered
choices. Lines typed are what the user sends; a number presses that button.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sys
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import Update

from bot.models import CONSOLE_CHAT

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_CYRILLIC = re.compile(r"[а-яё]", re.I)
_BOT = {"id": 1000, "is_bot": True, "first_name": "pressbot", "username": "pressbot"}
_USER = {"id": CONSOLE_CHAT, "is_bot": False, "first_name": "Вы"}
_CHAT = {"id": CONSOLE_CHAT, "type": "private", "first_name": "Вы"}


def plain(text: str) -> str:
    """What the reader sees of an HTML message: tags gone, links shown after their text,
    entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    return html.unescape(_TAG.sub("", text))


def _russian(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


class ConsoleSession(BaseSession):
    def __init__(self, out: TextIO = sys.stdout) -> None:
        super().__init__()
        self.out = out
        self.buttons: list[str] = []  # callback data of the buttons shown last
        self.keyboard_message = 0
        self.russian = True  # the language of the last message: hints follow it
        self._message_id = 0

    def _print_keyboard(self, markup: Any) -> None:
        rows = getattr(markup, "inline_keyboard", None) or []
        self.buttons = []
        for row in rows:
            for button in row:
                self.buttons.append(button.callback_data or "")
                self.out.write(f"  [{len(self.buttons)}] {button.text}\n")
        if self.buttons:
            self.out.write("  (чтобы нажать кнопку, напишите её номер)\n" if self.russian
                           else "  (type a number to press a button)\n")

    async def make_request(self, bot: Bot, method: TelegramMethod[Any],
                           timeout: int | None = None) -> Any:
        now = int(time.time())
        if isinstance(method, GetMe):
            return method.__returning__.model_validate(_BOT)
        if isinstance(method, SendMessage):
            self._message_id += 1
            self.russian = _russian(method.text)
            self.out.write(f"\n{plain(method.text)}\n")
            if method.reply_markup is not None:
                self.keyboard_message = self._message_id
                self._print_keyboard(method.reply_markup)
            self.out.flush()
            return method.__returning__.model_validate(
                {"message_id": self._message_id, "date": now, "chat": _CHAT,
                 "text": method.text}, context={"bot": bot})
        if isinstance(method, EditMessageReplyMarkup | EditMessageText):
            if isinstance(method, EditMessageText):  # marked: not a second delivery
                self.out.write(f"\n✎ {plain(method.text)}\n")
            self._print_keyboard(method.reply_markup)
            self.out.flush()
            return True
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self.out.write(f"  · {method.text}\n")
                self.out.flush()
            return True
        return True  # setMyCommands, deleteWebhook and the like

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None,
                             timeout: int = 30, chunk_size: int = 65536,
                             raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("no files in console mode")
        yield b""  # pragma: no cover

    async def close(self) -> None:
        return None


class Console:
    """Reads lines and feeds them to the Dispatcher as one user's updates."""

    def __init__(self, dp: Dispatcher, bot: Bot, session: ConsoleSession) -> None:
        self.dp = dp
        self.bot = bot
        self.session = session
        self._update_id = 0
        self._message_id = 100_000

    def update_for(self, line: str) -> Update | None:
        line = line.strip()
        if not line:
            return None
        self._update_id += 1
        self._message_id += 1
        now = int(time.time())
        if line.isdigit() and len(line) < 6 and self.session.buttons and not 1 <= int(
                line) <= len(self.session.buttons):
            n = len(self.session.buttons)
            self.session.out.write(f"  (нет кнопки с номером {line}: их {n})\n"
                                   if self.session.russian
                                   else f"  (there is no button {line}: there are {n})\n")
            self.session.out.flush()
            return None
        if line.isdigit() and 1 <= int(line) <= len(self.session.buttons):
            data = self.session.buttons[int(line) - 1]
            return Update.model_validate({"update_id": self._update_id, "callback_query": {
                "id": str(self._update_id), "chat_instance": "console", "from": _USER,
                "data": data, "message": {"message_id": self.session.keyboard_message,
                                          "date": now, "chat": _CHAT, "text": "…"}}},
                context={"bot": self.bot})
        message: dict[str, Any] = {"message_id": self._message_id, "date": now, "chat": _CHAT,
                                   "from": _USER, "text": line}
        if line.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(line.split()[0])}]
        return Update.model_validate({"update_id": self._update_id, "message": message},
                                     context={"bot": self.bot})

    async def feed(self, line: str) -> None:
        update = self.update_for(line)
        if update is not None:
            await self.dp.feed_update(self.bot, update)

    async def run(self, stop: asyncio.Event, stream: TextIO = sys.stdin) -> None:
        """Feed typed lines until input ends or ``stop``; stdin is read on a daemon thread so
        that stopping never waits for a line."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def reader() -> None:
            for line in iter(stream.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")

        threading.Thread(target=reader, name="console-input", daemon=True).start()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.ensure_future(lines.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():  # stopped while waiting for a line: at once
                    getting.cancel()
                    return
                line = getting.result()
                if not line:  # end of input: the bot goes on polling until stopped
                    return
                await self._handle(line)
        finally:
            stopping.cancel()

    async def _handle(self, line: str) -> None:
        try:
            await self.feed(line)
        except Exception:  # a handler's bug must not end the console
            log.exception("console: handling %r failed", line[:80])
