"""/topics and /places (toggle keyboards edited in place), /follow, /unfollow, /exclude,
/filters."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.config import TopicConfig
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of, clean_word, obey
from bot.telegram.keyboards import Toggle, toggle_keyboard
from bot.telegram.texts import PLACE_CHOICES, t


def _choices(kind: str, topics: tuple[TopicConfig, ...], lang: str) -> list[tuple[str, str]]:
    if kind == "topic":
        return [(tp.id, tp.name_en if lang == "en" else tp.name_ru) for tp in topics]
    return [(p, p) for p in PLACE_CHOICES]


def build_router() -> Router:
    router = Router(name="filters")

    async def show(message: Message, store: Store, topics, kind: str) -> None:
        chat = await chat_of(store, message.chat)
        chosen = set((await store.chats.filter_values(chat.chat_id))[kind])
        await answer(message, t(chat.lang, "topics" if kind == "topic" else "places"),
                             reply_markup=toggle_keyboard(kind, _choices(kind, topics,
                                                                         chat.lang), chosen))

    @router.message(Command("topics"))
    async def topics_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "topic")

    @router.message(Command("places"))
    async def places_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "place")

    @router.callback_query(Toggle.filter(F.kind.in_({"topic", "place"})))
    async def toggle(query: CallbackQuery, callback_data: Toggle, store: Store, topics) -> None:
        message = query.message
        if message is None:
            await query.answer()
            return
        chat = await chat_of(store, message.chat)
        choices = _choices(callback_data.kind, topics, chat.lang)
        if not 0 <= callback_data.index < len(choices):
            await query.answer()
            return
        value, label = choices[callback_data.index]
        chosen = set((await store.chats.filter_values(chat.chat_id))[callback_data.kind])
        on = value not in chosen
        await store.chats.set_filter(chat.chat_id, callback_data.kind, value, on)
        chosen = chosen | {value} if on else chosen - {value}
        await obey(lambda: query.answer(t(chat.lang, "on" if on else "off", name=label)))
        await obey(lambda: message.edit_reply_markup(
            reply_markup=toggle_keyboard(callback_data.kind, choices, chosen)))

    async def word_command(message: Message, store: Store, kind: str, on: bool,
                           done: str) -> None:
        chat = await chat_of(store, message.chat)
        raw = argument(message.text)
        if not raw:
            await answer(message, t(chat.lang, "follow_usage"))
            return
        word = clean_word(raw)
        if word is None:
            await answer(message, t(chat.lang, "bad_word"))
            return
        await store.chats.set_filter(chat.chat_id, kind, word.lower(), on)
        await answer(message, t(chat.lang, done, word=html.escape(word)))

    @router.message(Command("follow"))
    async def follow(message: Message, store: Store) -> None:
        await word_command(message, store, "follow", True, "followed")

    @router.message(Command("unfollow"))
    async def unfollow(message: Message, store: Store) -> None:
        await word_command(message, store, "follow", False, "unfollowed")

    @router.message(Command("exclude"))
    async def exclude(message: Message, store: Store) -> None:
        await word_command(message, store, "exclude", True, "excluded")

    @router.message(Command("filters"))
    async def filters_(message: Message, store: Store, topics) -> None:
        chat = await chat_of(store, message.chat)
        values = await store.chats.filter_values(chat.chat_id)
        names = dict(_choices("topic", topics, chat.lang))
        lines = []
        for kind in ("topic", "place", "follow", "exclude"):
            if values[kind]:
                shown = [names.get(v, v) if kind == "topic" else v for v in values[kind]]
                lines.append(f"{t(chat.lang, 'f_' + kind)}: " + html.escape(", ".join(shown)))
        if not lines:
            await answer(message, t(chat.lang, "no_filters"))
            return
        note = ["", t(chat.lang, "paused_note")] if chat.status == "paused" else []
        await answer(message, "\n".join([t(chat.lang, "filters"), *lines, *note]))

    return router
