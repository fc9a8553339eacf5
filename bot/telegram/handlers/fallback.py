"""Anything else: an unknown command gets a hint, not silence. Included last."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.storage.store import Store
from bot.telegram.handlers.common import answer, chat_of
from bot.telegram.texts import t


def build_router() -> Router:
    router = Router(name="fallback")

    @router.message(F.text.startswith("/"))
    async def unknown(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        await answer(message, t(chat.lang, "unknown"))

    @router.message(F.chat.type == "private")
    async def other(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        await answer(message, t(chat.lang, "not_command"))

    return router
