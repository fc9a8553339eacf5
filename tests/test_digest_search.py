"""Digests at the chat's local time, /digest, /search over lemmas, /sources, channels."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from test_bot_e2e import replies, running_bot, stop_bot
from test_delivery import parse

from bot.config import ChannelConfig, default_topics, load_settings
from bot.delivery.digest import digest_tick, is_due, last_scheduled, zone
from bot.delivery.sender import Sender
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.storage.db import to_db_time
from bot.telegram.app import build_dispatcher
from bot.understand.analyzer import Understanding

from conftest import SEEDS, fetch_rows

TOPICS = default_topics()
UNDERSTANDING = Understanding(TOPICS, ner=False)


async def store_seeds(store, names=None):
    paths = sorted(SEEDS.glob("*.txt"))
    entries = [read_document(p)[0] for p in paths if names is None or p.name in names]
    results, _ = await process(store, entries, understanding=UNDERSTANDING)
    return results


def test_last_scheduled_follows_the_local_clock():
    # 09:00 in Tomsk (UTC+7) is 02:00 UTC.
    now = datetime(2026, 11, 23, 1, 59, tzinfo=UTC)
    assert last_scheduled("09:00", "Asia/Tomsk", now) == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert last_scheduled("09:00", "Asia/Tomsk", now) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert last_scheduled("09:00", "UTC+05:30", now) == datetime(2026, 11, 23, 3, 30,
                                                                  tzinfo=UTC) - timedelta(days=1)
    # Across a daylight-saving change the local time holds: 08:00 in Berlin.
    summer = last_scheduled("08:00", "Europe/Berlin", datetime(2026, 7, 1, 12, tzinfo=UTC))
    winter = last_scheduled("08:00", "Europe/Berlin", datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert (summer.hour, winter.hour) == (6, 7)
    assert zone("Nowhere/Bogus").utcoffset(None) == timedelta(0)


async def test_digest_is_due_once_a_day_at_local_time(store):
    await store.chats.upsert(42)
    await store.chats.update(42, mode="digest", digest_time="09:00", tz="Asia/Tomsk",
                      last_digest_at=to_db_time(datetime(2026, 11, 22, 2, 0, 30, tzinfo=UTC)))
    chat = await store.chats.get(42)
    assert not is_due(chat, datetime(2026, 11, 23, 1, 59, tzinfo=UTC))
    assert is_due(chat, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    assert is_due(chat, datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # down at 09:00: caught up


async def test_digest_tick_groups_by_topic_and_sends_nothing_when_nothing_is_new(
        store, fake_bot_api, transport):
    await store.chats.upsert(42)
    await store.chats.update(42, mode="digest", digest_time="09:00", tz="Asia/Tomsk")
    await store.chats.upsert(43)
    await store.chats.update(43, mode="digest", digest_time="09:00", tz="Asia/Tomsk")
    await store.chats.set_filter(43, "topic", "culture", True)
    now = datetime.now(UTC)
    # First tick: the chats' clocks start; nothing is sent at once.
    assert await digest_tick(store, TOPICS, now) == 0
    results = await store_seeds(store)
    assert sum(r.status == "new_story" for r in results) == 5
    # digest chats get nothing at once
    assert await fetch_rows(store, "SELECT id FROM outbox") == []
    next_day = now + timedelta(days=1)
    assert await digest_tick(store, TOPICS, next_day) == 2
    await Sender(store, transport).drain(timeout=30)
    (digest,) = fake_bot_api.messages_to(42)
    plain = parse(digest.text)
    assert plain.startswith("Дайджест")
    assert digest.no_preview
    for r in results:
        assert r.article.title[:40] in plain
    assert "— Торговля и экспорт —" in plain and "Источник: seeds" in plain
    assert digest.text.count('<a href=') == 0  # the seeds are files: no links to make
    (culture,) = fake_bot_api.messages_to(43)
    assert "— Культура —" in parse(culture.text)
    assert "Беларусь" in parse(culture.text) and "60% томского экспорта" not in culture.text
    # The next day with nothing new: no message, and the stories are not repeated.
    assert await digest_tick(store, TOPICS, next_day + timedelta(days=1)) == 0
    await Sender(store, transport).drain(timeout=5)
    assert len(fake_bot_api.messages_to(42)) == 1


async def test_digest_command_and_search_and_sources(store, tg_bot, fake_bot_api, transport):
    await store_seeds(store)
    dp, task = await running_bot(store, tg_bot)
    try:
        fake_bot_api.push_message(601, "/start")
        await replies(fake_bot_api, 601, 1)
        fake_bot_api.push_message(601, "/search редкоземельные металлы")
        found = parse((await replies(fake_bot_api, 601, 2))[1])
        assert found.startswith("Найдено в архиве")
        fake_bot_api.push_message(601, "/search химической промышленности Узбекистана")
        found = parse((await replies(fake_bot_api, 601, 3))[2])
        # word forms match by lemma: "химической промышленности" -> "химическую промышленность"
        first = found.split("\n\n")[1]
        assert "развивать химическую промышленность" in first
        fake_bot_api.push_message(601, '/search " OR * NEAR( ;')
        assert "Ничего не нашлось" in (await replies(fake_bot_api, 601, 4))[3]
        fake_bot_api.push_message(601, "/search")
        assert "/search" in (await replies(fake_bot_api, 601, 5))[4]
        fake_bot_api.push_message(601, "/search " + "щщщщ " * 3000)
        assert "Ничего не нашлось" in (await replies(fake_bot_api, 601, 6))[5]
        # In instant mode the five seeds were not queued (the chat subscribed after them):
        # /digest sends them now, once.
        fake_bot_api.push_message(601, "/digest")
        for _ in range(100):
            if await fetch_rows(store, "SELECT id FROM outbox WHERE kind = 'digest'"):
                break
            await asyncio.sleep(0.1)
        await Sender(store, transport).drain(timeout=30)
        texts = await replies(fake_bot_api, 601, 7)
        assert parse(texts[6]).startswith("Дайджест")
        fake_bot_api.push_message(601, "/digest")  # instant mode: says why there is none
        assert "пропущенных нет" in (await replies(fake_bot_api, 601, 8))[7]
        fake_bot_api.push_message(601, "/sources")
        assert "Источники" in (await replies(fake_bot_api, 601, 9))[8]
    finally:
        await stop_bot(dp, task)


async def test_sources_show_health(store, tg_bot, fake_bot_api, feed_server):

    settings = load_settings(None, env={})
    states = await store.sources.sync(settings.sources[:3])
    await store.sources.record_failure(states[1].id, "HTTP 503 Service Unavailable",
                         lambda n: datetime.now(UTC) + timedelta(hours=1))
    dp, task = await running_bot(store, tg_bot)
    try:
        fake_bot_api.push_message(602, "/sources")
        shown = (await replies(fake_bot_api, 602, 1))[0]
        plain = parse(shown)
        # the error in the chat's language, one language at a time
        assert f"#{states[1].id}" in plain
        assert "ошибки (1 подряд): сайт ответил кодом 503" in plain
        assert "ещё не опрашивался" in plain
    finally:
        await stop_bot(dp, task)


async def test_channel_from_config_gets_stories_in_its_forum_topic(store, fake_bot_api, transport):
    await store.chats.sync_channels((ChannelConfig(-1009, thread_id=5, topics=("culture",)),
                             ChannelConfig(-1010, follow=("Химград",))))
    await store_seeds(store)
    await Sender(store, transport).drain(timeout=30)
    (culture,) = fake_bot_api.messages_to(-1009)
    assert culture.thread_id == 5 and "Беларусь" in culture.text
    (chem,) = fake_bot_api.messages_to(-1010)
    assert "Химград" in chem.text
    # Dropped from the config: paused, its filters kept until it returns.
    await store.chats.sync_channels((ChannelConfig(-1010, follow=("Химград",)),))
    assert (await store.chats.get(-1009)).status == "paused"
    assert (await store.chats.get(-1010)).status == "active"


async def test_a_flooding_chat_gets_one_polite_notice(store, tg_bot, fake_bot_api):
    settings = load_settings(None, env={})
    settings = replace(settings, telegram=replace(settings.telegram, commands_per_minute=3))
    dp = build_dispatcher(store, settings)
    task = asyncio.create_task(dp.start_polling(tg_bot, handle_signals=False,
                                                polling_timeout=1))
    try:
        for _ in range(8):
            fake_bot_api.push_message(603, "/help")
        texts = await replies(fake_bot_api, 603, 4)
        await asyncio.sleep(1.5)
        texts = [s.text for s in fake_bot_api.messages_to(603)]
        assert len(texts) == 4  # updates are handled concurrently: any order
        assert texts.count("Слишком много команд подряд — подождите немного.") == 1
        assert sum(t.startswith("Фильтры сужают выбор") and "/help" in t for t in texts) == 3
        fake_bot_api.push_message(604, "/help")  # other chats are not affected
        await replies(fake_bot_api, 604, 1)
    finally:
        await stop_bot(dp, task)


async def test_a_reprint_after_the_digest_is_not_sent_again(store, tg_bot, fake_bot_api):
    await store.chats.upsert(44)
    await store.chats.update(44, mode="digest")
    now = datetime.now(UTC)
    await digest_tick(store, TOPICS, now)
    (new,) = await store_seeds(store, {"000_a76abe04a6259da9.txt"})
    assert await digest_tick(store, TOPICS, now + timedelta(days=1)) == 1
    paras = new.article.text.split("\n\n")
    reprint = Entry(title="Мазур позвал Узбекистан в химию", text="\n\n".join(paras[:5]),
                    url="https://reprint.example/2", origin="x")
    (again,), _ = await process(store, [reprint], understanding=UNDERSTANDING)
    assert again.status == "reprint"
    assert await digest_tick(store, TOPICS, now + timedelta(days=2)) == 0
