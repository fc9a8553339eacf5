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
from nettools import ScriptedResolver
from test_delivery import parse

from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.ingest.addresses import private_address
from bot.ingest.fetch import Fetcher, FetchError, RetryLaterError
from bot.ingest.parse import FeedError, parse_feed
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

    fetch = FetchConfig(timeout=4, connect_timeout=2, max_body_bytes=10 * 1024 * 1024,
                        fulltext_min_chars=0)
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


@pytest.mark.skipif(not RIA.is_file(), reason="../shared not present")
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


# --- hostile feeds of issue 13/17, served on loopback beside good ones -------------------------

GOOD_ITEMS = [
    {"title": "Томская область подписала соглашение с Узбекистаном", "guid": "good-1",
     "pubDate": "Tue, 15 Jul 2025 10:00:00 GMT",
     "description": "Губернатор Томской области и хокимият Ташкента подписали соглашение о "
                    "поставках продукции химической промышленности."},
    {"title": "Экспорт в Центральную Азию вырос почти на 18%", "guid": "good-2",
     "pubDate": "Tue, 15 Jul 2025 11:00:00 GMT",
     "description": "Объём экспорта томских предприятий в страны Центральной Азии вырос "
                    "почти на 18 процентов за полугодие."}]


def good_items(case: str) -> list[dict[str, str]]:
    """The good entries of one case (each case its own, so that no source's good entries are
    another's duplicates)."""
    return [dict(item, title=f"{item['title']} ({case})", guid=f"{case}-{item['guid']}",
                 description=f"{item['description']} Источник: {case}.")
            for item in GOOD_ITEMS]


def with_good(base: str, case: str, *odd: dict[str, str]) -> list[dict[str, str]]:
    good = [dict(item, link=f"{base}/news/{item['guid']}") for item in good_items(case)]
    return [good[0], *odd, good[1]]


def assert_good_survived(feed, case: str) -> None:
    by_title = {e.title: e for e in feed.entries}
    for item in good_items(case):
        e = by_title[item["title"]]
        assert e.text == item["description"] and e.published is not None, e


def hostile_feeds(base: str) -> dict[str, tuple[bytes, str]]:
    """name -> (body, content type) of each hostile case; every one also carries its good
    entries."""
    feeds = {
        "surrogates": rss(with_good(base, "surrogates", {
            "title": "Эмодзи &#55357;&#56832; и половина &#55357;", "guid": "odd",
            "description": "&#56832; &#1114112; &#0;"})).encode(),
        "charset-mismatch": rss(with_good(base, "charset-mismatch")).encode("utf-8"),
        "control-characters": rss(with_good(base, "control-characters", {
            "title": "Звонок\x07\x1b[2J ноль\x00", "guid": "odd",
            "description": "Текст &#27;[31m красным\x08"})).encode(),
        "impossible-dates": rss(with_good(base, "impossible-dates", *[
            {"title": f"Дата {raw}", "guid": f"odd-{i}", "pubDate": raw, "description": "т"}
            for i, raw in enumerate(["-0001-01-01", "-2024-05-01", "Mon, 01 Jan 1973 "
                                     "00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"])])).encode(),
        "many-entries": rss(with_good(base, "many-entries", *[
            {"title": f"Старая новость {i}", "guid": f"old-{i}",
             "pubDate": f"Mon, {1 + i % 28:02d} Jan 2024 10:00:00 GMT", "description": "т"}
            for i in range(3000)])).encode(),
        "ttl": rss(with_good(base, "ttl")).replace("<channel>", "<channel><ttl>120</ttl>").encode(),
    }
    out = {name: (body, "application/rss+xml; charset=utf-8") for name, body in feeds.items()}
    # A UTF-8 body served as utf-16.
    out["charset-mismatch"] = (out["charset-mismatch"][0], "application/rss+xml; charset=utf-16")
    out["deep-json"] = (('{"version": "https://jsonfeed.org/version/1.1", "items": ['
                         + "[" * 200_000 + "]" * 200_000 + "]}").encode(), "application/json")
    return out


async def test_hostile_feeds_fetched_and_parsed_keep_every_good_entry(feed_server):
    base = feed_server.url("")
    cases = hostile_feeds(base)
    for name, (body, ctype) in cases.items():
        feed_server.add(f"/{name}", body, content_type=ctype)
    feed_server.add("/retry", "slow down", status=429, headers={"Retry-After": "600"})
    feed_server.add("/good", rss(with_good(base, "good")))
    config = FetchConfig(timeout=10, connect_timeout=2, max_body_bytes=5_000_000)
    async with Fetcher(config) as fetcher:
        fetched = await asyncio.gather(*(fetcher.fetch(feed_server.url(f"/{n}"))
                                         for n in [*cases, "good", "retry"]),
                                       return_exceptions=True)
    results = dict(zip([*cases, "good", "retry"], fetched, strict=True))
    retry = results.pop("retry")
    assert isinstance(retry, RetryLaterError) and retry.retry_after == 600
    feeds = {}
    for name, got in results.items():
        assert not isinstance(got, BaseException), (name, got)
        try:
            feeds[name] = parse_feed(got.body, origin=name, charset=got.charset,
                                     content_type=got.content_type, base_url=got.url,
                                     max_entries=500)
        except FeedError as exc:
            feeds[name] = exc
    deep = feeds.pop("deep-json")
    assert isinstance(deep, FeedError) and "nested too deeply" in str(deep)
    for name, feed in feeds.items():
        assert not isinstance(feed, FeedError), (name, feed)
        assert_good_survived(feed, name)
        for e in feed.entries:
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", e.title + e.text), name
            (e.title + e.text).encode("utf-8")
    titles = [e.title for e in feeds["surrogates"].entries]
    assert "Эмодзи 😀 и половина \ufffd" in titles
    dated = {e.title: e.published for e in feeds["impossible-dates"].entries}
    assert [v for k, v in dated.items() if k.startswith("Дата ")] == [None] * 4
    assert len(feeds["many-entries"].entries) == 500
    assert feeds["many-entries"].left_out == 2502
    assert feeds["ttl"].min_interval == 7200


async def test_hostile_feeds_polled_beside_a_good_one_lose_nothing(tmp_path, feed_server):
    """The poller as it is (no new wiring): each hostile case is its own source; the good
    entries of every one are stored, and the deep JSON feed fails alone in one line."""
    base = feed_server.url("")
    cases = hostile_feeds(base)
    cases.pop("many-entries")  # max_entries is wired by the poller's owner
    for name, (body, ctype) in cases.items():
        feed_server.add(f"/{name}", body, content_type=ctype)
    feed_server.add("/retry", "slow down", status=503, headers={"Retry-After": "60"})
    fetch = FetchConfig(timeout=10, connect_timeout=2, max_body_bytes=5_000_000,
                        fulltext_min_chars=0)
    names = [*cases, "retry"]
    configured = tuple(SourceConfig(name=n, kind="feed", url=feed_server.url(f"/{n}"),
                                    interval=60) for n in names)
    async with await Store.open(tmp_path / "h.db") as store:
        await store.sources.sync(configured)
        async with Fetcher(fetch) as fetcher:
            poller = Poller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                            understanding=Understanding(default_topics(), ner=False))
            results = await asyncio.gather(*(poller.poll(s.id)
                                             for s in await store.sources.all()))
        stored = await fetch_rows(store, "SELECT a.title, a.text, s.name FROM articles a "
                                         "JOIN sources s ON s.id = a.source_id")
    by_name = {r.source: r for r in results}
    assert by_name["deep-json"].status == "failed"
    assert "nested too deeply" in by_name["deep-json"].error
    assert by_name["retry"].status == "failed" and "HTTP 503" in by_name["retry"].error
    for name in cases:
        if name == "deep-json":
            continue
        assert by_name[name].status == "ok", (name, by_name[name])
        titles = {a["title"] for a in stored if a["name"] == name}
        assert {item["title"] for item in good_items(name)} <= titles, (name, titles)
    for a in stored:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", a["title"] + a["text"])


async def test_rebinding_slow_pages_and_a_proxy_on_one_host(feed_server, loopback_proxy):
    """A feed whose name rebinds to loopback is refused at connect time while a good feed and
    100 slow teaser pages on the same host, fetched through a counting proxy, all arrive."""
    base = feed_server.url("")
    feed_server.add("/good", rss(with_good(base, "good")))
    feed_server.add("/rebind", rss(with_good(base, "rebind")))

    async def slow_page(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return web.Response(text=f"<html><body><p>{request.path}</p></body></html>",
                            content_type="text/html")

    for i in range(100):
        feed_server.add_handler(f"/page/{i}", slow_page)
    resolver = ScriptedResolver({"rebind.example.com": ["93.184.216.34", "127.0.0.1"]})
    assert await private_address(f"http://rebind.example.com:{feed_server.port}/rebind",
                                 resolver) is None  # what a check before the request sees
    config = FetchConfig(timeout=1, connect_timeout=2, per_host=2, concurrency=20)
    async with Fetcher(config, resolver=resolver) as direct:
        with pytest.raises(FetchError, match="private or loopback"):
            await direct.fetch(f"http://rebind.example.com:{feed_server.port}/rebind",
                               public_only=True)
    async with Fetcher(config, proxy=loopback_proxy.url("http")) as proxied:
        good = await proxied.fetch(feed_server.url("/good"))
        pages = await asyncio.gather(*(proxied.fetch(feed_server.url(f"/page/{i}"))
                                       for i in range(100)), return_exceptions=True)
    assert_good_survived(parse_feed(good.body, origin="good", charset=good.charset), "good")
    assert [p for p in pages if isinstance(p, BaseException)] == []
    assert feed_server.hits("/rebind") == []
    assert len(loopback_proxy.passed) == 101


# --- fuzz: nothing but FetchError from a server that breaks HTTP -----------------------------

RAW_ANSWERS = {
    "/bad-status": b"HTTP/1.1 abc OK\r\n\r\n",
    "/not-http": b"SSH-2.0-OpenSSH_9.2\r\n",
    "/no-colon": b"HTTP/1.1 200 OK\r\nContent-Type text/xml\r\n\r\n<rss/>",
    "/huge-header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n<rss/>",
    "/bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n<rss/>",
    "/short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>",
    "/bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
                 b"not gzip!!!!",
    "/bad-chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
    "/bad-charset": b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"\xff\x00\"\r\n"
                    b"Content-Length: 6\r\n\r\n<rss/>",
    "/loc-broken": b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n",
    "/loc-port": b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:99999/\r\n"
                 b"Content-Length: 0\r\n\r\n",
    "/loc-idna": b"HTTP/1.1 302 Found\r\nLocation: http://xn--/x\r\nContent-Length: 0\r\n\r\n",
    "/loc-label": b"HTTP/1.1 302 Found\r\nLocation: http://" + b"a" * 300 + b".ru/\r\n"
                  b"Content-Length: 0\r\n\r\n",
    "/loc-bytes": b"HTTP/1.1 302 Found\r\nLocation: http://\xd1\x82\xff\xfe/\r\n"
                  b"Content-Length: 0\r\n\r\n",
    "/loc-numeric": b"HTTP/1.1 302 Found\r\nLocation: http://2130706433/\r\n"
                    b"Content-Length: 0\r\n\r\n",
    "/retry-junk": b"HTTP/1.1 429 Too Many\r\nRetry-After: \xff\xfe" + b"9" * 100 + b"\r\n"
                   b"Content-Length: 0\r\n\r\n",
    "/close-early": b"HTTP/1.1 200 OK\r\n",
}


async def test_a_server_that_breaks_http_gives_only_fetch_errors(fetch_config):
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            await reader.readuntil(b"\r\n\r\n")
            path = line.split(b" ")[1].decode()
            writer.write(RAW_ANSWERS.get(path, b"HTTP/1.1 404 Not Found\r\n\r\n"))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Fetcher(fetch_config) as fetcher:
            for path in RAW_ANSWERS:
                for public_only in (False, True):
                    with pytest.raises(FetchError) as info:
                        await fetcher.fetch(f"http://127.0.0.1:{port}{path}",
                                            public_only=public_only)
                    assert "\n" not in str(info.value) and str(info.value), path
    finally:
        server.close()
        await server.wait_closed()
