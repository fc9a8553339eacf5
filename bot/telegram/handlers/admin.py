"""Admin commands, for the chat ids listed in [telegram] admins: /stats, /addsource,
/removesource, /pausesource. Anyone else gets a polite refusal."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.config import Settings
from bot.ingest.fetch import Fetcher, FetchError
from bot.ingest.parse import FeedError, parse_feed
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of
from bot.telegram.texts import error_text, interval_text, plural, t

MAX_URL = 2000
DEFAULT_INTERVAL = 900


async def probe(url: str, settings: Settings) -> int:
    """Fetch and parse the feed once; returns how many entries it has. Raises ValueError
    with a one-line reason. The Fetcher refuses other schemes than http(s) and, unless the
    config allows them, private and loopback addresses on every hop."""
    try:
        async with Fetcher(settings.fetch) as fetcher:
            fetched = await fetcher.fetch(
                url, public_only=not settings.fetch.allow_private_addresses)
        feed = parse_feed(fetched.body, origin=url, charset=fetched.charset,
                          content_type=fetched.content_type, base_url=fetched.url)
    except (FetchError, FeedError) as exc:
        raise ValueError(str(exc)) from exc
    if not feed.entries:
        raise ValueError("the feed has no entries")
    return len(feed.entries)


def build_router() -> Router:
    router = Router(name="admin")

    async def admin_chat(message: Message, store: Store, settings: Settings):
        chat = await chat_of(store, message.chat)
        user = message.from_user.id if message.from_user else None
        if message.chat.id in settings.telegram.admins or user in settings.telegram.admins:
            return chat
        await answer(message, t(chat.lang, "admin_only"))
        return None

    @router.message(Command("stats"))
    async def stats_(message: Message, store: Store, settings: Settings) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        s = await store.stats.collect()
        await answer(message, t(chat.lang, "stats", **vars(s),
                                active_text=plural(chat.lang, "subscribers", s.active)))

    @router.message(Command("addsource"))
    async def addsource(message: Message, store: Store, settings: Settings,
                        scheduler: Any = None) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        url = argument(message.text)
        if not url:
            await answer(message, t(chat.lang, "addsource_usage"))
            return
        if len(url) > MAX_URL or any(c.isspace() for c in url):
            await answer(message, t(chat.lang, "addsource_usage"))
            return
        existing = await store.sources.at(url)
        if existing is not None:
            await answer(message, t(chat.lang, "addsource_exists", id=existing.id,
                                    name=html.escape(existing.name)))
            return
        try:
            entries = await probe(url, settings)
        except ValueError as exc:
            await answer(message, t(chat.lang, "addsource_bad",
                                    error=html.escape(error_text(chat.lang, str(exc)))))
            return
        name = (urlsplit(url).hostname or "feed").removeprefix("www.")
        source = await store.sources.add(name, url, DEFAULT_INTERVAL)
        if scheduler is not None:
            scheduler.add_sources([source])
        await answer(message, t(chat.lang, "addsource_ok", id=source.id,
                                name=html.escape(source.name), entries=entries,
                                interval=interval_text(chat.lang, source.interval)))

    async def target(message: Message, store: Store, chat, command: str):
        key = argument(message.text)
        if not key or len(key) > 200:
            await answer(message, t(chat.lang, "source_usage", command=command))
            return None
        source = await store.sources.find(key)
        if source is None:
            await answer(message, t(chat.lang, "source_unknown"))
        return source

    @router.message(Command("removesource"))
    async def removesource(message: Message, store: Store, settings: Settings,
                           scheduler: Any = None) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None or (source := await target(message, store, chat, "removesource")) is None:
            return
        name = html.escape(source.name)
        if source.managed_by == "config":
            await answer(message, t(chat.lang, "source_in_config", id=source.id, name=name))
            return
        if scheduler is not None:
            scheduler.remove_source(source.id)
        await store.sources.remove(source.id)
        await answer(message, t(chat.lang, "source_removed", id=source.id, name=name))

    @router.message(Command("pausesource"))
    async def pausesource(message: Message, store: Store, settings: Settings,
                          scheduler: Any = None) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None or (source := await target(message, store, chat, "pausesource")) is None:
            return
        enabled = not source.enabled
        await store.sources.set_enabled(source.id, enabled)
        if scheduler is not None:
            if enabled:
                scheduler.add_sources([replace(source, enabled=True)])
            else:
                scheduler.remove_source(source.id)
        await answer(message, t(chat.lang, "source_resumed" if enabled else "source_paused",
                                id=source.id, name=html.escape(source.name)))

    return router
