"""A handler that fails still answers: the person gets a short apology and the log one line
(a damaged search index names the command that rebuilds it), never silence."""

from __future__ import annotations

import logging
import sqlite3

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.storage.db import damaged_hint
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, obey
from bot.telegram.texts import t
from bot.telegram.transport import describe

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def failed(event: ErrorEvent, store: Store) -> None:
        exc = event.exception
        hint = damaged_hint(exc) if isinstance(exc, sqlite3.Error) else ""
        update = event.update
        message = update.message or (update.callback_query.message
                                     if update.callback_query else None)
        chat_id = message.chat.id if message else None
        log.error("update %s failed: %s%s", update.update_id, describe(exc), hint,
                  exc_info=not isinstance(exc, sqlite3.Error), extra={"chat": chat_id})
        chat = await _chat(store, chat_id)
        lang = chat.lang if chat else "ru"
        try:
            if update.callback_query is not None:
                await obey(lambda: update.callback_query.answer(t(lang, "failed")))
            elif update.message is not None:
                await answer(update.message, t(lang, "failed"))
        except Exception as again:  # Telegram is down too: the log line is all we can do
            log.warning("could not tell chat %s: %s", chat_id, describe(again))

    return router


async def _chat(store: Store, chat_id: int | None):
    if chat_id is None:
        return None
    try:
        return await store.chats.get(chat_id)
    except Exception:  # the database is what failed
        return None
