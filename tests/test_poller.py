"""Polling sources end to end against a loopback feed server and a real SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.config import SourceConfig
from bot.ingest.fetch import Fetcher
from bot.poller import Poller, backoff_delay

from conftest import DATA, SEEDS, fetch_rows, rss

NOW = datetime(2025, 7, 16, 12, 0, tzinfo=UTC)


def feed_file(name: str, base: str) -> str:
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", base)


async def make_sources(store, *configs: SourceConfig):
    states = await store.sources.sync(configs)
    return {s.name: s for s in states}


async def poll(store, fetch_config, scheduler_config, source_id, clock=lambda: NOW):
    async with Fetcher(fetch_config) as fetcher:
        poller = Poller(store, fetcher, fetch_config, scheduler_config, clock=clock)
        return await poller.poll(source_id)


def serve_tomsk(feed_server):
    base = feed_server.url("")
    feed_server.add("/rss", feed_file("rss20_tomsk.xml", base), etag='"rss-1"')
    feed_server.add("/news/clusters", (DATA / "clusters_page.html").read_bytes(),
                    content_type="text/html; charset=utf-8")
    feed_server.add("/news/export", "<html><body>короткая страница</body></html>",
                    content_type="text/html")


async def test_feed_poll_stores_articles_and_fetches_full_text(
        store, feed_server, fetch_config, scheduler_config):
    serve_tomsk(feed_server)
    sources = await make_sources(store, SourceConfig("tomsk", "feed", url=feed_server.url("/rss"),
                                                  interval=600))
    result = await poll(store, fetch_config, scheduler_config, sources["tomsk"].id)
    assert (result.status, result.new, result.error) == ("ok", 3, None)
    articles = {a.url: a for a in await store.articles.latest(10)}
    base = feed_server.url("")
    clusters = articles[base + "/news/clusters"]
    # The teaser ("...") was replaced by the page's main text, chrome left out.
    assert "Планируемый объем инвестиций – 15,6 миллиарда рублей." in clusters.text
    assert "Последние новости" not in clusters.text and "©" not in clusters.text
    assert clusters.published == datetime(2025, 2, 11, 2, 0, tzinfo=UTC)
    # A teaser whose page holds less than the feed keeps the feed text.
    export = articles[base + "/news/export"]
    assert "вырос почти на 18%" in export.text
    assert all(a.source_id == sources["tomsk"].id for a in articles.values())
    state = await store.sources.get(sources["tomsk"].id)
    assert state.etag == '"rss-1"' and state.error_count == 0
    assert state.last_success_at is not None
    assert state.next_check_at == NOW + timedelta(seconds=600)


async def test_second_poll_is_conditional_and_unchanged(
        store, feed_server, fetch_config, scheduler_config):
    serve_tomsk(feed_server)
    sources = await make_sources(store, SourceConfig("tomsk", "feed", url=feed_server.url("/rss")))
    await poll(store, fetch_config, scheduler_config, sources["tomsk"].id)
    pages = len(feed_server.hits("/news/clusters"))
    again = await poll(store, fetch_config, scheduler_config, sources["tomsk"].id)
    assert again.status == "unchanged" and again.new == 0
    assert feed_server.hits("/rss")[-1].headers["If-None-Match"] == '"rss-1"'
    assert len(feed_server.hits("/news/clusters")) == pages
    assert await store.articles.count() == 3


async def test_known_articles_are_not_fetched_again_when_the_feed_changes(
        store, feed_server, fetch_config, scheduler_config):
    serve_tomsk(feed_server)
    sources = await make_sources(store, SourceConfig("tomsk", "feed", url=feed_server.url("/rss")))
    await poll(store, fetch_config, scheduler_config, sources["tomsk"].id)
    feed_server.add("/rss", feed_file("rss20_tomsk.xml", feed_server.url("")), etag='"rss-2"')
    pages = len(feed_server.hits("/news/clusters"))
    result = await poll(store, fetch_config, scheduler_config, sources["tomsk"].id)
    assert (result.status, result.new, result.known) == ("ok", 0, 3)
    assert len(feed_server.hits("/news/clusters")) == pages


BAD_FEEDS = {
    "malformed XML": (dict(body=b'<?xml version="1.0"?><rss version="2.0"><channel><item>'
                                b"<link>http://x.ru/1</link></itm>"), "malformed feed"),
    "HTML page": (dict(body="<!doctype html><html><body><h1>Главная</h1></body></html>",
                       content_type="text/html"), "got an HTML page, not a feed"),
    "empty body": (dict(body=b""), "empty body"),
    "404": (dict(body="nope", status=404), "HTTP 404 Not Found"),
    "500": (dict(body="oops", status=500), "HTTP 500 Internal Server Error"),
    "over the cap": (dict(body=b"<rss>" + b" " * 2_000_000), "over the 1000000-byte cap"),
}


@pytest.mark.parametrize("case", [*sorted(BAD_FEEDS), "timeout", "redirect loop"])
async def test_a_bad_feed_fails_alone_and_loses_nothing(
        store, feed_server, fetch_config, scheduler_config, case):
    serve_tomsk(feed_server)
    if case in BAD_FEEDS:
        feed_server.add("/bad", **BAD_FEEDS[case][0])
        expected = BAD_FEEDS[case][1]
    elif case == "timeout":
        fetch_config = dataclasses.replace(fetch_config, timeout=1)

        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(3)
            return web.Response(text="late")

        feed_server.add_handler("/bad", slow)
        expected = "timed out after 1s"
    else:
        feed_server.add("/bad", status=302, headers={"Location": "/bad2"}, content_type=None)
        feed_server.add("/bad2", status=302, headers={"Location": "/bad"}, content_type=None)
        expected = "redirect loop"
    sources = await make_sources(
        store, SourceConfig("good", "feed", url=feed_server.url("/rss"), interval=600),
        SourceConfig("bad", "feed", url=feed_server.url("/bad"), interval=600))
    await poll(store, fetch_config, scheduler_config, sources["good"].id)
    stored = await store.articles.count()
    good, bad = await asyncio.gather(
        poll(store, fetch_config, scheduler_config, sources["good"].id),
        poll(store, fetch_config, scheduler_config, sources["bad"].id))
    assert good.status == "unchanged" and good.error is None
    assert bad.status == "failed" and expected in bad.error and "\n" not in bad.error
    state = await store.sources.get(sources["bad"].id)
    assert state.error_count == 1 and expected in state.last_error
    assert state.next_check_at == NOW + timedelta(seconds=1200)
    assert (await store.sources.get(sources["good"].id)).error_count == 0
    assert await store.articles.count() == stored == 3


async def test_backoff_doubles_caps_at_six_hours_and_recovers(
        store, feed_server, fetch_config, scheduler_config):
    feed_server.add("/flaky", "oops", status=503)
    sources = await make_sources(store, SourceConfig("flaky", "feed",
                                                  url=feed_server.url("/flaky"), interval=900))
    sid = sources["flaky"].id
    delays = []
    for _ in range(6):
        await poll(store, fetch_config, scheduler_config, sid)
        state = await store.sources.get(sid)
        delays.append((state.next_check_at - NOW).total_seconds())
    assert delays == [1800, 3600, 7200, 14400, 21600, 21600]
    assert state.error_count == 6 and "HTTP 503" in state.last_error
    serve_tomsk(feed_server)
    feed_server.add("/flaky", feed_file("rss20_tomsk.xml", feed_server.url("")))
    result = await poll(store, fetch_config, scheduler_config, sid)
    assert result.status == "ok" and result.new == 3
    state = await store.sources.get(sid)
    assert state.error_count == 0 and state.next_check_at == NOW + timedelta(seconds=900)
    assert state.last_error is not None  # kept for the record; health is error_count


def test_backoff_delay():
    assert backoff_delay(600, 0, 21600) == 600
    assert backoff_delay(600, 1, 21600) == 1200
    assert backoff_delay(600, 100, 21600) == 21600


async def test_files_source_reads_seeds_once(store, tmp_path, fetch_config, scheduler_config):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    (folder / "notes.docx").write_bytes(b"ignored: not a supported type")
    sources = await make_sources(store, SourceConfig("seeds", "files", path=folder, interval=3600))
    first = await poll(store, fetch_config, scheduler_config, sources["seeds"].id)
    assert (first.status, first.new) == ("ok", 5)
    again = await poll(store, fetch_config, scheduler_config, sources["seeds"].id)
    assert (again.status, again.new, again.known) == ("unchanged", 0, 5)


async def test_unreadable_seed_fails_the_source_and_keeps_the_rest(
        store, tmp_path, fetch_config, scheduler_config):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    os.symlink("/proc/self/mem", folder / "005_unreadable.txt")  # read() fails even for root
    sources = await make_sources(store, SourceConfig("seeds", "files", path=folder, interval=3600))
    result = await poll(store, fetch_config, scheduler_config, sources["seeds"].id)
    assert result.status == "failed" and result.new == 5
    assert "cannot read" in result.error and "005_unreadable.txt" in result.error
    assert "Input/output error" in result.error
    state = await store.sources.get(sources["seeds"].id)
    assert state.error_count == 1
    assert await store.articles.count() == 5


async def test_missing_folder_is_a_failing_source(store, tmp_path, fetch_config, scheduler_config):
    sources = await make_sources(store, SourceConfig("gone", "files", path=tmp_path / "nope"))
    result = await poll(store, fetch_config, scheduler_config, sources["gone"].id)
    assert result.status == "failed" and "cannot read folder" in result.error
    assert "No such file or directory" in result.error


async def test_sync_disables_removed_config_sources_and_resets_moved_ones(store, feed_server):
    a = SourceConfig("a", "feed", url=feed_server.url("/a"))
    b = SourceConfig("b", "feed", url=feed_server.url("/b"))
    await store.sources.sync((a, b))
    async with store.db.transaction() as tx:
        await tx.execute("UPDATE sources SET etag = 'x', error_count = 3")
    states = {s.name: s for s in await store.sources.sync(
        (dataclasses.replace(a, url=feed_server.url("/a2")),))}
    assert states["b"].enabled is False
    assert states["a"].etag is None and states["a"].error_count == 0
    assert states["a"].location == feed_server.url("/a2")


async def test_a_teaser_whose_page_fails_waits_and_is_stored_when_its_text_comes(
        store, feed_server, fetch_config, scheduler_config):
    """Not stored (nor delivered) as a teaser: retried with backoff, stored with the full
    text when the page comes, or with the feed's text after the last attempt."""
    from bot.poller import TEASER_RETRIES

    await store.chats.upsert(1)
    base = feed_server.url("")
    teaser = "Губернатор рассказал о новом химическом кластере в Томской области..."
    feed_server.add("/rss", rss([
        {"title": "Химический кластер в Томске", "link": f"{base}/a/1", "guid": "1",
         "description": teaser},
        {"title": "Ледоход на Томи", "link": f"{base}/a/2", "guid": "2",
         "description": "На Томи начался ледоход..."}]))
    feed_server.add("/a/1", "slow down", status=503)
    feed_server.add("/a/2", "gone", status=500)
    (state,) = await store.sources.sync((SourceConfig("t", "feed", url=f"{base}/rss"),))
    clock = [datetime.now(UTC)]
    async with Fetcher(fetch_config) as fetcher:
        poller = Poller(store, fetcher, fetch_config, scheduler_config, clock=lambda: clock[0])
        result = await poller.poll(state.id)
        assert result.status == "ok" and result.new == 0
        assert await store.articles.count() == 0
        assert await fetch_rows(store, "SELECT id FROM outbox") == []
        again = await poller.poll(state.id)  # the same entries are not taken twice
        assert again.new == 0 and len(await fetch_rows(store, "SELECT url FROM teasers")) == 2
        assert await poller.retry_teasers() == 0  # not due yet
        page = "<html><body><article>" + "".join(
            f"<p>Абзац {i}: в Томской области создают химический кластер, в нём будет "
            f"сорок предприятий и полтора десятка новых производств.</p>" for i in range(12)
        ) + "</article></body></html>"
        feed_server.add("/a/1", page, content_type="text/html; charset=utf-8")
        clock[0] += TEASER_RETRIES[0]
        assert await poller.retry_teasers() == 1  # its page came: stored with the full text
        (article,) = await store.articles.latest(5)
        assert "сорок предприятий" in article.text and len(article.text) > 1000
        assert len(await fetch_rows(store, "SELECT id FROM outbox")) == 1  # delivered now
        for wait in TEASER_RETRIES[1:-1]:
            clock[0] += wait
            assert await poller.retry_teasers() == 0  # /a/2 still fails
        clock[0] += TEASER_RETRIES[-1]
        assert await poller.retry_teasers() == 1  # finally: with the feed's text
    assert await fetch_rows(store, "SELECT url FROM teasers") == []
    texts = sorted(a.text for a in await store.articles.latest(5))
    assert any(t.startswith("На Томи начался ледоход") for t in texts)
