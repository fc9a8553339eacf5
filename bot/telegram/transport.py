"""Outbox rows to the Bot API through aiogram's real client, and every answer classified.

``classify`` is the one place that says what an error of the Bot API means for a message
(bot/delivery/outcomes.py); the sender acts on the class alone. Nothing escapes ``send``: an
error nobody foresaw is a retry later, never a loss and never an immediate repeat.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import LinkPreviewOptions

from bot.delivery.outcomes import (
    BOT_DOWN,
    CHAT_GONE,
    MIGRATED,
    REJECTED,
    RETRY,
    SENT,
    Outcome,
)
from bot.delivery.pacer import Pacer
from bot.logs import redact
from bot.storage.outbox import OutboxRow
from bot.telegram.pacing import BULK, install_pacer

log = logging.getLogger(__name__)

# 400 descriptions that mean the chat cannot be reached at all (not this one message).
_GONE_400 = ("chat not found", "user not found", "group chat was deactivated",
             "have no rights to send", "not enough rights to send", "bot is not a member",
             "peer_id_invalid")
_NOT_MODIFIED = "message is not modified"


def make_bot(token: str, api_server: str | None = None, *, proxy: str | None = None,
             timeout: float = 60.0) -> Bot:
    """aiogram's real client, pointed at Telegram or at a self-hosted Bot API server.
    ``timeout`` bounds every request (long polling adds its own wait to it)."""
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    kwargs: dict = {"timeout": timeout}
    if proxy:
        kwargs["proxy"] = proxy
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_server), **kwargs) \
        if api_server else AiohttpSession(**kwargs)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


_CODES = ((TelegramUnauthorizedError, "401"), (TelegramForbiddenError, "403"),
          (TelegramNotFound, "404"), (TelegramConflictError, "409"),
          (TelegramEntityTooLarge, "413"), (TelegramRetryAfter, "429"),
          (TelegramMigrateToChat, "400"), (TelegramBadRequest, "400"),
          (TelegramServerError, "5xx"))


def describe(exc: BaseException) -> str:
    """One line naming the error, the token redacted, at most 300 characters."""
    if isinstance(exc, TelegramAPIError):
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), "")
        text = f"{code} {exc.message}".strip()
    elif isinstance(exc, ClientDecodeError):
        text = f"undecodable answer: {exc.message}"
    else:
        text = str(exc) or type(exc).__name__
    first = text.splitlines()[0] if text else type(exc).__name__
    return redact(f"{type(exc).__name__}: {first}")[:300]


def classify(exc: BaseException) -> Outcome:
    """What an exception raised by a Bot API call means for the message."""
    error = describe(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Outcome(RETRY, error, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramMigrateToChat):
        return Outcome(MIGRATED, error, migrate_to=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramForbiddenError):
        return Outcome(CHAT_GONE, error, chat_status="blocked")
    if isinstance(exc, TelegramEntityTooLarge):
        return Outcome(REJECTED, error)
    if isinstance(exc, TelegramBadRequest):
        low = exc.message.lower()
        if any(m in low for m in _GONE_400):
            return Outcome(CHAT_GONE, error, chat_status="dead")
        return Outcome(REJECTED, error)
    if isinstance(exc, TelegramUnauthorizedError | TelegramConflictError | TelegramNotFound):
        return Outcome(BOT_DOWN, error)
    if isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError
                  | aiohttp.ClientError | OSError | TimeoutError | asyncio.TimeoutError):
        return Outcome(RETRY, error)
    return Outcome(RETRY, error)  # anything else: later, with backoff


class TelegramTransport:
    """Sends outbox rows with ``bot``, paced by ``pacer`` behind people waiting for an
    answer, and classifies the outcome."""

    def __init__(self, bot: Bot, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.pacer = pacer or Pacer()
        install_pacer(bot, self.pacer)

    async def send(self, row: OutboxRow) -> Outcome:
        token = BULK.set(True)
        try:
            return await self._send(row)
        finally:
            BULK.reset(token)

    async def _send(self, row: OutboxRow) -> Outcome:
        preview = LinkPreviewOptions(is_disabled=not row.preview)
        try:
            if row.kind == "edit" and row.edit_message_id:
                message = await self.bot.edit_message_text(
                    text=row.text, chat_id=row.chat_id, message_id=row.edit_message_id,
                    link_preview_options=preview)
                message_id = row.edit_message_id if message is True else message.message_id
            else:
                message = await self.bot.send_message(
                    row.chat_id, row.text, message_thread_id=row.thread_id,
                    link_preview_options=preview,
                    disable_notification=True if row.silent else None)
                message_id = message.message_id
        except asyncio.CancelledError:
            raise
        except TelegramBadRequest as exc:
            if row.kind == "edit" and _NOT_MODIFIED in exc.message.lower():
                return Outcome(SENT, message_id=row.edit_message_id)  # it says so already
            return classify(exc)
        except Exception as exc:  # classified, never raised: see the module docstring
            outcome = classify(exc)
            if not isinstance(exc, TelegramAPIError | ClientDecodeError | aiohttp.ClientError
                              | OSError | TimeoutError):
                log.warning("chat %s: unexpected %s", row.chat_id, outcome.error,
                            extra={"chat": row.chat_id})
            return outcome
        return Outcome(SENT, message_id=message_id)

    async def close(self) -> None:
        await self.bot.session.close()
