"""/settings, /mode, /time, /tz, /quiet: each shows the setting in words when sent without an
argument, and the whole settings after a change."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.models import Chat
from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.telegram.handlers.common import (
    answer,
    argument,
    chat_of,
    parse_quiet,
    parse_time,
    parse_tz,
)
from bot.telegram.texts import TZ_EXAMPLES, settings_lines, t


def settings_text(chat: Chat, *, usage: str | None = None) -> str:
    lines = [t(chat.lang, "settings_head"), *settings_lines(chat.lang, chat)]
    if usage:
        lines += ["", t(chat.lang, usage)]
    return "\n".join(lines)


def build_router() -> Router:
    router = Router(name="settings")

    async def show(message: Message, store: Store, chat_id: int,
                   usage: str | None = None) -> None:
        chat = await store.chats.get(chat_id)
        assert chat is not None
        await answer(message, settings_text(chat, usage=usage))

    @router.message(Command("settings"))
    async def settings_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        await show(message, store, chat.chat_id)

    @router.message(Command("mode"))
    async def mode(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        choice = argument(message.text).lower()
        if choice not in ("instant", "digest"):
            await show(message, store, chat.chat_id, "mode_usage")
            return
        if choice == "digest" and chat.last_digest_at is None:
            # the first digest comes at the next digest time, with the stories from now on
            await store.chats.update(chat.chat_id, mode=choice, last_digest_at=utcnow())
        else:
            await store.chats.update(chat.chat_id, mode=choice)
        await show(message, store, chat.chat_id)

    @router.message(Command("time"))
    async def time_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        raw = argument(message.text)
        value = parse_time(raw) if raw else None
        if value is None:
            await show(message, store, chat.chat_id, "time_usage")
            return
        await store.chats.update(chat.chat_id, digest_time=value)
        await show(message, store, chat.chat_id)

    @router.message(Command("tz"))
    async def tz(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        raw = argument(message.text)
        value = parse_tz(raw) if raw else None
        if value is None:
            region = TZ_EXAMPLES.get(raw.strip().strip("/").lower()) if raw else None
            if region:
                await answer(message, t(chat.lang, "tz_region", tz=raw.strip()[:40],
                                        examples=region))
                return
            await show(message, store, chat.chat_id, "tz_usage")
            return
        await store.chats.update(chat.chat_id, tz=value)
        await show(message, store, chat.chat_id)

    @router.message(Command("quiet"))
    async def quiet(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        raw = argument(message.text)
        if raw.lower() in ("off", "нет", "выкл"):
            await store.chats.update(chat.chat_id, quiet_start=None, quiet_end=None)
            await answer(message, t(chat.lang, "quiet_off"))
            return
        window = parse_quiet(raw) if raw else None
        if window is None:
            await show(message, store, chat.chat_id, "quiet_usage")
            return
        await store.chats.update(chat.chat_id, quiet_start=window[0], quiet_end=window[1])
        await show(message, store, chat.chat_id)

    return router
