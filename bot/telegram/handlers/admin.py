"""Admin commands, for the chat ids listed in [telegram] admins: /stats, /addsource (a feed's
or a site's address, an interval, a name), /removesource, /pausesource, /renamesource, /export
(every source as an OPML file), and an .opml file sent to the bot imports it. Anyone else gets a
polite refusal."""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings, parse_duration
from bot.ingest.discover import FoundFeed
from bot.ingest.opml import MAX_OPML_BYTES, OpmlError
from bot.models import Chat, SourceState
from bot.sourcing import (
    DEFAULT_INTERVAL,
    MAX_INTERVAL,
    MAX_NAME,
    MIN_INTERVAL,
    add_feed,
    export_opml,
    find_feeds,
    import_opml,
)
from bot.storage.store import Store
from bot.telegram.handlers.common import answer, argument, chat_of, obey
from bot.telegram.texts import error_text, interval_text, plural, t, table

MAX_URL = 2000
SHOWN_PROBLEMS = 10
PENDING = 1000  # chats whose choice among a site's feeds is remembered


class Pick(CallbackData, prefix="pick"):
    index: int  # which of the feeds found on the site


def parse_add(raw: str) -> tuple[str, int | None, str | None] | None:
    """'/addsource URL [30m] [name ...]' -> (url, interval or None, name or None)."""
    parts = raw.split()
    if not parts or len(parts[0]) > MAX_URL:
        return None
    url, rest = parts[0], parts[1:]
    interval = None
    if rest and parse_duration(rest[0]) is not None and rest[0][0].isdigit():
        interval = parse_duration(rest[0])
        rest = rest[1:]
    name = " ".join(rest)[:MAX_NAME] or None
    return url, interval, name


def build_router() -> Router:
    router = Router(name="admin")
    pending: OrderedDict[int, tuple[list[FoundFeed], int, str | None]] = OrderedDict()

    async def admin_chat(message: Message, store: Store, settings: Settings,
                         user_id: int | None = None) -> Chat | None:
        chat = await chat_of(store, message.chat)
        user = user_id if user_id is not None else (
            message.from_user.id if message.from_user else None)
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

    async def add_found(message: Message, store: Store, chat: Chat, found: FoundFeed,
                        interval: int, name: str | None, scheduler: Any) -> None:
        added = await add_feed(store, found, name=name, interval=interval)
        if added.source is None:
            assert added.existing is not None
            await answer(message, t(chat.lang, "addsource_exists", id=added.existing.id,
                                    name=html.escape(added.existing.name)))
            return
        if scheduler is not None:
            scheduler.add_sources([added.source])
        await answer(message, t(chat.lang, "addsource_ok", id=added.source.id,
                                name=html.escape(added.source.name), entries=added.entries,
                                interval=interval_text(chat.lang, added.source.interval)))

    @router.message(Command("addsource"))
    async def addsource(message: Message, store: Store, settings: Settings,
                        scheduler: Any = None) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        parsed = parse_add(argument(message.text))
        if parsed is None:
            await answer(message, t(chat.lang, "addsource_usage"))
            return
        url, interval, name = parsed
        interval = min(max(interval or DEFAULT_INTERVAL, MIN_INTERVAL), MAX_INTERVAL)
        found = await find_feeds(url, settings)
        if not found.feeds:
            reason = found.reason or "no feed found"
            await answer(message, t(chat.lang, "addsource_bad",
                                    error=html.escape(error_text(chat.lang, reason))))
            return
        if len(found.feeds) == 1 or found.feeds[0].via == "address":
            await add_found(message, store, chat, found.feeds[0], interval, name, scheduler)
            return
        choices = found.feeds[:8]
        pending[chat.chat_id] = (choices, interval, name)
        pending.move_to_end(chat.chat_id)
        while len(pending) > PENDING:
            pending.popitem(last=False)
        builder = InlineKeyboardBuilder()
        for i, feed in enumerate(choices):
            builder.button(text=f"{feed.title or feed.url}"[:60], callback_data=Pick(index=i))
        builder.adjust(1)
        await answer(message, t(chat.lang, "addsource_choose"), reply_markup=builder.as_markup())

    @router.callback_query(Pick.filter())
    async def pick(query: CallbackQuery, callback_data: Pick, store: Store, settings: Settings,
                   scheduler: Any = None) -> None:
        message = query.message
        if message is None:
            await obey(lambda: query.answer())
            return
        chat = await admin_chat(message, store, settings, query.from_user.id)
        if chat is None:
            await obey(lambda: query.answer())
            return
        remembered = pending.pop(chat.chat_id, None)
        if remembered is None or not 0 <= callback_data.index < len(remembered[0]):
            await obey(lambda: query.answer(t(chat.lang, "list_changed")))
            return
        await obey(lambda: query.answer())
        feeds, interval, name = remembered
        await add_found(message, store, chat, feeds[callback_data.index], interval, name,
                        scheduler)

    async def target(message: Message, store: Store, chat: Chat, command: str
                     ) -> SourceState | None:
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

    @router.message(Command("renamesource"))
    async def renamesource(message: Message, store: Store, settings: Settings) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        key, _, new = argument(message.text).partition(" ")
        new = " ".join(new.split())[:MAX_NAME]
        source = await store.sources.find(key) if key and len(key) <= 200 else None
        if not new or source is None:
            await answer(message, t(chat.lang, "rename_usage" if not new or not key
                                    else "source_unknown"))
            return
        if source.managed_by == "config":
            await answer(message, t(chat.lang, "source_in_config", id=source.id,
                                    name=html.escape(source.name)))
            return
        if not await store.sources.rename(source.id, new):
            await answer(message, t(chat.lang, "rename_taken", name=html.escape(new)))
            return
        await answer(message, t(chat.lang, "renamed", id=source.id, name=html.escape(new)))

    @router.message(Command("export"))
    async def export(message: Message, store: Store, settings: Settings) -> None:
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        data = await export_opml(store)
        await obey(lambda: message.answer_document(
            BufferedInputFile(data, "pressbot-sources.opml"),
            caption=t(chat.lang, "exported")))

    @router.message(F.document)
    async def opml_file(message: Message, store: Store, settings: Settings, bot: Bot,
                        scheduler: Any = None) -> None:
        document = message.document
        assert document is not None
        name = (document.file_name or "").lower()
        if not name.endswith((".opml", ".xml")):
            chat = await chat_of(store, message.chat)
            await answer(message, t(chat.lang, "not_command"))
            return
        chat = await admin_chat(message, store, settings)
        if chat is None:
            return
        if (document.file_size or 0) > MAX_OPML_BYTES:
            await answer(message, t(chat.lang, "import_bad",
                                    error=t(chat.lang, "import_too_big")))
            return
        buffer = await bot.download(document)
        assert buffer is not None
        try:
            report = await import_opml(store, buffer.read(MAX_OPML_BYTES + 1))
        except OpmlError as exc:
            await answer(message, t(chat.lang, "import_bad",
                                    error=html.escape(error_text(chat.lang, str(exc)))))
            return
        if scheduler is not None:
            scheduler.add_sources(report.added)
        lines = [t(chat.lang, "imported", added=len(report.added), known=len(report.known),
                   refused=len(report.refused))]
        lines += [f"+ {html.escape(s.name)}" for s in report.added[:SHOWN_PROBLEMS]]
        lines += [f"= {html.escape(f.name)} ({html.escape(existing)})"
                  for f, existing in report.known[:SHOWN_PROBLEMS]]
        codes = table(chat.lang, "opml_codes")
        lines += [f"✗ {html.escape(p.name or p.url or '?')}: "
                  f"{html.escape(codes.get(p.code, p.code))}"
                  for p in report.refused[:SHOWN_PROBLEMS]]
        await answer(message, "\n".join(lines)[:4000])

    return router
