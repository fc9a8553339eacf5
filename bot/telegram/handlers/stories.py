"""/digest (now), /search (the archive, by lemma, best first, with a button for more),
/sources (health, in the chat's time zone)."""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, LinkPreviewOptions, Message

from bot.config import TopicConfig
from bot.delivery.digest import send_digest, view_of
from bot.delivery.match import filters_from_values, fts_query
from bot.delivery.render import pack, story_item, when
from bot.models import Chat
from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of, obey
from bot.telegram.keyboards import More, more_keyboard
from bot.telegram.texts import error_text, t

MAX_QUERY = 200
PAGE = 5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
REMEMBERED = 10_000  # chats whose last search "more" can continue


def source_lines(sources, chat: Chat) -> list[str]:
    lang = chat.lang
    lines = []
    for s in sources:
        if not s.enabled:
            state = t(lang, "src_paused")
        elif s.error_count:
            state = t(lang, "src_failing", n=s.error_count,
                      error=error_text(lang, s.last_error or "")[:120])
        elif s.last_success_at is None:
            state = t(lang, "src_new")
        else:
            state = t(lang, "src_ok")
        last = (", " + t(lang, "src_last", at=when(s.last_success_at, lang, chat.tz))
                if s.last_success_at else "")
        mark = "🔴" if s.enabled and s.error_count else ("⏸" if not s.enabled else "🟢")
        lines.append(f"{mark} #{s.id} <b>{html.escape(s.name)}</b>: {html.escape(state)}{last}")
    return lines


def build_router() -> Router:
    router = Router(name="stories")
    searches: OrderedDict[int, tuple[str, str]] = OrderedDict()  # chat -> (query, fallback)

    @router.message(Command("digest"))
    async def digest(message: Message, store: Store, topics: tuple[TopicConfig, ...],
                     wake: Callable[[], None]) -> None:
        chat = await chat_of(store, message.chat)
        filters = filters_from_values(await store.chats.filter_values(chat.chat_id))
        count = await send_digest(store, chat, filters, topics, utcnow())
        if not count:  # in instant mode: nothing missed (stories come as they appear)
            await answer(message, t(chat.lang, "digest_instant" if chat.mode == "instant"
                                    else "digest_none"))
            return
        wake()

    async def results(message: Message, store: Store, chat: Chat, query: str,
                      offset: int) -> None:
        ids = await store.stories.search(query, PAGE + 1, offset)
        more = len(ids) > PAGE
        items = [story_item(view_of(s), chat.lang, figures=1, tz=chat.tz)
                 for s in await store.stories.by_id(ids[:PAGE])]
        head = [f"<b>{t(chat.lang, 'search_head')}</b>"] if offset == 0 else []
        texts = pack([*head, *items])
        for i, text in enumerate(texts):
            markup = more_keyboard(t(chat.lang, "search_more"), offset + PAGE) \
                if more and i == len(texts) - 1 else None
            await answer(message, text, link_preview_options=NO_PREVIEW, reply_markup=markup)

    @router.message(Command("search"))
    async def search_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        raw = " ".join(argument(message.text).split())[:MAX_QUERY]
        query = fts_query(raw) if raw else None
        if query is None:
            await answer(message, t(chat.lang, "search_usage"))
            return
        if not await store.stories.search(query, 1):  # every word is too strict: any of them
            query = fts_query(raw, any_word=True) or query
            if not await store.stories.search(query, 1):
                await answer(message, t(chat.lang, "search_none"))
                return
        searches[chat.chat_id] = (query, raw)
        searches.move_to_end(chat.chat_id)
        while len(searches) > REMEMBERED:
            searches.popitem(last=False)
        await results(message, store, chat, query, 0)

    @router.callback_query(More.filter())
    async def more(query: CallbackQuery, callback_data: More, store: Store) -> None:
        message = query.message
        if message is None:
            await obey(lambda: query.answer())
            return
        chat = await chat_of(store, message.chat)
        remembered = searches.get(chat.chat_id)
        if remembered is None or not 0 < callback_data.offset <= 500:
            await obey(lambda: query.answer(t(chat.lang, "search_expired")))
            return
        await obey(lambda: query.answer())
        await results(message, store, chat, remembered[0], callback_data.offset)

    @router.message(Command("trends"))
    async def trends(message: Message, store: Store, charts: Any) -> None:
        chat = await chat_of(store, message.chat)
        png = await charts.png("all")
        await obey(lambda: message.answer_photo(BufferedInputFile(png, "trends.png"),
                                                caption=t(chat.lang, "trends_caption")))

    @router.message(Command("sources"))
    async def sources_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        lines = source_lines(await store.sources.all(), chat)
        for text in pack([f"<b>{t(chat.lang, 'sources_head')}</b>", *lines], sep="\n"):
            await answer(message, text, link_preview_options=NO_PREVIEW)

    return router
