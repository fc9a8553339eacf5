"""What a chat gets: /topics, /places, /people and /outlets (toggle keyboards edited in place),
/follow, /unfollow, /exclude, /unexclude, /clear, and /filters, which says it as a sentence.

Filters narrow (bot/delivery/match.py): any chosen topic, and any chosen place, and any followed
word or name, minus the excluded words and the muted outlets.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from datetime import timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.config import Settings, TopicConfig
from bot.delivery.render import pack
from bot.models import Chat
from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of, clean_word, obey
from bot.telegram.keyboards import Toggle, toggle_keyboard
from bot.telegram.texts import PLACE_CHOICES, filters_sentence, t, table
from bot.understand.places import place_name

PEOPLE_DAYS = 7
PEOPLE_SHOWN = 16
CLEAR = {"topics": "topic", "places": "place", "words": "follow", "excluded": "exclude",
         "outlets": "mute"}


def topic_names(topics: Sequence[TopicConfig], lang: str) -> dict[str, str]:
    return {tp.id: tp.name_en if lang == "en" else tp.name_ru for tp in topics}


def _choices(kind: str, topics: Sequence[TopicConfig], lang: str) -> list[tuple[str, str]]:
    if kind == "topic":
        return list(topic_names(topics, lang).items())
    return [(p, place_name(p, lang)) for p in PLACE_CHOICES]


def name_key(name: str) -> int:
    """A short stable key for a name in callback data (64 bytes at most)."""
    return int.from_bytes(hashlib.blake2s(name.encode("utf-8"), digest_size=4).digest(), "big")


async def _people(store: Store) -> list[tuple[str, str]]:
    rows = await store.articles.top_names(utcnow() - timedelta(days=PEOPLE_DAYS), PEOPLE_SHOWN)
    return [(name, name) for _kind, name, _n in rows]


async def _outlets(store: Store) -> list[tuple[str, str]]:
    return [(s.name, s.name) for s in await store.sources.all() if s.enabled]


def build_router() -> Router:
    router = Router(name="filters")

    async def show(message: Message, store: Store, topics, kind: str) -> None:
        chat = await chat_of(store, message.chat)
        values = await store.chats.filter_values(chat.chat_id)
        if kind in ("topic", "place"):
            choices = _choices(kind, topics, chat.lang)
            keyboard = toggle_keyboard(kind, choices, set(values[kind]))
            await answer(message, t(chat.lang, "topics" if kind == "topic" else "places"),
                         reply_markup=keyboard)
            return
        if kind == "name":
            choices, chosen = await _people(store), set(values["follow"])
            empty, head = "people_none", "people"
            keys = [name_key(v) for v, _ in choices]
        else:  # outlets: marked when muted
            choices, chosen = await _outlets(store), set(values["mute"])
            empty, head = "outlets_none", "outlets"
            keys = [name_key(v) for v, _ in choices]
        if not choices:
            await answer(message, t(chat.lang, empty))
            return
        keyboard = toggle_keyboard(kind, choices, chosen, keys=keys,
                                   mark="🔇 " if kind == "mute" else "✅ ")
        await answer(message, t(chat.lang, head), reply_markup=keyboard)

    @router.message(Command("topics"))
    async def topics_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "topic")

    @router.message(Command("places"))
    async def places_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "place")

    @router.message(Command("people"))
    async def people_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "name")

    @router.message(Command("outlets"))
    async def outlets_(message: Message, store: Store, topics) -> None:
        await show(message, store, topics, "mute")

    @router.callback_query(Toggle.filter(F.kind.in_({"topic", "place", "name", "mute"})))
    async def toggle(query: CallbackQuery, callback_data: Toggle, store: Store, topics,
                     settings: Settings) -> None:
        message = query.message
        if message is None:
            await obey(lambda: query.answer())
            return
        chat = await chat_of(store, message.chat)
        kind = callback_data.kind
        values = await store.chats.filter_values(chat.chat_id)
        keys: list[int] | None = None
        if kind in ("topic", "place"):
            choices = _choices(kind, topics, chat.lang)
            picked = choices[callback_data.index] if 0 <= callback_data.index < len(
                choices) else None
        else:
            choices = await (_people(store) if kind == "name" else _outlets(store))
            keys = [name_key(v) for v, _ in choices]
            picked = next((c for c, k in zip(choices, keys, strict=True)
                           if k == callback_data.index), None)
        if picked is None:
            await obey(lambda: query.answer(t(chat.lang, "list_changed")))
            return
        value, label = picked
        stored_kind = {"name": "follow"}.get(kind, kind)
        if value not in values[stored_kind] and stored_kind == "follow" \
                and await too_many(store, chat, settings):
            await obey(lambda: query.answer(t(chat.lang, "too_many_words",
                                              n=settings.telegram.max_words)))
            return
        on = await store.chats.toggle_filter(chat.chat_id, stored_kind, value)
        chosen = set((await store.chats.filter_values(chat.chat_id))[stored_kind])
        said = {"mute": ("muted", "unmuted")}.get(kind, ("on", "off"))[0 if on else 1]
        await obey(lambda: query.answer(t(chat.lang, said, name=label)))
        keyboard = toggle_keyboard(kind, choices, chosen, keys=keys,
                                   mark="🔇 " if kind == "mute" else "✅ ")
        await obey(lambda: message.edit_reply_markup(reply_markup=keyboard))

    async def too_many(store: Store, chat: Chat, settings: Settings) -> bool:
        return await store.chats.count_words(chat.chat_id) >= settings.telegram.max_words

    async def word_command(message: Message, store: Store, settings: Settings, kind: str,
                           on: bool, done: str) -> None:
        chat = await chat_of(store, message.chat)
        raw = argument(message.text)
        if not raw:
            await answer(message, t(chat.lang, "follow_usage"))
            return
        word = clean_word(raw)
        if word is None:
            await answer(message, t(chat.lang, "bad_word"))
            return
        value = word.lower()
        if on and await too_many(store, chat, settings):
            await answer(message, t(chat.lang, "too_many_words",
                                    n=settings.telegram.max_words))
            return
        if not on and value not in (await store.chats.filter_values(chat.chat_id))[kind]:
            await answer(message, t(chat.lang, "not_there", word=html.escape(word)))
            return
        await store.chats.set_filter(chat.chat_id, kind, value, on)
        await answer(message, t(chat.lang, done, word=html.escape(word)))

    @router.message(Command("follow"))
    async def follow(message: Message, store: Store, settings: Settings) -> None:
        await word_command(message, store, settings, "follow", True, "followed")

    @router.message(Command("unfollow"))
    async def unfollow(message: Message, store: Store, settings: Settings) -> None:
        await word_command(message, store, settings, "follow", False, "unfollowed")

    @router.message(Command("exclude"))
    async def exclude(message: Message, store: Store, settings: Settings) -> None:
        await word_command(message, store, settings, "exclude", True, "excluded")

    @router.message(Command("unexclude"))
    async def unexclude(message: Message, store: Store, settings: Settings) -> None:
        await word_command(message, store, settings, "exclude", False, "unexcluded")

    @router.message(Command("clear"))
    async def clear(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        what = argument(message.text).lower()
        if what not in CLEAR:
            await answer(message, t(chat.lang, "clear_usage"))
            return
        await store.chats.clear_filters(chat.chat_id, CLEAR[what])
        await answer(message, t(chat.lang, "cleared", what=table(chat.lang, "clear_names")[what]))

    @router.message(Command("filters"))
    async def filters_(message: Message, store: Store, topics) -> None:
        chat = await chat_of(store, message.chat)
        values = await store.chats.filter_values(chat.chat_id)
        names = topic_names(topics, chat.lang)
        sentence = filters_sentence(chat.lang, values, lambda v: names.get(v, v),
                                    lambda p: place_name(p, chat.lang))
        blocks = [html.escape(sentence)]
        lines = []
        for kind in ("topic", "place", "follow", "exclude", "mute"):
            if values[kind]:
                shown = [names.get(v, v) if kind == "topic" else
                         place_name(v, chat.lang) if kind == "place" else
                         v for v in values[kind]]
                lines.append(f"{t(chat.lang, 'f_' + kind)}: " + html.escape(", ".join(shown)))
        if lines:
            blocks += [t(chat.lang, "filters"), *lines]
        if chat.status == "paused":
            blocks.append(t(chat.lang, "paused_note"))
        for text in pack(blocks, sep="\n"):
            await answer(message, text)

    return router
