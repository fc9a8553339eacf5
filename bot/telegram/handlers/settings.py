"""/mode, /time, /tz."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of, parse_time, parse_tz
from bot.telegram.texts import t


def build_router() -> Router:
    router = Router(name="settings")

    @router.message(Command("mode"))
    async def mode(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        choice = argument(message.text).lower()
        if choice not in ("instant", "digest"):
            await answer(message, t(chat.lang, "mode_usage"))
            return
        if choice == "digest" and chat.last_digest_at is None:
            # the first digest comes at the next digest time, with the stories from now on
            await store.chats.update(chat.chat_id, mode=choice, last_digest_at=utcnow())
        else:
            await store.chats.update(chat.chat_id, mode=choice)
        await answer(message, t(chat.lang, "mode_set", mode=choice))

    @router.message(Command("time"))
    async def time_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        value = parse_time(argument(message.text))
        if value is None:
            await answer(message, t(chat.lang, "time_usage"))
            return
        await store.chats.update(chat.chat_id, digest_time=value)
        await answer(message, t(chat.lang, "time_set", time=value))

    @router.message(Command("tz"))
    async def tz(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        value = parse_tz(argument(message.text))
        if value is None:
            await answer(message, t(chat.lang, "tz_usage"))
            return
        await store.chats.update(chat.chat_id, tz=value)
        await answer(message, t(chat.lang, "tz_set", tz=value))

    return router
