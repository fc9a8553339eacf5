"""Hostile input, end to end.

- Every case of feedparser's sanitize corpus goes through parse, clean, understanding and
  rendering and is delivered through aiogram's client to the fake Bot API; each sent message is
  parsed the way Telegram parses HTML: only its tags and attributes, every other < > &
  escaped.
- Hostile sources polled in one round beside a good one: billion laughs, a 50 MB body, a server
  that trickles a byte a second, a redirect to file://, a redirect loop, a feed added from chat
  that redirects to loopback. Each fails (or reads safely) with a one-line error and backs off;
  the good source is ingested all the same.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import re
import resource
from pathlib import Path

import pytest
from aiohttp import web
from test_delivery import parse

from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import parse_feed
from bot.models import Entry
from bot.pipeline import process
from bot.poller import Poller
from bot.storage.store import Store
from bot.telegram.transport import TelegramTransport
from bot.understand.analyzer import Understanding

from conftest import SHARED, fetch_one, fetch_rows, rss, wait_for

SANITIZE = SHARED / "corpora" / "feedparser-tests" / "tests" / "wellformed" / "sanitize"
RIA = SHARED / "eval" / "ria_news_topics" / "ria_news_topics_9.csv"


def as_entry(raw: bytes) -> bytes:
    """The case as a feed entry that survives parsing: feed-level cases (a hostile feed title
    or subtitle) are wrapped into an entry, and every entry gets a plain title so that one
    whose hostile markup sanitises to nothing is still an entry."""
    text = raw.decode("utf-8", "replace")
    if not re.search(r"<(entry|item)\b", text):
        text = re.sub(r"(<feed\b[^>]*>)(.*)(</feed>)", r"\1<entry>\2</entry>\3", text,
                      flags=re.S)
        text = re.sub(r"(<channel\b[^>]*>)(.*)(</channel>)", r"\1<item>\2</item>\3", text,
                      flags=re.S)
    return re.sub(r"(<(entry|item)\b[^>]*>)", r"\1<title>Случай</title>", text).encode()


def ledes(n: int) -> list[tuple[str, str]]:
    """Distinct real titles and first sentences, to make each hostile case its own story."""
    csv.field_size_limit(10**8)
    out = []
    with RIA.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for sentence in row["content"].split(". ")[:3]:
                if len(sentence.strip()) > 60:
                    out.append((row["title"], sentence.strip() + "."))
            if len(out) >= n:
                return out
    return out


@pytest.mark.skipif(not SANITIZE.is_dir() or not RIA.is_file(), reason="../shared not present")
async def test_sanitize_corpus_delivered_as_valid_telegram_html(tmp_path, tg_bot, fake_bot_api):
    files = sorted(SANITIZE.glob("*.xml"))
    assert len(files) > 700
    real = ledes(len(files))
    entries: list[Entry] = []
    for i, path in enumerate(files):
        (e, *_rest) = parse_feed(as_entry(path.read_bytes()), origin=str(path)).entries
        title, lede = real[i]
        # The hostile title and text stay as they are; a real title and lede around them
        # make each case a distinct story (the corpus repeats the same few words).
        entries.append(dataclasses.replace(e, title=f"{title} {e.title}",
                                           text=f"<p>{lede}</p>\n\n{e.text}", url=None,
                                           guid=f"case-{i}", origin=str(path)))
    assert len(entries) == len(files)
    fake_bot_api.enforce = False
    async with await Store.open(tmp_path / "h.db") as store:
        await store.chats.upsert(1)
        results, _ = await process(store, entries, understanding=Understanding(default_topics(),
                                                                            ner=False))
        delivered = {r.story_id for r in results if r.status == "new_story"}
        fast = TelegramTransport(tg_bot, Pacer(10_000, private_interval=0))
        await Sender(store, fast).drain(timeout=120)
        left = (await fetch_one(store, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'"))[0]
    sent = fake_bot_api.messages_to(1)
    assert left == 0 and len(sent) == len(delivered) > 700
    for message in sent:
        visible = parse(message.text)
        for bad in ("<script", "javascript:", "<iframe", "onload=", "<style"):
            assert bad not in message.text.lower()
        assert visible.strip()


def billion_laughs(link: str) -> bytes:
    lol = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'
                                     .replace("&lol0;", "&lol;") for i in range(1, 10)]
    return (f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(lol)}]><rss version="2.0"><channel>'
            f'<title>&lol9;</title><item><title>Смех &lol9;</title><link>{link}</link>'
            f'<description>&lol9;</description></item></channel></rss>').encode()


async def test_hostile_sources_fail_alone_and_the_good_one_is_ingested(tmp_path, feed_server):
    good = rss([{"title": "Томская область подписала соглашение с Узбекистаном",
                 "link": feed_server.url("/good/1"),
                 "description": "Губернатор Томской области и хокимият Ташкента подписали "
                                "соглашение о поставках продукции химической промышленности. "
                                "Товарооборот в прошлом году вырос на 60 процентов."}])
    feed_server.add("/good", good)
    feed_server.add("/laughs", billion_laughs(feed_server.url("/laughs/1")))

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        chunk = b"<item><title>x</title></item>" * 4000
        sent = 0
        try:
            while sent < 50 * 1024 * 1024:
                await resp.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        try:
            for byte in b"<rss version='2.0'><channel>" * 100:
                await resp.write(bytes([byte]))
                await asyncio.sleep(1)
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    feed_server.add_handler("/huge", huge)
    feed_server.add_handler("/trickle", trickle)
    feed_server.add("/to-file", status=302, headers={"Location": "file:///etc/passwd"})
    feed_server.add("/loop-a", status=302, headers={"Location": feed_server.url("/loop-b")})
    feed_server.add("/loop-b", status=302, headers={"Location": feed_server.url("/loop-a")})
    # A "public" feed added from chat that redirects to loopback (here the loopback server is
    # the only one there is: the first hop is refused already, which is the point).
    feed_server.add("/to-loopback", status=302, headers={"Location": "http://127.0.0.1:9/x"})

    fetch = FetchConfig(timeout=4, connect_timeout=2, max_body_bytes=10 * 1024 * 1024)
    configured = [SourceConfig(name=n, kind="feed", url=feed_server.url(f"/{n}"), interval=60)
                  for n in ("good", "laughs", "huge", "trickle", "to-file", "loop-a")]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with await Store.open(tmp_path / "p.db") as store:
        await store.sources.sync(tuple(configured))
        await store.sources.add("from-chat", feed_server.url("/to-loopback"), 60)
        async with Fetcher(fetch) as fetcher:
            poller = Poller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                            understanding=Understanding(default_topics(), ner=False))
            states = await store.sources.all()
            results = await asyncio.gather(*(poller.poll(s.id) for s in states))
        by_name = {r.source: r for r in results}
        stored = await fetch_rows(store, "SELECT title, text FROM articles")
        sources = {s.name: s for s in await store.sources.all()}
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert by_name["good"].status == "ok" and by_name["good"].new == 1
    assert any("Узбекистаном" in a["title"] for a in stored)
    # Billion laughs: no expansion (expat refuses it; the fallback parser does not expand).
    assert all(len(a["text"]) < 5000 and "lollol" not in a["text"] for a in stored)
    expected = {"huge": "body is over", "trickle": "timed out", "to-file": "only http and https",
                "loop-a": "redirect loop", "from-chat": "private or loopback"}
    for name, words in expected.items():
        r = by_name[name]
        assert r.status == "failed" and words in r.error, (name, r.error)
        assert "\n" not in r.error
        assert sources[name].error_count == 1 and sources[name].next_check_at is not None
    assert sources["good"].error_count == 0
    assert grown_mb < 200, grown_mb
    assert Path(tmp_path / "p.db").stat().st_size < 20 * 1024 * 1024


async def test_a_command_is_answered_while_a_big_feed_is_processed(store, tg_bot, fake_bot_api,
                                                                  feed_server, fetch_config,
                                                                  scheduler_config):
    """Parsing, cleaning and understanding run off the event loop: /help is answered before
    the feed is done (an ordering check, not a timing one)."""
    from test_bot_e2e import running_bot, stop_bot

    with RIA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:200]
    feed_server.add("/big", rss([{"title": r["title"], "link": feed_server.url(f"/a/{i}"),
                                  "description": r["content"][:6000]}
                                 for i, r in enumerate(rows)]))
    (state,) = await store.sources.sync((SourceConfig("big", "feed",
                                                      url=feed_server.url("/big")),))
    dp, task = await running_bot(store, tg_bot)
    fetch = dataclasses.replace(fetch_config, fulltext_min_chars=0, max_body_bytes=50_000_000)
    try:
        async with Fetcher(fetch) as fetcher:
            poller = Poller(store, fetcher, fetch, scheduler_config,
                            understanding=Understanding(default_topics(), ner=False))
            polling = asyncio.create_task(poller.poll(state.id))
            await wait_for(lambda: feed_server.hits("/big"))
            fake_bot_api.push_message(77, "/help")
            await wait_for(lambda: fake_bot_api.messages_to(77), timeout=30)
            assert not polling.done(), f"the feed was done first: {polling.result()}"
            result = await polling
        assert result.status == "ok" and result.new >= 190
    finally:
        await stop_bot(dp, task)
