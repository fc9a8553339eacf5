"""Feed parsing: every format into the same Entry, bad feeds into one-line FeedErrors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.ingest.parse import FeedError, parse_feed
from bot.pipeline import prepare

from conftest import DATA, rss

BASE = "http://127.0.0.1:8080"


def load(name: str) -> bytes:
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", BASE).encode("utf-8")


def test_rss20_entries():
    feed = parse_feed(load("rss20_tomsk.xml"), origin="test", base_url=BASE + "/rss")
    assert feed.kind == "rss20"
    assert [e.title for e in feed.entries] == [
        "Томская область и Беларусь усилят сотрудничество",
        "Четыре промышленных кластера планируется создать в Томской области",
        "Экспорт в Центральную Азию вырос почти на 18%"]
    first = feed.entries[0]
    assert first.url == BASE + "/news/belarus"  # utm_* and fragment gone
    assert first.guid == "tomsk-2025-0412"
    assert first.published == datetime(2025, 7, 15, 3, 30, tzinfo=UTC)
    assert first.published.tzinfo is not None
    article = prepare(first)
    assert article is not None
    assert "товарооборот между Томской областью и Беларусью вырос на 60%" in article.text
    assert len(article.text.split("\n\n")) == 4  # paragraphs kept, content:encoded over summary
    assert feed.entries[2].published is None  # "not a date at all"
    assert any("invalid date" in w for w in feed.warnings)


def test_atom_entries_with_relative_links_and_html_title():
    feed = parse_feed(load("atom10_tomsk.xml"), origin="test", base_url=BASE + "/atom")
    assert feed.kind == "atom10"
    first, second = feed.entries
    assert first.title == "ТУСУР подписал соглашение с БГУИР"
    assert first.url == BASE + "/news/tusur-bsuir"
    assert first.published == datetime(2025, 7, 15, 7, 0, tzinfo=UTC)
    assert second.url is None and second.guid == "urn:uuid:tusur-chem-2025"
    assert second.published == datetime(2025, 7, 14, 8, 0, tzinfo=UTC)  # updated as fallback


def test_rss10_and_rss091():
    rdf = parse_feed(load("rss10_tomsk.rdf"), origin="test")
    assert rdf.kind == "rss10"
    assert rdf.entries[0].title == "Технопарк «Чирчик»: уже 27 резидентов"
    assert rdf.entries[0].published == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    old = parse_feed(load("rss091_tomsk.xml"), origin="test")
    assert old.kind.startswith("rss09")
    assert old.entries[0].url == BASE + "/news/drones"
    assert old.entries[0].published is None


def test_json_feed():
    feed = parse_feed(load("feed_tomsk.json"), origin="test", content_type="application/json")
    assert feed.kind == "json1"
    first, second = feed.entries
    assert first.url == BASE + "/news/uzbekistan?page=2"
    assert first.published == datetime(2025, 10, 22, 5, 0, tzinfo=UTC)
    assert first.text_is_html
    # No title: the first sentence stands in.
    assert second.title.startswith("Мы уже работаем с Узбекистаном в сфере машиностроения")
    assert second.published == datetime(2025, 10, 23, tzinfo=UTC)


def test_entries_without_link_or_title_and_repeated_guids():
    body = rss([
        {"title": "Без ссылки", "guid": "a1", "description": "Текст новости без ссылки."},
        {"link": "http://x.ru/2", "guid": "a2", "description": "Новость без заголовка. Дальше."},
        {"title": "Повтор", "link": "http://x.ru/3", "guid": "a1", "description": "Другое."},
        {"guid": "a4"},
    ])
    feed = parse_feed(body.encode(), origin="test")
    assert [(e.guid, e.url) for e in feed.entries] == [("a1", None), ("a2", "http://x.ru/2")]
    assert feed.entries[1].title == "Новость без заголовка."
    assert any("repeated entry id 'a1'" in w for w in feed.warnings)
    assert any("neither title nor text" in w for w in feed.warnings)


def test_future_and_ancient_dates_are_dropped():
    body = rss([{"title": "Будущее", "link": "http://x.ru/1",
                 "pubDate": "Mon, 01 Jan 2091 00:00:00 GMT", "description": "т"},
                {"title": "Прошлое", "link": "http://x.ru/2",
                 "pubDate": "Mon, 01 Jan 1973 00:00:00 GMT", "description": "т"}])
    assert [e.published for e in parse_feed(body.encode(), origin="t").entries] == [None, None]


def test_windows_1251_feed_without_declaration():
    body = rss([{"title": "Томск и Узбекистан", "link": "http://x.ru/1",
                 "description": "Товарооборот вырос на 60 процентов, сообщил губернатор."}],
               encoding=None).encode("cp1251")
    feed = parse_feed(body, origin="t")
    assert feed.entries[0].title == "Томск и Узбекистан"
    assert "Товарооборот вырос" in feed.entries[0].text


def test_windows_1251_feed_with_declaration_and_wrong_header():
    body = rss([{"title": "Химический кластер", "link": "http://x.ru/1", "description": "т"}],
               encoding="windows-1251").encode("cp1251")
    assert parse_feed(body, origin="t", charset="utf-8").entries[0].title == "Химический кластер"


@pytest.mark.parametrize("body,message", [
    (b"", "empty body"),
    (b"   \n\t ", "empty body"),
    (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
     "got an HTML page, not a feed"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
     b"<link>http://x.ru/1</link></itm></channel>", "malformed feed: .*mismatched tag"),
    (b"\x00\x01\x02 binary junk \xff\xfe", "not a feed"),
    (b'{"hello": "world"}', "not a JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1", "items": [', "invalid JSON at line 1"),
])
def test_bad_documents_are_one_line_errors(body, message):
    with pytest.raises(FeedError, match=message) as info:
        parse_feed(body, origin="t")
    assert "\n" not in str(info.value)


def test_truncated_feed_keeps_what_it_salvages():
    body = ("<rss version='2.0'><channel><item><title>Первая</title><link>http://x.ru/1</link>"
            "</item><item><title>Втор").encode()
    feed = parse_feed(body, origin="t")
    assert [e.title for e in feed.entries] == ["Первая"]
    assert any("not well-formed" in w for w in feed.warnings)


def test_slightly_broken_xml_is_read_leniently_with_a_warning():
    body = rss([{"title": "Кластер &nbsp; химии", "link": "http://x.ru/1",
                 "description": "Текст & ещё текст"}])
    feed = parse_feed(body.encode(), origin="t")
    assert feed.entries and feed.entries[0].url == "http://x.ru/1"
    assert any("not well-formed" in w for w in feed.warnings)


def test_billion_laughs_is_not_expanded():
    entities = ['<!ENTITY lol1 "' + "lol" * 10 + '">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10)]
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [' + "".join(entities)
           + ']><rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
           "<link>http://x.ru/1</link></item></channel></rss>")
    feed = parse_feed(lol.encode(), origin="t")
    assert [e.title for e in feed.entries] == ["&lol9;"]  # left unexpanded
    assert any("amplification" in w for w in feed.warnings)
