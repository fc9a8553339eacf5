"""Old news is not news: a source's first poll, a comeback after an outage, old items and the
seeds are stored and searchable, never delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.config import DeliveryConfig, SourceConfig, default_topics
from bot.delivery.digest import digest_tick
from bot.delivery.news import is_baseline, news_flags
from bot.ingest.fetch import Fetcher
from bot.models import Entry
from bot.poller import Poller

from conftest import SEEDS, fetch_rows, rss

NOW = datetime.now(UTC).replace(microsecond=0)
AGE = timedelta(hours=48)


def entry(hours_ago: float | None) -> Entry:
    at = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return Entry(title="t", text="x", published=at)


@pytest.mark.parametrize(("ages", "baseline", "first_max", "expected"), [
    ([1, 10, 100], False, 3, [True, True, False]),  # older than 48 h: never
    ([None], False, 3, [True]),  # undated: first seen now
    ([1, 2, 3, 4, 5], True, 3, [True, True, True, False, False]),  # the newest three
    ([5, 1, 3, 2, 4], True, 2, [False, True, False, True, False]),
    ([100, 200], True, 3, [False, False]),  # a first poll of old items delivers nothing
    ([1, 2], True, 0, [False, False]),
])
def test_news_flags(ages, baseline, first_max, expected):
    assert news_flags([entry(a) for a in ages], NOW, AGE, baseline=baseline,
                      first_max=first_max) == expected


def test_baseline_is_the_first_success_or_the_first_after_a_long_outage():
    assert is_baseline(None, NOW, AGE)
    assert is_baseline(NOW - timedelta(hours=49), NOW, AGE)
    assert not is_baseline(NOW - timedelta(hours=1), NOW, AGE)


def items(prefix: str, hours_ago: list[float], base: str, offset: int = 0
          ) -> list[dict[str, str]]:
    texts = ["Томский завод запустил линию по выпуску кабеля для атомных станций.",
             "В Северске открыли новый детский сад на двести мест.",
             "Студенты ТУСУР победили в олимпиаде по программированию.",
             "Фермеры Шегарского района собрали рекордный урожай картофеля.",
             "В Томске прошла выставка химической промышленности Сибири.",
             "Аэропорт Богашево открыл прямой рейс в Ташкент.",
             "На Томи начался ледоход раньше обычного срока.",
             "Томская область подписала соглашение с Беларусью о поставках леса."]
    texts = texts[offset:] + texts[:offset]
    return [{"title": f"{prefix} {i}: {texts[i % len(texts)][:40]}",
             "link": f"{base}/{prefix}/{i}", "guid": f"{prefix}-{i}",
             "pubDate": format_datetime(NOW - timedelta(hours=h)),
             "description": f"{texts[i % len(texts)]} Подробности {prefix} номер {i}."}
            for i, h in enumerate(hours_ago)]


async def test_a_source_first_poll_delivers_the_newest_few_and_then_only_news(
        store, feed_server, fetch_config, scheduler_config):
    await store.chats.upsert(1)
    base = feed_server.url("")
    feed_server.add("/rss", rss(items("a", [1, 2, 3, 4, 30, 24 * 400], base)))
    (state,) = await store.sources.sync(
        (SourceConfig("f", "feed", url=feed_server.url("/rss")),))
    fetch = fetch_config.__class__(**{**fetch_config.__dict__, "fulltext_min_chars": 0,
                                      "allow_private_addresses": True})
    async with Fetcher(fetch) as fetcher:
        poller = Poller(store, fetcher, fetch, scheduler_config,
                        delivery=DeliveryConfig(first_poll_max=3))
        first = await poller.poll(state.id)
        assert first.new == 6
        queued = await fetch_rows(store, "SELECT text FROM outbox")
        assert len(queued) == 3 and all(any(f"a {i}:" in r["text"] for i in (0, 1, 2))
                                        for r in queued)
        # Next poll: two fresh items are news, an old one is not.
        feed_server.add("/rss", rss(items("b", [0.5, 0.2, 72], base, offset=5)))
        await poller.poll(state.id)
        assert len(await fetch_rows(store, "SELECT id FROM outbox")) == 5
        # Everything is stored and searchable.
        assert await store.articles.count() == 9


async def test_old_items_of_a_source_back_after_an_outage_are_its_baseline(
        store, feed_server, fetch_config, scheduler_config):
    await store.chats.upsert(1)
    base = feed_server.url("")
    feed_server.add("/rss", rss(items("c", [1, 2, 3, 4, 5], base)))
    (state,) = await store.sources.sync(
        (SourceConfig("f", "feed", url=feed_server.url("/rss")),))
    async with store.db.transaction() as tx:  # it last worked four days ago
        await tx.execute("UPDATE sources SET last_success_at = ?, error_count = 30",
                         (NOW - timedelta(days=4),))
    fetch = fetch_config.__class__(**{**fetch_config.__dict__, "fulltext_min_chars": 0})
    async with Fetcher(fetch) as fetcher:
        poller = Poller(store, fetcher, fetch, scheduler_config,
                        delivery=DeliveryConfig(first_poll_max=1))
        await poller.poll(state.id)
    assert len(await fetch_rows(store, "SELECT id FROM outbox")) == 1


async def test_the_seeds_are_never_delivered_at_once_or_in_a_digest(
        store, feed_server, fetch_config, scheduler_config):
    await store.chats.upsert(1)
    digest = await store.chats.upsert(2)
    await store.chats.update(digest.chat_id, mode="digest",
                             last_digest_at=NOW - timedelta(days=2))
    (state,) = await store.sources.sync((SourceConfig("seeds", "files", path=SEEDS),))
    async with Fetcher(fetch_config) as fetcher:
        poller = Poller(store, fetcher, fetch_config, scheduler_config)
        result = await poller.poll(state.id)
    assert result.new == 5
    assert await fetch_rows(store, "SELECT id FROM outbox") == []
    assert await digest_tick(store, default_topics(), NOW + timedelta(days=1)) == 0
    assert await fetch_rows(store, "SELECT id FROM outbox") == []
    # ... but they are the archive: searchable.
    assert await store.stories.search('"химическ"*')
