"""Feeds of a site from its address (bot/ingest/discover.py), against a real loopback server
through the real Fetcher."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.config import FetchConfig
from bot.ingest.discover import (
    Discovery,
    FeedLink,
    discover,
    feed_self_and_id,
    looks_like_html,
    page_feed_links,
    usual_feed_urls,
)
from bot.ingest.fetch import ACCEPT_PAGE, Fetcher
from bot.ingest.urls import feed_url_key

from conftest import DATA, FeedServer, rss

RSS_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@pytest.fixture
async def fetch(fetch_config: FetchConfig) -> AsyncIterator:
    """The fetch callable as the lead wires it: the real Fetcher, its final URL, content type
    with charset, and body."""
    async with Fetcher(fetch_config) as fetcher:
        async def get(url: str) -> tuple[str, str | None, bytes]:
            r = await fetcher.fetch(url, accept=ACCEPT_PAGE)
            ct = r.content_type
            if ct and r.charset:
                ct = f"{ct}; charset={r.charset}"
            return r.url, ct, r.body
        yield get


def feed(server: FeedServer, name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", server.url(""))


WORDPRESS_HOME = """<!DOCTYPE html>
<html lang="ru-RU">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Томские новости &#8212; городская газета</title>
<link rel='dns-prefetch' href='//fonts.googleapis.com' />
<link rel="alternate" type="application/rss+xml" title="Томские новости &raquo; Лента"
 href="{base}/feed/" />
<link rel="alternate" type="application/rss+xml"
 title="Томские новости &raquo; Лента комментариев" href="{base}/comments/feed/" />
<link rel="https://api.w.org/" href="{base}/wp-json/" />
<link rel="alternate" title="JSON" type="application/json" href="{base}/wp-json/wp/v2/pages/2" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{base}/xmlrpc.php?rsd" />
<link rel="canonical" href="{base}/" />
<link rel="alternate" title="oEmbed (JSON)" type="application/json+oembed"
 href="{base}/wp-json/oembed/1.0/embed?url=%2F" />
<link rel="alternate" title="oEmbed (XML)" type="text/xml+oembed"
 href="{base}/wp-json/oembed/1.0/embed?url=%2F&#038;format=xml" />
<link rel="alternate" hreflang="en" href="{base}/en/" />
</head>
<body class="home page-template-default">
<header><a href="{base}/">Томские новости</a></header>
<main><article><h2><a href="{base}/2025/07/mazur/">Мазур встретился с бизнесом</a></h2>
</article></main>
<footer><a href="{base}/feedback/">Обратная связь</a></footer>
</body>
</html>
"""

# A city administration site on an old CMS: windows-1251, nothing in the head, an RSS button.
GOV_HOME_1251 = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>Администрация Колпашевского района</title>
</head>
<body>
<table class="top"><tr><td><a href="/"><img src="/images/gerb.gif" alt="Герб"></a></td>
<td><h1>Администрация Колпашевского района Томской области</h1></td></tr></table>
<div class="menu"><a href="/news/">Новости</a> | <a href="/docs/">Документы</a> |
<a href="/feedback/">Интернет-приёмная</a></div>
<div class="news"><a href="/news/4512/">Итоги заседания районной думы</a></div>
<div class="footer">© 2009–2025 Администрация Колпашевского района.
<a href="/news/rss/"><img src="/images/rss.gif" alt="RSS"></a>
<a href="https://vk.com/kolpadm">ВКонтакте</a></div>
</body></html>
"""

HUGO_HOME = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Блог пресс-службы</title><link rel="stylesheet" href="/css/main.css"></head>
<body><h1>Блог пресс-службы</h1><ul><li><a href="/posts/first/">Первый пост</a></li></ul>
</body></html>"""


async def test_wordpress_home_gives_its_feed_first_and_comments_last(
        feed_server: FeedServer, fetch) -> None:
    feed_server.add("/", WORDPRESS_HOME.replace("{base}", feed_server.url("")),
                    content_type=HTML_TYPE)
    feed_server.add("/feed/", feed(feed_server, "rss20_tomsk.xml"), content_type=RSS_TYPE)
    comments = rss([{"title": "Комментарий к «Мазур встретился»", "link": "http://x.ru/c/1",
                     "guid": "c1", "description": "Отлично"}], title="Комментарии")
    feed_server.add("/comments/feed/", comments, content_type=RSS_TYPE)
    found = await discover(feed_server.url("/"), fetch)
    assert found.error is None
    assert [(f.url, f.kind, f.via) for f in found.feeds] == [
        (feed_server.url("/feed/"), "rss", "link"),
        (feed_server.url("/comments/feed/"), "rss", "link")]
    assert found.feeds[0].title == "Томская область: новости"
    assert found.feeds[0].entries == 3
    assert found.feeds[1].title == "Комментарии"
    # the WordPress REST API and oEmbed links are not fetched, nor are usual paths
    assert feed_server.hits("/wp-json/wp/v2/pages/2") == []
    assert [r.path for r in feed_server.requests] == ["/", "/feed/", "/comments/feed/"]
    assert found.requests == 3


async def test_old_cms_page_in_windows_1251_gives_its_rss_button(
        feed_server: FeedServer, fetch) -> None:
    feed_server.add("/", GOV_HOME_1251.encode("cp1251"), content_type="text/html")
    feed_server.add("/news/rss/", feed(feed_server, "rss20_tomsk.xml").encode("utf-8"),
                    content_type="text/html")  # such CMSs serve their RSS as text/html
    found = await discover(feed_server.url("/"), fetch)
    assert [(f.url, f.via) for f in found.feeds] == [(feed_server.url("/news/rss/"), "anchor")]
    assert feed_server.hits("/feedback/") == []  # "feedback" is no feed


async def test_page_without_feed_links_gets_the_usual_paths(feed_server: FeedServer,
                                                            fetch) -> None:
    feed_server.add("/", HUGO_HOME, content_type=HTML_TYPE)
    feed_server.add("/index.xml", feed(feed_server, "atom10_tomsk.xml"),
                    content_type="application/xml")
    found = await discover(feed_server.url("/"), fetch, concurrency=2)
    assert [(f.url, f.kind, f.via) for f in found.feeds] == [
        (feed_server.url("/index.xml"), "atom", "guess")]
    assert found.feeds[0].title == "ТУСУР: новости"
    # /rss, /feed, /rss.xml, /feed.xml, /atom.xml then /index.xml: batches of 2 stop after it
    asked = [r.path for r in feed_server.requests]
    assert asked == ["/", "/rss", "/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml"]
    assert (feed_server.url("/rss"), "HTTP 404 Not Found") in found.tried


async def test_paths_beside_the_page_come_before_the_root(feed_server: FeedServer,
                                                          fetch) -> None:
    feed_server.add("/blog/", HUGO_HOME, content_type=HTML_TYPE)
    feed_server.add("/blog/feed", feed(feed_server, "rss20_tomsk.xml"))
    feed_server.add("/rss", feed(feed_server, "atom10_tomsk.xml"))
    found = await discover(feed_server.url("/blog/"), fetch, concurrency=1)
    assert [f.url for f in found.feeds] == [feed_server.url("/blog/feed")]
    assert [r.path for r in feed_server.requests] == ["/blog/", "/blog/rss", "/blog/feed"]


async def test_the_address_of_a_feed_is_the_feed(feed_server: FeedServer, fetch) -> None:
    feed_server.add("/feed.json", feed(feed_server, "feed_tomsk.json"),
                    content_type="application/feed+json")
    found = await discover(feed_server.url("/feed.json?utm_source=tg"), fetch)
    assert [(f.url, f.kind, f.via) for f in found.feeds] == [
        (feed_server.url("/feed.json"), "json", "address")]
    assert found.feeds[0].title == "Томская область в Узбекистане"
    assert found.feeds[0].identity.self_key == feed_url_key(feed_server.url("/feed.json"))
    assert found.requests == 1


async def test_one_feed_behind_two_links_is_offered_once(feed_server: FeedServer,
                                                         fetch) -> None:
    base = feed_server.url("")
    page = (f'<!DOCTYPE html><html><head><title>x</title>'
            f'<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom">'
            f'<link rel="alternate" type="application/atom+xml" title="Atom (копия)" '
            f'href="{base}/atom?x=1">'
            f'<link rel="alternate" type="application/feed+json" title="JSON" '
            f'href="/feed.json"></head><body></body></html>')
    feed_server.add("/", page, content_type=HTML_TYPE)
    atom = feed(feed_server, "atom10_tomsk.xml")
    feed_server.add("/atom", atom, content_type="application/atom+xml")  # path_qs or path
    feed_server.add("/feed.json", feed(feed_server, "feed_tomsk.json"),
                    content_type="application/feed+json")
    found = await discover(feed_server.url("/"), fetch)
    assert [(f.url, f.kind, f.title) for f in found.feeds] == [
        (feed_server.url("/atom"), "atom", "ТУСУР: новости"),
        (feed_server.url("/feed.json"), "json", "Томская область в Узбекистане")]
    assert len(feed_server.hits("/atom")) == 2  # both were fetched; one is offered


async def test_redirects_are_followed_and_the_final_address_kept(feed_server: FeedServer,
                                                                 fetch) -> None:
    feed_server.add("/", HUGO_HOME.replace("</head>", '<link rel="alternate" '
                    'type="application/rss+xml" href="/rss"></head>'), content_type=HTML_TYPE)
    feed_server.add("/rss", b"", status=301, headers={"Location": "/rss/"})
    feed_server.add("/rss/", feed(feed_server, "rss20_tomsk.xml"))
    found = await discover(feed_server.url("/"), fetch)
    assert [f.url for f in found.feeds] == [feed_server.url("/rss/")]


async def test_base_href_resolves_relative_links(feed_server: FeedServer, fetch) -> None:
    page = ('<!DOCTYPE html><html><head><base href="{base}/site/">'
            '<link rel="alternate" type="application/rss+xml" href="news.rss"></head>'
            '<body></body></html>').replace("{base}", feed_server.url(""))
    feed_server.add("/", page, content_type=HTML_TYPE)
    feed_server.add("/site/news.rss", feed(feed_server, "rss20_tomsk.xml"))
    found = await discover(feed_server.url("/"), fetch)
    assert [f.url for f in found.feeds] == [feed_server.url("/site/news.rss")]


async def test_broken_declared_feed_falls_back_to_the_next_stage(feed_server: FeedServer,
                                                                 fetch) -> None:
    page = ('<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" '
            'href="/old-rss.php"></head><body><a href="/rss.xml">RSS</a></body></html>')
    feed_server.add("/", page, content_type=HTML_TYPE)
    feed_server.add("/old-rss.php", "<html><body>Fatal error</body></html>", status=500,
                    content_type=HTML_TYPE)
    feed_server.add("/rss.xml", feed(feed_server, "rss20_tomsk.xml"))
    found = await discover(feed_server.url("/"), fetch)
    assert [(f.url, f.via) for f in found.feeds] == [(feed_server.url("/rss.xml"), "anchor")]
    assert found.tried == [(feed_server.url("/old-rss.php"), "HTTP 500 Internal Server Error")]


async def test_nothing_found_says_why_and_stays_within_the_request_budget(
        feed_server: FeedServer, fetch) -> None:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="/feed{i}.xml">'
                    for i in range(30))
    feed_server.add("/", f"<!DOCTYPE html><html><head>{links}</head><body></body></html>",
                    content_type=HTML_TYPE)
    found = await discover(feed_server.url("/"), fetch, max_requests=8)
    assert found.feeds == []
    assert found.requests == 8
    assert len(feed_server.requests) == 8
    assert len(found.tried) == 7
    assert found.reason is not None and "no feed found" in found.reason


async def test_site_that_answers_every_path_with_its_home_page(feed_server: FeedServer,
                                                               fetch) -> None:
    async def home(_request: web.Request) -> web.Response:
        return web.Response(text=HUGO_HOME, content_type="text/html")
    for path in ["/", *(p.removeprefix("http://x.ru") for p in usual_feed_urls("http://x.ru/"))]:
        feed_server.add_handler(path, home)
    found = await discover(feed_server.url("/"), fetch)
    assert found.feeds == []
    assert found.tried and all(why == "an HTML page, not a feed" for _, why in found.tried)
    assert found.requests <= 12


async def test_page_that_cannot_be_fetched(feed_server: FeedServer, fetch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    found = await discover(f"http://127.0.0.1:{port}/", fetch)
    assert found.feeds == []
    assert found.error is not None and found.error.startswith("cannot connect to 127.0.0.1")
    assert found.reason == found.error
    feed_server.add("/gone", "not here", status=404, content_type="text/plain")
    gone = await discover(feed_server.url("/gone"), fetch)
    assert gone.error == "HTTP 404 Not Found"


async def test_bare_host_tries_https_then_http(feed_server: FeedServer, fetch) -> None:
    feed_server.add("/", feed(feed_server, "rss20_tomsk.xml"))
    found = await discover(f"127.0.0.1:{feed_server.port}", fetch)
    assert [f.url for f in found.feeds] == [feed_server.url("/")]
    assert found.url == feed_server.url("/")
    assert found.requests == 2  # https failed (the server speaks plain HTTP), then http


async def test_what_is_neither_feed_nor_page(feed_server: FeedServer, fetch) -> None:
    feed_server.add("/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), content_type="image/png")
    found = await discover(feed_server.url("/logo.png"), fetch)
    assert found.feeds == []
    assert found.error is not None and found.error.startswith("neither a feed nor a web page")
    bad = await discover("ftp://example.ru/", fetch)
    assert bad.error == "not a web address (http or https)"
    assert bad.requests == 0


async def test_a_slow_site_is_given_up_with_what_was_found(feed_server: FeedServer,
                                                           fetch) -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late", content_type="application/rss+xml")
    page = ('<!DOCTYPE html><html><head>'
            '<link rel="alternate" type="application/rss+xml" href="/fast">'
            '<link rel="alternate" type="application/rss+xml" href="/slow">'
            '</head><body></body></html>')
    feed_server.add("/", page, content_type=HTML_TYPE)
    feed_server.add("/fast", feed(feed_server, "rss20_tomsk.xml"))
    feed_server.add_handler("/slow", slow)
    found = await discover(feed_server.url("/"), fetch, timeout=1.0)
    assert [f.url for f in found.feeds] == [feed_server.url("/fast")]
    assert (feed_server.url("/"), "gave up after 1s") in found.tried
    feed_server.add_handler("/", slow)
    hung = await discover(feed_server.url("/"), fetch, timeout=0.5)
    assert hung.error == "the page did not answer: gave up after 0.5s"


# --- pure parts --------------------------------------------------------------------------


def test_page_feed_links_types_order_and_dedup() -> None:
    page = """<html><head>
    <link rel="alternate" type="application/atom+xml" title=" Atom  лента " href="/atom.xml">
    <link rel="ALTERNATE" type="application/rss+xml; charset=utf-8" href="/rss.xml">
    <link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">
    <link rel="alternate" type="application/feed+json" href="https://cdn.example.ru/feed.json">
    <link rel="alternate" type="application/rss+xml" href="/rss.xml?utm_source=x">
    <link rel="alternate" type="text/xml" href="/export/news.xml">
    <link rel="feed" href="/all">
    <link rel="alternate" type="text/html" href="/print">
    <link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
    <link rel="stylesheet" type="application/rss+xml" href="/not-alternate.xml">
    </head><body>
    <a href="/rss/">RSS</a> <a href="https://feeds.feedburner.com/example">RSS-лента</a>
    <a href="/news/?format=feed&amp;type=rss">подписаться</a> <a href="/feedback">Связь</a>
    <a href="/rss.xml">RSS again</a> <a href="/podcast.rss">Подкаст</a>
    </body></html>"""
    links = page_feed_links(page, "https://example.ru/news/")
    assert [(ln.url, ln.kind, ln.via, ln.title) for ln in links] == [
        ("https://example.ru/atom.xml", "atom", "link", "Atom лента"),
        ("https://example.ru/rss.xml", "rss", "link", None),
        ("https://cdn.example.ru/feed.json", "json", "link", None),
        ("https://example.ru/export/news.xml", None, "link", None),
        ("https://example.ru/all", None, "link", None),
        ("https://example.ru/comments/feed/", "rss", "link", "Comments"),
        ("https://example.ru/rss/", None, "anchor", None),
        ("https://example.ru/news/?format=feed&type=rss", None, "anchor", None),
        ("https://example.ru/podcast.rss", None, "anchor", None),
        ("https://feeds.feedburner.com/example", None, "anchor", None),
    ]


def test_page_feed_links_is_bounded_and_survives_junk() -> None:
    many = "".join(f'<link rel="alternate" type="application/rss+xml" href="/f{i}">'
                   for i in range(100))
    assert len(page_feed_links(f"<html><head>{many}</head></html>", "https://e.ru/",
                               max_links=20)) == 20
    assert page_feed_links(b"", "https://e.ru/") == []
    assert page_feed_links(b"\x00\xff\xfe garbage <<<", "https://e.ru/") == []
    assert page_feed_links('<?xml version="1.0" encoding="utf-8"?><html><head>'
                           '<link rel="alternate" type="application/rss+xml" href="/r">'
                           '</head></html>', "https://e.ru/") == [
        FeedLink("https://e.ru/r", None, "rss", "link")]


def test_usual_feed_urls() -> None:
    root = usual_feed_urls("https://Example.ru/?utm_source=x")
    assert root[:8] == [f"https://example.ru/{p}" for p in (
        "rss", "feed", "rss.xml", "feed.xml", "atom.xml", "index.xml", "feed/", "rss/")]
    beside = usual_feed_urls("https://example.ru/blog/post.html")
    assert beside[:2] == ["https://example.ru/blog/rss", "https://example.ru/blog/feed"]
    assert "https://example.ru/rss" in beside
    assert len(beside) == len(set(beside))
    assert usual_feed_urls("mailto:x@y.ru") == []


@pytest.mark.parametrize(("body", "content_type", "html"), [
    (b"<!DOCTYPE html><html></html>", None, True),
    (b"\xef\xbb\xbf\n  <!-- x --><html lang=ru>", "application/xml", True),
    (b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x">'
     b'<html xmlns="http://www.w3.org/1999/xhtml">', None, True),
    (b"<head><meta charset=utf-8><title>x</title>", "text/html", True),
    (b"<meta charset=utf-8><title>x</title>", None, True),
    (b'<?xml version="1.0"?><rss version="2.0"><channel>', "text/html", False),
    (b'<feed xmlns="http://www.w3.org/2005/Atom">', None, False),
    (b'{"version": "https://jsonfeed.org/version/1.1"}', "text/html", False),
    (b"\x89PNG\r\n", "image/png", False),
])
def test_looks_like_html(body: bytes, content_type: str | None, html: bool) -> None:
    assert looks_like_html(body, content_type) is html


def test_feed_self_and_id() -> None:
    atom = (DATA / "atom10_tomsk.xml").read_bytes().replace(b"{base}", b"https://t.ru")
    assert feed_self_and_id(atom) == ("https://t.ru/atom", "urn:uuid:6f1d2b7e-tusur-news")
    rss_self = (b'<?xml version="1.0"?><rss version="2.0" '
                b'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>'
                b'<atom:link href="https://e.ru/rss" rel="self" type="application/rss+xml"/>'
                b'<item><guid>1</guid><atom:link href="https://x" rel="self"/></item>'
                b'</channel></rss>')
    assert feed_self_and_id(rss_self) == ("https://e.ru/rss", None)
    entry_id_only = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
                     b'<entry><id>entry-1</id></entry></feed>')
    assert feed_self_and_id(entry_id_only) == (None, None)
    js = (DATA / "feed_tomsk.json").read_bytes().replace(b"{base}", b"https://t.ru")
    assert feed_self_and_id(js, "application/feed+json") == ("https://t.ru/feed.json", None)
    hostile = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
               b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><feed><id>&b;</id></feed>')
    assert feed_self_and_id(hostile) == (None, None)
    assert feed_self_and_id(b"\x00\x01 not xml") == (None, None)
    assert feed_self_and_id(b"{not json") == (None, None)


def test_discovery_reason_for_an_empty_page() -> None:
    assert Discovery(url="https://e.ru/").reason is not None
    assert Discovery(url="https://e.ru/", error="HTTP 403 Forbidden").reason == \
        "HTTP 403 Forbidden"
