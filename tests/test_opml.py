"""OPML in and out (bot/ingest/opml.py) on lists as feed readers export them."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from lxml import etree

from bot.ingest.opml import (
    BAD_URL,
    NO_URL,
    NOT_A_FEED,
    REPEATED,
    TOO_DEEP,
    TOO_MANY,
    OpmlError,
    OpmlFeed,
    parse_opml,
    plan_import,
    write_opml,
)

from conftest import DATA, FeedServer

OPML = DATA / "opml"


def read(name: str):
    return parse_opml((OPML / name).read_bytes())


def rows(doc) -> list[tuple[str, str, str | None]]:
    return [(f.name, f.url, f.category) for f in doc.feeds]


EXPORTS = {
    "miniflux.opml": ("Miniflux", [
        ("Администрация Томской области", "https://tomsk.gov.ru/rss", "All"),
        ("Томский политехнический университет", "https://news.tpu.ru/rss/", "All"),
        ("Законодательная дума Томской области", "https://duma.tomsk.ru/feed.xml", "Власть"),
        ('Газета "Томские новости"', "https://tomsk-novosti.ru/feed/", "Власть"),
        ("Томскстат", "https://70.rosstat.gov.ru/folder/news/rss", "Экономика"),
    ]),
    "feedly.opml": ("Пресс-служба subscriptions in feedly Cloud", [
        ("ТВ2", "https://tv2.today/rss", "Томск"),
        ("Томский обзор", "https://obzor.city/rss/news", "Томск"),
        ("РИА Томск", "https://www.riatomsk.ru/rss.xml", "Томск"),
        ("НГС", "https://ngs.ru/rss/", "Сибирь"),
    ]),
    "inoreader.opml": ("Subscriptions of Редакция from Inoreader [https://www.inoreader.com]", [
        ("Губернатор Томской области", "https://tomsk.gov.ru/news/governor/rss", None),
        ("Мэрия Томска", "https://admin.tomsk.ru/pgs/rss", None),
        ("Администрация ЗАТО Северск", "https://seversknet.ru/rss/news.xml", "Северск"),
        ("Диалог", "https://dialog-seversk.ru/feed", "Северск"),
    ]),
    "netnewswire.opml": ("On My Mac", [
        ("ТГУ — новости", "https://news.tsu.ru/rss/", "Наука"),
        ("ТУСУР", "https://tusur.ru/ru/novosti-i-meropriyatiya.atom", "Наука"),
        ("Новости & события", "https://vtomske.ru/rss.xml?from=opml", None),
    ]),
    "rsstt.opml": ("Subscriptions in RSStT", [
        ("Томская область — Правительство", "https://tomsk.gov.ru/rss", None),
        ("Асиновский район", "http://www.asino.ru/rss.php", None),
        ("Колпашевский район", "https://kolpadm.ru/news/rss/", None),
    ]),
    "flowerss.opml": ("subscriptions in flowerss", [
        ("Стрежевой", "https://adm.strj.ru/rss", None),
        ("kedradm.tomsk.ru", "https://kedradm.tomsk.ru/feed/", None),  # text="" -> its host
        ("Томское УФАС", "https://tomsk.fas.gov.ru/news.rss", None),
    ]),
    "miniflux_testdata.opml": ("mySubscriptions.opml", [
        ("CNET News.com", "http://news.com.com/2547-1_3-0-5.xml", None),
        ("washingtonpost.com - Politics",
         "http://www.washingtonpost.com/wp-srv/politics/rssheadlines.xml", None),
        ("Yahoo! News: Technology", "http://rss.news.yahoo.com/rss/tech", None),
        ("NYT > Business", "http://www.nytimes.com/services/xml/rss/nyt/Business.xml", None),
        ("Wired News", "http://www.wired.com/news_drop/netcenter/netcenter.rdf", None),
    ]),
    "rssowl_nested.opml": ("RSSOwl Subscriptions", [
        ("Feed 1", "http://example.org/feed1/", "Some Category"),
        ("Feed 2", "http://example.org/feed2/", "Some Category"),
        ("Feed 3", "http://example.org/feed3/", "Another Category"),
    ]),
    "cp1251_undeclared.opml": ("Источники пресс-службы", [
        ("Кожевниковский район", "https://kozhadm.ru/rss", "Новости района"),
    ]),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_reads_real_exports(name: str) -> None:
    title, expected = EXPORTS[name]
    doc = read(name)
    assert doc.title == title
    assert rows(doc) == expected
    assert doc.warnings == []


def test_feedly_feed_in_two_folders_is_one_feed_and_reported() -> None:
    doc = read("feedly.opml")
    assert [(p.code, p.name, p.url) for p in doc.problems] == [
        (REPEATED, "РИА Томск", "https://www.riatomsk.ru/rss.xml")]
    assert "earlier in this file as 'РИА Томск'" in doc.problems[0].reason


def test_site_addresses_are_kept_and_tracking_dropped() -> None:
    doc = read("miniflux.opml")
    assert doc.feeds[0].html_url == "https://tomsk.gov.ru/"
    assert doc.feeds[2].url == "https://duma.tomsk.ru/feed.xml"  # ?utm_source=miniflux dropped
    nnw = read("netnewswire.opml")
    assert [f.html_url for f in nnw.feeds] == ["https://news.tsu.ru/", None, "https://vtomske.ru/"]
    old = read("miniflux_testdata.opml")
    assert old.feeds[2].html_url == "http://news.yahoo.com/news?tmpl=index&cid=738"


def test_every_refusal_has_a_code_and_a_reason() -> None:
    doc = read("problems.opml")
    assert rows(doc) == [("Хорошая лента", "https://good.example.ru/rss", None),
                         ("Категория атрибутом", "https://cat.example.ru/feed", "Сибирь/Томск")]
    got = [(p.code, p.name) for p in doc.problems]
    assert got == [
        (NO_URL, "Без адреса"), (NO_URL, "Пустой адрес"), (BAD_URL, "FTP"), (BAD_URL, "Скрипт"),
        (BAD_URL, "Относительный"), (BAD_URL, "Без схемы"), (NOT_A_FEED, "Ссылка на страницу"),
        (NOT_A_FEED, "Другой список"), (REPEATED, "Хорошая лента (повтор)")]
    reasons = {p.name: p.reason for p in doc.problems}
    assert reasons["FTP"] == "only http and https feeds are accepted, got ftp:"
    assert reasons["Относительный"] == "xmlUrl is not an absolute http(s) address"
    assert reasons["Без адреса"] == "the outline has no xmlUrl (feed address)"
    for p in doc.problems:
        assert p.reason and "\n" not in p.reason


def test_stray_ampersands_and_html_entities_are_read_with_a_warning() -> None:
    doc = read("stray_ampersand.opml")
    assert rows(doc) == [
        ("Feed 1", "http://example.org/feed1/a&b", "Feed 1"),
        ("Газета «Красное знамя» — Томск",
         "https://krasnoe-znamya.ru/index.php?format=feed&type=rss", None)]
    assert len(doc.warnings) == 1 and "not well-formed" in doc.warnings[0]


@pytest.mark.parametrize("name", ["billion_laughs.opml", "xxe.opml", "xxe_parameter.opml"])
def test_hostile_xml_is_refused(name: str) -> None:
    with pytest.raises(OpmlError, match="declares XML entities"):
        read(name)


async def test_hostile_xml_never_reaches_the_network(feed_server: FeedServer) -> None:
    feed_server.add("/evil.dtd", '<!ENTITY secret "pwned">', content_type="application/xml-dtd")
    dtd = feed_server.url("/evil.dtd")
    external_subset = (f'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "{dtd}">'
                       '<opml version="2.0"><body><outline text="a" xmlUrl="https://a.ru/rss"/>'
                       '</body></opml>')
    doc = parse_opml(external_subset)  # a DOCTYPE alone is harmless: read, never fetched
    assert rows(doc) == [("a", "https://a.ru/rss", None)]
    parameter = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY % r SYSTEM "{dtd}"> %r;]>'
                 '<opml version="2.0"><body/></opml>')
    with pytest.raises(OpmlError, match="declares XML entities"):
        parse_opml(parameter)
    general = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY s SYSTEM "{dtd}">]>'
               '<opml version="2.0"><body><outline text="&s;" xmlUrl="https://a.ru/"/></body>'
               '</opml>')
    with pytest.raises(OpmlError, match="declares XML entities"):
        parse_opml(general)
    assert feed_server.requests == []


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"  \n\t ", "the file is empty"),
    (b"garbage", "not well-formed XML at line 1, column 0"),
    (b'<?xml version="1.0"?>\n<opml version="2.0">\n<body><outline text="a">\n',
     "not well-formed XML at line 4"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
     "not an OPML file: the document is <rss>, not <opml>"),
    (b"<!DOCTYPE html><html><head><title>x</title></head><body></body></html>",
     "not an OPML file: the document is <html>"),
    (b'<opml version="2.0"><head><title>t</title></head></opml>',
     "not an OPML file: it has no <body>"),
])
def test_what_is_no_opml_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError) as info:
        parse_opml(data)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_size_is_bounded() -> None:
    data = (OPML / "inoreader.opml").read_bytes()
    with pytest.raises(OpmlError, match=r"over the 1000-byte limit"):
        parse_opml(data, max_bytes=1000)
    assert len(parse_opml(data, max_bytes=len(data)).feeds) == 4


def _many(n: int) -> str:
    items = "".join(f'<outline text="f{i}" xmlUrl="https://e{i}.example.ru/rss"/>'
                    for i in range(n))
    return f'<opml version="2.0"><body>{items}</body></opml>'


def test_outline_count_is_bounded() -> None:
    doc = parse_opml(_many(30), max_outlines=25)
    assert len(doc.feeds) == 25
    assert [p.code for p in doc.problems] == [TOO_MANY]
    assert "more than 25 outlines" in doc.problems[0].reason
    assert len(parse_opml(_many(30), max_outlines=30).feeds) == 30


def test_nesting_is_bounded() -> None:
    inner = '<outline text="deep" xmlUrl="https://deep.example.ru/rss"/>'
    for level in range(20):
        inner = f'<outline text="level {level}">{inner}</outline>'
    data = (f'<opml version="2.0"><body>{inner}'
            '<outline text="top" xmlUrl="https://top.example.ru/rss"/></body></opml>')
    doc = parse_opml(data, max_depth=12)
    assert rows(doc) == [("top", "https://top.example.ru/rss", None)]
    assert [p.code for p in doc.problems] == [TOO_DEEP]
    doc = parse_opml(data, max_depth=25)
    assert rows(doc)[0] == ("deep", "https://deep.example.ru/rss", "level 0")


def test_attribute_names_in_any_case_and_names_cleaned() -> None:
    data = ('<opml version="1.0"><body><outline TEXT="Папка">'
            '<outline text="  Первая \n  лента  " xmlURL="https://a.example.ru/rss"/>'
            '<outline Title="&lt;b&gt;Вторая&lt;/b&gt;" XMLURL="https://b.example.ru/rss" '
            'HTMLURL="https://b.example.ru/"/>'
            '</outline></body></opml>')
    doc = parse_opml(data)
    assert [(f.name, f.url, f.html_url, f.category) for f in doc.feeds] == [
        ("Первая лента", "https://a.example.ru/rss", None, "Папка"),
        ("Вторая", "https://b.example.ru/rss", "https://b.example.ru/", "Папка")]


def test_title_wins_over_text() -> None:
    doc = parse_opml('<opml version="2.0"><body><outline text="short" title="Полное название" '
                     'xmlUrl="https://a.example.ru/rss"/></body></opml>')
    assert doc.feeds[0].name == "Полное название"


def test_utf16_with_bom() -> None:
    text = ('<?xml version="1.0" encoding="UTF-16"?><opml version="2.0"><body>'
            '<outline text="Томск" xmlUrl="https://t.example.ru/rss"/></body></opml>')
    doc = parse_opml(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert rows(doc) == [("Томск", "https://t.example.ru/rss", None)]


def test_feed_scheme_from_old_browsers() -> None:
    doc = parse_opml('<opml version="1.0"><body><outline text="a" xmlUrl="feed://a.example.ru/rss"/>'
                     "</body></opml>")
    assert doc.feeds[0].url == "http://a.example.ru/rss"


# --- writing -----------------------------------------------------------------------------

SOURCES = [
    OpmlFeed("Администрация Томской области", "https://tomsk.gov.ru/rss", "https://tomsk.gov.ru/",
             "Власть"),
    OpmlFeed("РИА Томск", "https://www.riatomsk.ru/rss.xml", None, None),
    OpmlFeed('Газета "Томские новости" & <друзья>', "https://tn.example.ru/feed/?a=1&b=2", None,
             "СМИ"),
    OpmlFeed("Дума", "https://duma.tomsk.ru/feed.xml", None, "Власть"),
    OpmlFeed("Эмодзи 📰 и апостроф ’", "https://e.example.ru/rss", None, "Сибирь/Томск"),
]


def test_write_reads_back_to_the_same_feeds() -> None:
    data = write_opml(SOURCES, title="Источники pressbot")
    doc = parse_opml(data)
    assert doc.title == "Источники pressbot"
    assert doc.problems == [] and doc.warnings == []
    # in their order, a category's feeds gathered where it first appears
    order = [SOURCES[0], SOURCES[3], SOURCES[1], SOURCES[2], SOURCES[4]]
    assert doc.feeds == order


def test_written_opml_is_valid_opml_2() -> None:
    created = datetime(2025, 1, 14, 9, 12, 44, tzinfo=UTC)
    data = write_opml(SOURCES, created=created)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert [c.tag for c in root] == ["head", "body"]
    head = root.find("head")
    assert head.findtext("title") == "pressbot sources"
    assert parsedate_to_datetime(head.findtext("dateCreated")) == created
    outlines = root.findall(".//outline")
    assert outlines, "no outlines written"
    for o in outlines:
        assert o.get("text"), "OPML 2.0: every outline has a text attribute"
    feeds = [o for o in outlines if o.get("xmlUrl")]
    assert len(feeds) == len(SOURCES)
    assert all(o.get("type") == "rss" for o in feeds)
    top = [(o.get("text"), o.get("xmlUrl") is None) for o in root.find("body")]
    assert top == [("Власть", True), ("РИА Томск", False), ("СМИ", True),
                   ("Сибирь/Томск", True)]


def test_write_survives_characters_xml_cannot_hold() -> None:
    bad = [OpmlFeed("Лента\x00с\x0bмусором\x1f", "https://a.example.ru/rss", None, "Кат\x08"),
           OpmlFeed("", "https://b.example.ru/rss")]
    doc = parse_opml(write_opml(bad))
    assert [(f.name, f.url, f.category) for f in doc.feeds] == [
        ("Лентасмусором", "https://a.example.ru/rss", "Кат"),
        ("https://b.example.ru/rss", "https://b.example.ru/rss", None)]  # nameless: its address


def test_write_nothing_is_still_a_valid_list() -> None:
    doc = parse_opml(write_opml([]))
    assert doc.feeds == [] and doc.title == "pressbot sources"


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_export_round_trips(name: str) -> None:
    first = read(name)
    again = parse_opml(write_opml(first.feeds, title=first.title or ""))
    assert again.feeds == first.feeds


def test_plan_import_tells_new_known_and_refused() -> None:
    doc = read("feedly.opml")
    existing = {"http://tv2.today/rss/": "ТВ2 (Томск)", "https://ngs.ru/rss/?utm_source=x": "НГС",
                "https://other.example.ru/rss": "Другой", "/not/a/url": "Файлы"}
    plan = plan_import(doc, existing)
    assert [f.name for f in plan.add] == ["Томский обзор", "РИА Томск"]
    assert [(f.name, name) for f, name in plan.known] == [("ТВ2", "ТВ2 (Томск)"), ("НГС", "НГС")]
    assert [p.code for p in plan.refused] == [REPEATED]
    empty = plan_import(doc, {})
    assert len(empty.add) == 4 and empty.known == []
