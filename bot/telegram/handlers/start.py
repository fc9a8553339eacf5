"""/start, /stop, /forget, /help, /lang."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.config import Settings
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of
from bot.telegram.texts import ADMIN_COMMANDS, COMMANDS, t


def build_router() -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    async def start(message: Message, store: Store) -> None:
        chat = await store.chats.upsert(message.chat.id, message.chat.type,
                                        title=message.chat.title)
        if message.chat.type == "supergroup":  # /start in a forum topic: stories go there
            thread = message.message_thread_id if message.is_topic_message else None
            if thread != chat.thread_id:
                await store.chats.update(chat.chat_id, thread_id=thread)
        await answer(message, t(chat.lang, "welcome"))

    @router.message(Command("stop"))
    async def stop(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        await store.chats.update(chat.chat_id, status="paused")
        await answer(message, t(chat.lang, "stopped"))

    @router.message(Command("forget"))
    async def forget(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        await store.chats.forget(chat.chat_id)
        await answer(message, t(chat.lang, "forgotten"))

    @router.message(Command("help"))
    async def help_(message: Message, store: Store, settings: Settings) -> None:
        chat = await chat_of(store, message.chat)
        commands = list(COMMANDS[chat.lang])
        user = message.from_user.id if message.from_user else None
        if chat.chat_id in settings.telegram.admins or user in settings.telegram.admins:
            commands += ADMIN_COMMANDS[chat.lang]
        lines = [t(chat.lang, "help")] + [f"/{name} — {about}" for name, about in commands]
        await answer(message, "\n".join(lines))

    @router.message(Command("lang"))
    async def lang(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        choice = argument(message.text).lower()
        if choice not in ("ru", "en"):
            await answer(message, t(chat.lang, "lang_usage"))
            return
        await store.chats.update(chat.chat_id, lang=choice)
        await answer(message, t(choice, "lang_set"))

    return router
