"""The web archive over real HTTP: pages, filters, search, feeds out, CSV, charts, safety.

The archive is built the way pressbot builds it: real feed files served on 127.0.0.1, polled by
the real Poller through the real pipeline (with NER), into a real SQLite file.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import feedparser
import pytest

from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import parse_feed
from bot.poller import Poller
from bot.storage.db import Database
from bot.storage.store import Store
from bot.understand.analyzer import Understanding
from bot.web import PortInUse, WebServer
from bot.web.charts import render_png, week_start
from bot.web.feeds import CSV_COLUMNS
from bot.web.present import printable_text

from conftest import DATA, SEEDS, FeedServer, wait_for

NOW = datetime(2025, 7, 25, 12, 0, tzinfo=UTC)
TOPICS = default_topics()
# Double-escaped in the feed, as careless feeds do: the stored title holds a literal <script>.
HOSTILE_FEED_TITLE = ("&lt;script&gt;alert(\"x\")&lt;/script&gt; \"кавычки\" & 'апостроф'"
                      " \u0007звонок\u0000 <b>химия</b>")
FORMULA_TITLE = '=HYPERLINK("http://evil.example","жми") химический завод'
HOSTILE_SOURCE = '<b>"Злой" источник</b> & co'
SECRET_CHAT = 987654321
SECRET_TITLE = "Секретный-чат-Ω"

BELARUS = ("<p>Делегация от Томской области во главе с губернатором Владимиром Мазуром приняла"
           " участие в заседании, посвященном сотрудничеству региона и Беларуси. Встреча прошла в"
           " рамках рабочего визита томичей в Республику.</p><p>За прошедшие полгода товарооборот"
           " между Томской областью и Беларусью вырос на 60% по сравнению с аналогичным периодом"
           " 2024 года — только экспорт увеличился на 30%. Томские производители поставляют"
           " преимущественно продукцию машиностроения и электротехники, оптическое и"
           " электротехническое оборудование, кабель.</p><p>Основные статьи импорта из Беларуси в"
           " Томскую область — это продовольственная и химическая продукция.</p><p>Томский"
           " областной театр драмы будет развивать совместные культурные проекты с Национальным"
           " академическим театром имени Янки Купалы.</p>")
CHEMISTRY = ("<p>На химическом заводе в Томской области запустили новую линию по выпуску"
             " метанола и формалина. Предприятие вложило в модернизацию 2,5 млрд рублей,"
             " мощность производства выросла на 40%.</p><p>Химическая продукция томского"
             " завода поставляется в Казахстан и Узбекистан, сообщили в администрации"
             " региона.</p>")
FERTILIZER = ("<p>Томская область и Узбекистан обсудили поставки удобрений и совместный"
              " химический кластер. Стороны договорились о строительстве завода по"
              " производству азотных удобрений мощностью 300 тысяч тонн в год.</p>"
              "<p>Проект оценивается в 12 млрд рублей, сообщили в департаменте"
              " промышленности.</p>")


def json_feed_file(title: str, items: list[dict]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": title,
                       "items": items}, ensure_ascii=False).encode("utf-8")


def feed_file(name: str, base: str) -> bytes:
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", base).encode("utf-8")


FEEDS = {  # path: (source name, content type, body)
    "/tomsk.rss": ("tomsk-gov", "application/rss+xml",
                   lambda: feed_file("rss20_tomsk.xml", "https://tomsk.gov.example")),
    "/tusur.atom": ("tusur", "application/atom+xml",
                    lambda: feed_file("atom10_tomsk.xml", "https://tusur.example")),
    "/uz.json": ("uz-news", "application/feed+json",
                 lambda: feed_file("feed_tomsk.json", "https://uz.example")),
    "/chirchik.rdf": ("himgrad", "application/rdf+xml",
                      lambda: feed_file("rss10_tomsk.rdf", "https://himgrad.example")),
    "/obzor.rss": ("obzor", "application/rss+xml",
                   lambda: feed_file("rss091_tomsk.xml", "https://obzor.example")),
    "/ria.json": ("ria-tomsk", "application/feed+json", lambda: json_feed_file("РИА Томск", [
        {"id": "ria-belarus", "url": "https://ria-tomsk.example/news/belarus-trade",
         "title": "Товарооборот Томской области и Беларуси вырос на 60%",
         "content_html": BELARUS + "<p>Об этом сообщает пресс-служба администрации.</p>",
         "date_published": "2025-07-15T13:00:00+07:00"},
        {"id": "ria-fert", "url": "https://ria-tomsk.example/news/fertilizer",
         "title": "Томская область и Узбекистан построят завод удобрений",
         "content_html": FERTILIZER, "date_published": "2025-07-02T09:00:00+07:00"}])),
}
EVIL_FEED = ("/evil.json", lambda: json_feed_file("evil", [
    {"id": "evil-1", "url": "https://evil.example/news/1", "title": HOSTILE_FEED_TITLE,
     "content_html": CHEMISTRY, "date_published": "2025-07-18T10:00:00+07:00"},
    {"id": "evil-2", "url": "https://evil.example/news/2", "title": FORMULA_TITLE,
     "content_text": "Томский химический завод увеличил выпуск метанола и азотных удобрений,"
                     " сообщили в региональном департаменте промышленности. Химическая отрасль"
                     " Томской области выросла на 12%. " * 2,
     "date_published": "2025-06-20T10:00:00+07:00"}]))


async def build_archive(path: Path) -> None:
    """Serve the feeds on loopback and poll every source once, as pressbot run does."""
    server = FeedServer()
    await server.start()
    try:
        for route, (_, content_type, body) in FEEDS.items():
            server.add(route, body(), content_type=f"{content_type}; charset=utf-8")
        server.add(EVIL_FEED[0], EVIL_FEED[1](), content_type="application/feed+json")
        fetch = FetchConfig(timeout=10, connect_timeout=5, fulltext_min_chars=0,
                        allow_private_addresses=True)  # the feeds are on loopback
        async with await Store.open(path) as store:
            await store.sources.sync(tuple(SourceConfig(name, "feed", url=server.url(route),
                                                      interval=3600)
                                         for route, (name, _, _) in FEEDS.items()))
            await store.sources.add(HOSTILE_SOURCE, server.url(EVIL_FEED[0]), 3600)
            await store.chats.upsert(SECRET_CHAT, "group", title=SECRET_TITLE)
            await store.chats.set_filter(SECRET_CHAT, "follow", "секретное-слово", True)
            understanding = Understanding(TOPICS, ner=True)
            async with Fetcher(fetch) as fetcher:
                poller = Poller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                                clock=lambda: NOW, understanding=understanding)
                for row in await store.sources.all():
                    result = await poller.poll(row.id)
                    assert result.status == "ok", (result.source, result.error)
    finally:
        await server.stop()


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "pressbot.db"
    asyncio.run(build_archive(path))
    return path


def plain(path: Path, sql: str, params=()) -> list[tuple]:
    """The yardstick: a plain sqlite3 query of the archive file."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class Client:
    def __init__(self, server: WebServer, session: aiohttp.ClientSession) -> None:
        self.server, self.session = server, session

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{path}"

    async def get(self, path: str, **kwargs) -> tuple[int, str, bytes, aiohttp.ClientResponse]:
        async with self.session.get(self.url(path), allow_redirects=False, **kwargs) as r:
            body = await r.read()
            return r.status, r.content_type, body, r


@pytest.fixture
async def web(archive_file):
    db = await Database.open(archive_file)
    server = WebServer(db, host="127.0.0.1", port=0, topics=TOPICS, clock=lambda: NOW)
    await server.start()
    async with aiohttp.ClientSession() as session:
        yield Client(server, session)
    await server.stop()
    await db.close()


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def story_of(path: Path, url: str) -> int:
    return plain(path, "SELECT story_id FROM articles WHERE url = ?", (url,))[0][0]


def hostile_title(path: Path) -> str:
    (title,) = plain(path, "SELECT title FROM articles WHERE url = 'https://evil.example/news/1'")[0]
    # what the feed tried survived the pipeline: the test below is about our escaping
    assert "<script>" in title and '"' in title, title
    assert "\x07" not in title  # control characters are stripped before storage
    return title


def assert_safe_html(body: bytes) -> str:
    text = body.decode("utf-8")
    assert "<script" not in text.lower()
    assert "javascript:" not in text.lower()
    assert not CONTROL.search(text)
    assert SECRET_TITLE not in text and str(SECRET_CHAT) not in text
    assert "секретное-слово" not in text
    return text


ESCAPED_HOSTILE = ("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#34;кавычки&#34; &amp;"
                   " &#39;апостроф&#39; звонок")


async def test_archive_pages_show_stories_outlets_and_sources(web, archive_file):
    status, kind, body, _ = await web.get("/")
    assert (status, kind) == (200, "text/html")
    text = assert_safe_html(body)
    stored = plain(archive_file, "SELECT title FROM stories")
    shown = re.findall(r'class="story-link" href="/story/(\d+)">', text)
    assert len(shown) == len(stored) == 12  # one page holds them all
    assert ESCAPED_HOSTILE in text
    # the story two outlets carried: both, the reprint marked as such, with links and times
    belarus = story_of(archive_file, "https://tomsk.gov.example/news/belarus")
    status, _, body, _ = await web.get(f"/story/{belarus}")
    assert status == 200
    page = assert_safe_html(body)
    rows = re.findall(r'<tr class="outlet".*?</tr>', page, re.S)
    assert len(rows) == 2
    assert "tomsk.gov.example" in rows[0] and "первая публикация" in rows[0]
    assert 'href="https://tomsk.gov.example/news/belarus"' in rows[0]
    assert "15.07.2025 10:30" in rows[0]  # 03:30 UTC in Tomsk
    assert "ria-tomsk.example" in rows[1] and "перепечатка" in rows[1]
    assert 'href="https://ria-tomsk.example/news/belarus-trade"' in rows[1]
    for part in ("Томская область", "Беларусь", "Торговля и экспорт", "Владимир Мазур",
                 "Томский областной театр драмы", "Ключевые цифры", "60%"):
        assert part in page, part
    # sources: each one's health, the hostile name escaped
    status, _, body, _ = await web.get("/sources")
    page = assert_safe_html(body)
    assert status == 200 and len(re.findall(r'<tr class="source">', page)) == 7
    assert "&lt;b&gt;&#34;Злой&#34; источник&lt;/b&gt; &amp; co" in page
    assert "работает" in page
    # the hostile story's own page
    status, _, body, _ = await web.get(f"/story/{story_of(archive_file, 'https://evil.example/news/1')}")
    page = assert_safe_html(body)
    assert status == 200 and ESCAPED_HOSTILE in page
    assert re.search(r"<title>&lt;script&gt;", page)
    # unknown stories
    for path in ("/story/99999", "/story/abc", "/story/0", "/story/" + "9" * 30):
        status, _, body, _ = await web.get(path)
        assert status == 404, path
        assert_safe_html(body)


async def test_filters_search_dates_and_paging(web, archive_file, monkeypatch):
    def ids(body: bytes) -> set[int]:
        return {int(i) for i in re.findall(r'class="story-link" href="/story/(\d+)"',
                                          body.decode())}

    expected = {r[0] for r in plain(
        archive_file, "SELECT s.id FROM stories s WHERE s.first_article_id IN"
        " (SELECT article_id FROM article_topics WHERE topic_id = 'chemistry') AND"
        " s.first_article_id IN (SELECT article_id FROM article_entities WHERE kind = 'place'"
        " AND name = 'Томская область')")}
    assert len(expected) >= 3
    _, _, body, _ = await web.get("/", params={"topic": "chemistry", "place": "Томская область"})
    assert ids(body) == expected
    # outlet: by host and by source name
    belarus = story_of(archive_file, "https://tomsk.gov.example/news/belarus")
    fert = story_of(archive_file, "https://ria-tomsk.example/news/fertilizer")
    _, _, body, _ = await web.get("/", params={"outlet": "ria-tomsk.example"})
    assert ids(body) == {belarus, fert}
    _, _, body, _ = await web.get("/", params={"outlet": "ria-tomsk"})
    assert ids(body) == {belarus, fert}
    _, _, body, _ = await web.get("/", params={"outlet": "www.RIA-tomsk.example"})
    assert ids(body) == {belarus, fert}
    # search over lemmas: another word form finds it
    _, _, body, _ = await web.get("/", params={"q": "белорусский товарооборот"})
    assert ids(body) == set()
    _, _, body, _ = await web.get("/", params={"q": "товарооборотом Беларуси"})
    assert ids(body) == {belarus}
    _, _, body, _ = await web.get("/", params={"q": '" OR * NEAR( ;'})
    assert ids(body) == set() and "Ничего не нашлось" in body.decode()
    # a day in Tomsk time: 15 July from 00:00 to 24:00 +07
    _, _, body, _ = await web.get("/", params={"from": "2025-07-15", "to": "2025-07-15"})
    day = {r[0] for r in plain(archive_file, "SELECT id FROM stories WHERE started_at >="
                                             " '2025-07-14T17:00:00' AND started_at <"
                                             " '2025-07-15T17:00:00'")}
    assert ids(body) == day and belarus in day
    # pages: newest first, nothing lost or repeated between pages
    monkeypatch.setattr("bot.web.params.PAGE_SIZE", 5)
    seen: list[int] = []
    for page in (1, 2, 3):
        _, _, body, _ = await web.get("/", params={"page": str(page)})
        text = body.decode()
        seen += [int(i) for i in re.findall(r'class="story-link" href="/story/(\d+)"', text)]
        assert ('rel="next"' in text) == (page < 3)
        assert ('rel="prev"' in text) == (page > 1)
    newest = [r[0] for r in plain(archive_file,
                                  "SELECT id FROM stories ORDER BY started_at DESC, id DESC")]
    assert seen == newest
    _, _, body, _ = await web.get("/", params={"page": "4"})
    assert ids(body) == set()


@pytest.mark.parametrize(("query", "message"), [
    ("page=0", "page: must be a whole number from 1 to 500"),
    ("page=501", "page: must be a whole number from 1 to 500"),
    ("page=-1", "page: must be a whole number from 1 to 500"),
    ("page=1e3", "page: must be a whole number from 1 to 500"),
    ("page=1&page=2", "page: given more than once"),
    ("q=" + "щ" * 201, "q: longer than 200 characters"),
    ("place=%07x", "place: control characters are not allowed"),
    ("outlet=" + "a" * 201, "outlet: longer than 200 characters"),
    ("topic=%3Cscript%3E", "topic: no such topic &#39;&lt;script&gt;&#39;"),
    ("from=2025-13-01", "from: not a date (YYYY-MM-DD)"),
    ("to=1999-12-31", "to: outside 2000-01-01 to 2099-12-31"),
    ("from=2025-07-02&to=2025-07-01", "from: later than to"),
])
async def test_bad_parameters_are_one_clear_400(web, query, message):
    status, kind, body, _ = await web.get("/?" + query)
    assert (status, kind) == (400, "text/html")
    text = assert_safe_html(body)
    assert f'<p class="error" id="error">{message}</p>' in text
    status, kind, body, _ = await web.get("/feed.atom?" + query)
    assert (status, kind) == (400, "text/plain")
    assert len(body.decode().strip().splitlines()) == 1
    status, _, body, _ = await web.get("/feed.json?page=2")
    assert status == 400 and b"page: must be a whole number from 1 to 1" in body


async def test_atom_feed_is_valid_and_escaped(web, archive_file):
    hostile = hostile_title(archive_file)
    status, kind, body, response = await web.get("/feed.atom")
    assert (status, kind) == (200, "application/atom+xml")
    assert response.charset == "utf-8"
    assert not CONTROL.search(body.decode()) and b"<script" not in body
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    stories = plain(archive_file, "SELECT COUNT(*) FROM stories")[0][0]
    assert len(parsed.entries) == stories
    for entry in parsed.entries:
        assert entry.id and entry.link and entry.updated_parsed, entry
        assert entry.link.startswith(web.url("/story/"))
    titles = {e.title for e in parsed.entries}
    assert printable_text(hostile) in titles  # the text as the feed had it, as text
    # filters as query parameters
    status, _, body, _ = await web.get("/feed.atom", params={"topic": "chemistry",
                                                             "place": "Томская область"})
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0 and len(parsed.entries) >= 3
    for entry in parsed.entries:
        terms = {t.term for t in entry.tags}
        assert {"chemistry", "Томская область"} <= terms
    assert "Химия, Томская область" in parsed.feed.title


async def test_json_feed_is_valid_and_escaped(web, archive_file):
    hostile = hostile_title(archive_file)
    status, kind, body, _ = await web.get("/feed.json?outlet=evil.example")
    assert (status, kind) == (200, "application/feed+json")
    doc = json.loads(body)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] and doc["feed_url"].startswith(web.url("/feed.json?outlet="))
    assert len(doc["items"]) == 2
    for item in doc["items"]:  # what JSON Feed 1.1 requires of an item, and what we promise
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith(web.url("/story/"))
        assert item["content_text"] and item["date_published"] and item["date_modified"]
        assert not CONTROL.search(json.dumps(item, ensure_ascii=False))
    assert printable_text(hostile) in {i["title"] for i in doc["items"]}
    # pressbot's own feed reader (feedparser 6 has no JSON Feed parser) reads it back
    parsed = parse_feed(body, origin="test", content_type="application/feed+json")
    assert {e.title for e in parsed.entries} == {i["title"] for i in doc["items"]}
    assert all(e.url and e.published and e.guid for e in parsed.entries)
    assert parsed.warnings == []


async def test_csv_export_with_filters_defuses_formulas(web, archive_file):
    status, kind, body, response = await web.get("/export.csv", params={"topic": "chemistry"})
    assert (status, kind) == (200, "text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    chemistry = plain(archive_file, "SELECT COUNT(*) FROM stories s JOIN article_topics t ON"
                                    " t.article_id = s.first_article_id AND"
                                    " t.topic_id = 'chemistry'")[0][0]
    assert len(rows) - 1 == chemistry
    by_link = {r[5]: r for r in rows[1:]}
    formula = by_link["https://evil.example/news/2"]
    assert formula[1] == "'" + FORMULA_TITLE
    assert formula[0] == "2025-06-20 10:00" and formula[2] == "evil.example"
    assert "Химия" in formula[3] and "Томская область" in formula[4]
    assert formula[6].startswith(web.url("/story/"))
    assert not CONTROL.search(body.decode("utf-8-sig").replace("\r\n", "\n"))


def decoded(png: bytes):
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image.convert("RGB")


def assert_not_blank(image) -> None:
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 20
    white = max(n for n, c in colors if c == (255, 255, 255))
    assert white < image.width * image.height * 0.97  # lines, labels and legend drawn


async def test_trends_page_and_charts(web, archive_file):
    status, _, body, _ = await web.get("/trends")
    page = assert_safe_html(body)
    assert status == 200
    assert 'src="/trends/topics.png"' in page and 'src="/trends/places.png"' in page
    # the table beside the chart: the counts a plain query finds for the 12 weeks
    start = week_start(NOW, web.server.tz)
    tomsk = plain(archive_file, "SELECT COUNT(*) FROM stories s JOIN article_entities e ON"
                                " e.article_id = s.first_article_id AND e.kind = 'place' AND"
                                " e.name = 'Томская область' WHERE s.started_at >= ? AND"
                                " s.started_at < ?", (start.isoformat(), NOW.isoformat()))[0][0]
    assert tomsk >= 5
    trend = await web.server.charts.trend("place")
    assert sum(next(c for k, _, c in trend.series if k == "Томская область")) == tomsk
    assert re.search(rf"Томская область</a></td>(<td>\d+</td>){{12}}<td>{tomsk}</td>", page)
    for kind, size in (("topics", (800, 480)), ("places", (800, 480)), ("all", (800, 960))):
        status, content_type, png, _ = await web.get(f"/trends/{kind}.png")
        assert (status, content_type) == (200, "image/png")
        image = decoded(png)
        assert image.size == size
        assert_not_blank(image)
    renders = web.server.charts.renders
    await web.get("/trends/all.png")
    assert web.server.charts.renders == renders  # cached
    status, _, _, _ = await web.get("/trends/other.png")
    assert status == 404
    # the picture for Telegram: the same PNG
    assert await web.server.charts.png("all") == (await web.get("/trends/all.png"))[2]


def test_empty_chart_is_still_a_picture():
    from bot.web.charts import Trend

    image = decoded(render_png([Trend("topic", tuple(week_start(NOW, UTC).date()
                                                   for _ in range(12)), ())]))
    assert image.size == (800, 480)
    assert_not_blank(image)


async def test_read_only_and_headers(web):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        async with web.session.request(method, web.url("/")) as r:
            assert r.status == 405, method
    async with web.session.head(web.url("/")) as r:
        assert r.status == 200 and await r.read() == b""
    status, _, _, response = await web.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    status, _, body, _ = await web.get("/robots.txt")
    assert status == 200 and b"Disallow: /" in body


async def test_token_in_query_or_cookie(archive_file):
    db = await Database.open(archive_file)
    server = WebServer(db, port=0, topics=TOPICS, token="s3cret-token", clock=lambda: NOW)
    await server.start()
    try:
        # a browser keeps cookies of 127.0.0.1; aiohttp's jar does so only when told
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            web = Client(server, session)
            status, _, body, _ = await web.get("/")
            assert status == 401 and 'name="token"' in body.decode()
            assert (await web.get("/?token=wrong"))[0] == 401
            status, kind, body, _ = await web.get("/feed.atom")
            assert (status, kind) == (401, "text/plain")
            # the right token: a cookie, and the address without the token
            status, _, _, response = await web.get("/?token=s3cret-token&topic=chemistry")
            assert status == 303 and response.headers["Location"] == "/?topic=chemistry"
            assert "s3cret-token" not in response.headers["Set-Cookie"]
            status, _, body, _ = await web.get("/?topic=chemistry")
            assert status == 200 and "feed.atom?topic=chemistry&amp;token=s3cret-token" in (
                body.decode())
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:  # a feed reader
            web = Client(server, session)
            status, _, body, _ = await web.get("/feed.atom?token=s3cret-token")
            assert status == 200 and feedparser.parse(body).bozo == 0
            assert (await web.get("/story/1"))[0] == 200  # the cookie it was given
    finally:
        await server.stop()
        await db.close()


async def test_port_in_use_is_one_clear_error(archive_file):
    db = await Database.open(archive_file)
    first = WebServer(db, port=0, topics=TOPICS)
    await first.start()
    try:
        second = WebServer(db, port=first.port, topics=TOPICS)
        with pytest.raises(PortInUse, match=rf"127\.0\.0\.1:{first.port} is in use"):
            await second.start()
        await second.stop()  # harmless after a failed start
        assert first.address == f"http://127.0.0.1:{first.port}/"
    finally:
        await first.stop()
        await db.close()


async def test_base_url_makes_the_links(archive_file):
    db = await Database.open(archive_file)
    server = WebServer(db, port=0, topics=TOPICS, base_url="https://press.example/archive/")
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            web = Client(server, session)
            _, _, body, _ = await web.get("/feed.atom")
            parsed = feedparser.parse(body)
            assert all(e.link.startswith("https://press.example/archive/story/")
                       for e in parsed.entries)
            _, _, body, _ = await web.get("/")
            assert 'href="/archive/story/' in body.decode()
            assert server.address == "https://press.example/archive/"
    finally:
        await server.stop()
        await db.close()


async def test_hostile_text_is_escaped_wherever_it_shows(web, archive_file):
    hostile = printable_text(hostile_title(archive_file))
    evil = story_of(archive_file, "https://evil.example/news/1")
    for path in ("/", "/?topic=chemistry", "/?outlet=evil.example", "/?q=химический",
                 f"/story/{evil}", "/?place=Томская область"):
        status, _, body, _ = await web.get(path)
        text = assert_safe_html(body)
        assert status == 200 and ESCAPED_HOSTILE in text, path
    for path in ("/sources", "/trends", "/story/99999"):
        assert_safe_html((await web.get(path))[2])
    # what a visitor types is escaped too, in the form it is shown again
    status, _, body, _ = await web.get("/", params={"q": '<script>"x"', "place": "<i>'y'"})
    text = assert_safe_html(body)
    assert status == 200 and 'value="&lt;script&gt;&#34;x&#34;"' in text
    assert 'value="&lt;i&gt;&#39;y&#39;"' in text
    # the feeds give the title back as text, whole
    parsed = feedparser.parse((await web.get("/feed.atom?outlet=evil.example"))[2])
    assert hostile in [e.title for e in parsed.entries]
    doc = json.loads((await web.get("/feed.json?outlet=evil.example"))[2])
    assert hostile in [i["title"] for i in doc["items"]]
    rows = list(csv.reader(io.StringIO((await web.get("/export.csv"))[2].decode("utf-8-sig"))))
    assert hostile in [r[1] for r in rows]


async def test_rare_and_common_filters_list_the_same_stories(archive_file, monkeypatch):
    """A rare filter part drives the list from its few candidates; a common one walks the
    stories newest first: the same stories either way."""
    from bot.storage import archive
    from bot.web.params import parse_query

    async with await Database.open(archive_file) as db:
        for query in ({"topic": ["chemistry"]}, {"place": ["Томская область"]},
                      {"outlet": ["ria-tomsk.example"]}, {"q": ["химический"]},
                      {"topic": ["trade"], "place": ["Беларусь"]}, {"place": ["Нигде"]},
                      {"q": ["завод"], "from": ["2025-06-01"], "to": ["2025-07-31"]}):
            f = parse_query(query, {t.id for t in TOPICS}).archive_filter()
            monkeypatch.setattr(archive, "CANDIDATES", 2000)
            few = [s.story_id for s in await archive.list_stories(db, f, limit=50)]
            monkeypatch.setattr(archive, "CANDIDATES", 0)
            walked = [s.story_id for s in await archive.list_stories(db, f, limit=50)]
            assert few == walked, query
            monkeypatch.setattr(archive, "CANDIDATES", 2000)
            assert [s.story_id for s in await archive.list_stories(db, f, limit=2, offset=1)
                    ] == few[1:3]


async def test_csv_export_streams_in_parts_without_repeats(web, archive_file, monkeypatch):
    whole = (await web.get("/export.csv"))[2]
    monkeypatch.setattr("bot.web.server.EXPORT_CHUNK", 2)
    status, _, parts, _ = await web.get("/export.csv")
    assert status == 200 and parts == whole
    rows = list(csv.reader(io.StringIO(parts.decode("utf-8-sig"))))[1:]
    newest = plain(archive_file, "SELECT id FROM stories ORDER BY started_at DESC, id DESC")
    assert [r[6].rsplit("/", 1)[1] for r in rows] == [str(i) for (i,) in newest]
    monkeypatch.setattr("bot.web.server.EXPORT_MAX", 5)
    rows = list(csv.reader(io.StringIO((await web.get("/export.csv"))[2].decode("utf-8-sig"))))
    assert len(rows) == 1 + 5


async def test_trends_in_telegram_sends_the_chart_as_a_photo(store, tg_bot, fake_bot_api):
    """/trends sends the web archive's picture with sendPhoto through the fake Bot API."""
    import io

    from test_bot_e2e import running_bot, stop_bot

    from bot.ingest.files import read_document
    from bot.pipeline import process

    await process(store, [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))])
    dp, task = await running_bot(store, tg_bot)
    try:
        fake_bot_api.push_message(88, "/trends")
        await wait_for(lambda: fake_bot_api.photos, timeout=30)
    finally:
        await stop_bot(dp, task)
    (photo,) = fake_bot_api.photos
    assert photo["chat_id"] == 88 and "12 недель" in photo["caption"]
    assert photo["photo"][:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(photo["photo"]))
    low, high = image.convert("L").getextrema()
    assert image.size[0] >= 600 and high - low > 100  # drawn, not blank
