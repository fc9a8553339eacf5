"""The fetcher against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp import web

from bot.ingest.charset import decode
from bot.ingest.fetch import Fetcher, FetchError

RUSSIAN = "Томская область и Беларусь усилят сотрудничество в производственной сфере. " * 20


async def fetch(config, url, **kw):
    async with Fetcher(config) as fetcher:
        return await fetcher.fetch(url, **kw)


async def test_plain_and_gzip_bodies_and_user_agent(feed_server, fetch_config):
    feed_server.add("/plain", RUSSIAN)
    feed_server.add("/gz", RUSSIAN, gzip=True)
    plain = await fetch(fetch_config, feed_server.url("/plain"))
    gz = await fetch(fetch_config, feed_server.url("/gz"))
    assert plain.body == gz.body == RUSSIAN.encode()
    assert plain.charset == "utf-8"
    agent = feed_server.requests[0].headers["User-Agent"]
    assert agent.startswith("pressbot/")
    assert "gzip" in feed_server.requests[1].headers["Accept-Encoding"]


async def test_conditional_get_304_is_success(feed_server, fetch_config):
    feed_server.add("/feed", RUSSIAN, etag='"v1"', headers={
        "Last-Modified": "Tue, 15 Jul 2025 10:00:00 GMT"})
    first = await fetch(fetch_config, feed_server.url("/feed"))
    assert first.status == 200 and first.etag == '"v1"'
    assert first.last_modified == "Tue, 15 Jul 2025 10:00:00 GMT"
    second = await fetch(fetch_config, feed_server.url("/feed"), etag=first.etag,
                         last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    sent = feed_server.requests[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Tue, 15 Jul 2025 10:00:00 GMT"


async def test_redirects_followed_up_to_five(feed_server, fetch_config):
    for i in range(5):
        feed_server.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"},
                        content_type=None)
    feed_server.add("/r5", RUSSIAN)
    result = await fetch(fetch_config, feed_server.url("/r0"))
    assert result.url == feed_server.url("/r5") and result.body == RUSSIAN.encode()


async def test_six_redirects_fail(feed_server, fetch_config):
    for i in range(6):
        feed_server.add(f"/r{i}", status=301, headers={"Location": f"/r{i + 1}"},
                        content_type=None)
    feed_server.add("/r6", RUSSIAN)
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        await fetch(fetch_config, feed_server.url("/r0"))


async def test_redirect_loop(feed_server, fetch_config):
    feed_server.add("/a", status=302, headers={"Location": "/b"}, content_type=None)
    feed_server.add("/b", status=302, headers={"Location": "/a"}, content_type=None)
    with pytest.raises(FetchError, match="redirect loop"):
        await fetch(fetch_config, feed_server.url("/a"))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml",
                                    "gopher://127.0.0.1/"])
async def test_redirect_to_other_schemes_is_refused(feed_server, fetch_config, target):
    feed_server.add("/evil", status=302, headers={"Location": target}, content_type=None)
    with pytest.raises(FetchError, match="only http and https"):
        await fetch(fetch_config, feed_server.url("/evil"))


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_http_errors(feed_server, fetch_config, status):
    feed_server.add("/e", "oops", status=status)
    with pytest.raises(FetchError, match=f"^HTTP {status} "):
        await fetch(fetch_config, feed_server.url("/e"))


async def test_body_over_the_cap_declared_and_streamed(feed_server, fetch_config):
    config = dataclasses.replace(fetch_config, max_body_bytes=10_000)
    feed_server.add("/big", b"x" * 20_000)

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(30):
            await resp.write(b"y" * 1000)
        await resp.write_eof()
        return resp

    feed_server.add_handler("/chunked", chunked)
    with pytest.raises(FetchError, match="over the 10000-byte cap"):
        await fetch(config, feed_server.url("/big"))
    with pytest.raises(FetchError, match="over the 10000-byte cap"):
        await fetch(config, feed_server.url("/chunked"))


async def test_gzip_bomb_stops_at_the_cap(feed_server, fetch_config):
    config = dataclasses.replace(fetch_config, max_body_bytes=100_000)
    feed_server.add("/bomb", b"\0" * 5_000_000, gzip=True)  # ~5 KB on the wire
    with pytest.raises(FetchError, match="cap"):
        await fetch(config, feed_server.url("/bomb"))


async def test_timeout_and_trickling_server(feed_server, fetch_config):
    config = dataclasses.replace(fetch_config, timeout=1)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"<")
            await asyncio.sleep(0.5)
        return resp

    feed_server.add_handler("/slow", slow)
    feed_server.add_handler("/trickle", trickle)
    with pytest.raises(FetchError, match=r"timed out after 1s"):
        await fetch(config, feed_server.url("/slow"))
    with pytest.raises(FetchError, match=r"timed out after 1s"):
        await fetch(config, feed_server.url("/trickle"))


async def test_connection_refused(fetch_config):
    with pytest.raises(FetchError, match=r"cannot connect to 127\.0\.0\.1:9"):
        await fetch(fetch_config, "http://127.0.0.1:9/feed")


async def test_windows_1251_without_declaration_decodes(feed_server, fetch_config):
    page = f"<html><body><p>{RUSSIAN}</p></body></html>".encode("cp1251")
    feed_server.add("/page", page, content_type="text/html")
    result = await fetch(fetch_config, feed_server.url("/page"))
    assert result.charset is None
    text, codec = decode(result.body, result.charset)
    assert codec == "cp1251"
    assert RUSSIAN in text


def test_charset_order_header_then_declaration_then_detection():
    body = '<?xml version="1.0" encoding="windows-1251"?><a>Томск</a>'.encode("cp1251")
    assert decode(body)[1] == "cp1251"  # declaration
    assert decode(body, "windows-1251")[1] == "cp1251"  # header
    koi = "Губернатор Томской области предложил развивать химию".encode("koi8-r")
    assert decode(koi, "koi8-r") == ("Губернатор Томской области предложил развивать химию",
                                     "koi8-r")
    assert decode(koi)[0] == "Губернатор Томской области предложил развивать химию"
    # A header that lies (says utf-8 for cp1251 bytes) falls through to detection.
    assert decode(RUSSIAN.encode("cp1251"), "utf-8")[0] == RUSSIAN
    meta = '<html><head><meta charset="windows-1251"></head><body>Томск</body></html>'
    assert decode(meta.encode("cp1251"))[1] == "cp1251"
