"""Every request that posts something goes through the one pacer (bot/delivery/pacer.py): an
aiogram request middleware on the bot's session, so command replies, button answers, edits and
the outbox's messages share Telegram's limits. A reply that meets 429 waits ``retry_after`` and
is sent again, not dropped; the outbox's sends (marked bulk) hand the 429 to the sender, which
reschedules the row."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    ForwardMessage,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
)

from bot.delivery.pacer import Pacer

# Sends of the outbox run with BULK set: they wait behind people waiting for an answer.
BULK: contextvars.ContextVar[bool] = contextvars.ContextVar("pressbot_bulk", default=False)
_POSTS = (SendMessage, EditMessageText, EditMessageReplyMarkup, EditMessageCaption, SendPhoto,
          SendDocument, SendMediaGroup, CopyMessage, ForwardMessage)
REPLY_ATTEMPTS = 6


def _chat(method: Any) -> tuple[int | None, bool]:
    chat = getattr(method, "chat_id", None)
    if isinstance(chat, int):
        return chat, chat < 0
    if isinstance(chat, str):  # "@channel"
        return hash(chat), True
    return None, False


class PacingMiddleware(BaseRequestMiddleware):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def __call__(self, make_request, bot: Bot, method):  # type: ignore[override]
        if not isinstance(method, (*_POSTS, AnswerCallbackQuery)):
            return await make_request(bot, method)
        chat, group = _chat(method) if isinstance(method, _POSTS) else (None, False)
        bulk = BULK.get()
        for attempt in range(REPLY_ATTEMPTS):
            await self.pacer.acquire(chat, group=group, urgent=not bulk)
            try:
                response = await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.pacer.finished(chat, group=group)
                self.pacer.too_fast(chat, float(exc.retry_after))
                if bulk or attempt == REPLY_ATTEMPTS - 1:
                    raise
                if chat is None:  # no chat to hold back: wait here
                    await asyncio.sleep(exc.retry_after)
                continue
            except BaseException:
                self.pacer.finished(chat, group=group)
                raise
            self.pacer.finished(chat, group=group)
            self.pacer.went_through()
            return response
        raise AssertionError("unreachable")


def install_pacer(bot: Bot, pacer: Pacer) -> None:
    """Pace every request of ``bot`` (once)."""
    if not any(isinstance(m, PacingMiddleware) for m in bot.session.middleware):
        bot.session.middleware(PacingMiddleware(pacer))
