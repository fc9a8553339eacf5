"""Helpers the handler modules share: the chat's language, argument checks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import Chat as TgChat
from aiogram.types import Message

from bot.models import Chat
from bot.storage.store import Store

_WORD = re.compile(r"^[\w][\w\- ]{0,59}$")
_TIME = re.compile(r"^([01]?\d|2[0-3])(?:[:.]([0-5]\d))?$")
_QUIET = re.compile(r"^\s*(\S+)\s*[-–—]\s*(\S+)\s*$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


async def obey(call: Callable[[], Awaitable[Any]], attempts: int = 4) -> Any:
    """Run a reply, waiting out 429s (retry_after) up to a few times; a chat that blocked
    the bot gets no reply."""
    for attempt in range(attempts):
        try:
            return await call()
        except TelegramRetryAfter as exc:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(exc.retry_after)
        except TelegramForbiddenError:
            return None
    return None


async def answer(message: Message, text: str, **kwargs: Any) -> Any:
    return await obey(lambda: message.answer(text, **kwargs))


async def chat_of(store: Store, tg_chat: TgChat) -> Chat:
    """The stored chat, created on first contact (inactive until /start)."""
    chat = await store.chats.get(tg_chat.id)
    if chat is None:
        chat = await store.chats.upsert(tg_chat.id, tg_chat.type, title=tg_chat.title,
                                        activate=False)
    return chat


def argument(text: str | None) -> str:
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def clean_word(raw: str) -> str | None:
    word = " ".join(raw.split())
    return word if _WORD.match(word) else None


def parse_time(raw: str) -> str | None:
    """'9', '9:00', '09:00', '9.30' -> 'HH:MM'."""
    m = _TIME.match(raw.strip())
    return f"{int(m.group(1)):02d}:{m.group(2) or '00'}" if m else None


def parse_quiet(raw: str) -> tuple[str, str] | None:
    """'22:00-08:00' -> ('22:00', '08:00'); the two ends must differ."""
    m = _QUIET.match(raw)
    if not m:
        return None
    start, end = parse_time(m.group(1)), parse_time(m.group(2))
    return (start, end) if start and end and start != end else None


def parse_tz(raw: str) -> str | None:
    """An IANA zone ('Asia/Tomsk') or an offset ('UTC+7', '+05:30') as a canonical string."""
    raw = raw.strip()
    if not raw or len(raw) > 40:
        return None
    m = _OFFSET.match(raw)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        return f"UTC{m.group(1)}{hours:02d}:{minutes:02d}"
    if raw.startswith(("/", ".")) or ".." in raw:
        return None
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder of zones
        return None
    return raw
