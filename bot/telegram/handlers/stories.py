"""/digest (now), /search (the archive, by lemma), /sources (health)."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import LinkPreviewOptions, Message

from bot.config import TopicConfig
from bot.delivery.digest import send_digest, view_of
from bot.delivery.match import filters_from_values, fts_query
from bot.delivery.render import pack, story_item
from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of
from bot.telegram.texts import t

MAX_QUERY = 200
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def source_lines(sources, lang: str) -> list[str]:
    lines = []
    for s in sources:
        if not s.enabled:
            state = t(lang, "src_paused")
        elif s.error_count:
            state = t(lang, "src_failing", n=s.error_count, error=(s.last_error or "")[:120])
        elif s.last_success_at is None:
            state = t(lang, "src_new")
        else:
            state = t(lang, "src_ok")
        last = (", " + t(lang, "src_last", at=s.last_success_at.strftime("%Y-%m-%d %H:%M"))
                if s.last_success_at else "")
        mark = "🔴" if s.enabled and s.error_count else ("⏸" if not s.enabled else "🟢")
        lines.append(f"{mark} #{s.id} <b>{html.escape(s.name)}</b>: {html.escape(state)}{last}")
    return lines


def build_router() -> Router:
    router = Router(name="stories")

    @router.message(Command("digest"))
    async def digest(message: Message, store: Store, topics: tuple[TopicConfig, ...],
                     wake: Callable[[], None]) -> None:
        chat = await chat_of(store, message.chat)
        filters = filters_from_values(await store.chats.filter_values(chat.chat_id))
        count = await send_digest(store, chat, filters, topics, utcnow())
        if not count:
            await answer(message, t(chat.lang, "digest_none"))
            return
        wake()

    @router.message(Command("search"))
    async def search_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        raw = " ".join(argument(message.text).split())[:MAX_QUERY]
        query = fts_query(raw) if raw else None
        if query is None:
            await answer(message, t(chat.lang, "search_usage"))
            return
        ids = await store.stories.search(query)
        if not ids:  # every word is too strict: any of them, best first
            ids = await store.stories.search(fts_query(raw, any_word=True) or query)
        if not ids:
            await answer(message, t(chat.lang, "search_none"))
            return
        items = [story_item(view_of(s), chat.lang, figures=1)
                 for s in await store.stories.by_id(ids)]
        for text in pack([f"<b>{t(chat.lang, 'search_head')}</b>", *items]):
            await answer(message, text, link_preview_options=NO_PREVIEW)

    @router.message(Command("sources"))
    async def sources_(message: Message, store: Store) -> None:
        chat = await chat_of(store, message.chat)
        lines = source_lines(await store.sources.all(), chat.lang)
        for text in pack([f"<b>{t(chat.lang, 'sources_head')}</b>", *lines], sep="\n"):
            await answer(message, text, link_preview_options=NO_PREVIEW)

    return router
