"""Feed parsing: every format into the same Entry, bad feeds into one-line FeedErrors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.ingest.limits import cut_text, newest
from bot.ingest.parse import MAX_MIN_INTERVAL, FeedError, parse_feed, repair_char_refs
from bot.models import Entry
from bot.pipeline import prepare
from bot.text.control import clean_text, fix_surrogates, strip_control

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


# --- hostile details: each case beside good entries, which must all survive ------------------

GOOD = [{"title": "Томская область подписала соглашение", "link": "http://x.ru/good1",
         "guid": "good1", "pubDate": "Tue, 15 Jul 2025 10:00:00 GMT",
         "description": "Губернатор подписал соглашение о сотрудничестве."},
        {"title": "Экспорт вырос на 18%", "link": "http://x.ru/good2", "guid": "good2",
         "pubDate": "Tue, 15 Jul 2025 11:00:00 GMT",
         "description": "Экспорт в Центральную Азию вырос почти на 18%."}]


def good_ones_survive(feed) -> None:
    by_guid = {e.guid: e for e in feed.entries}
    for item in GOOD:
        e = by_guid[item["guid"]]
        assert e.title == item["title"] and e.text == item["description"]
        assert e.url == item["link"] and e.published is not None


def test_surrogate_character_references_are_mended_not_fatal():
    body = rss([GOOD[0],
                {"title": "Улыбка &#55357;&#56832; и &#xD83D;&#xDE00; и &#55357;&#xde00;",
                 "link": "http://x.ru/3", "guid": "s1",
                 "description": "Одна &#55357; половина, &#56832; другая, &#1114112; за "
                                "пределом, &#99999999999999999999; огромное"},
                GOOD[1]])
    feed = parse_feed(body.encode(), origin="t")
    good_ones_survive(feed)
    odd = next(e for e in feed.entries if e.guid == "s1")
    assert odd.title == "Улыбка 😀 и 😀 и 😀"
    assert odd.text == "Одна \ufffd половина, \ufffd другая, \ufffd за пределом, \ufffd огромное"
    assert any("character references" in w for w in feed.warnings)
    for e in feed.entries:
        (e.title + e.text).encode("utf-8")  # storable


def test_surrogates_inside_escaped_html_and_json_feeds():
    body = rss([GOOD[0],
                {"title": "В HTML", "link": "http://x.ru/3", "guid": "h1",
                 "description": "&lt;p&gt;Смайл &amp;#55357;&amp;#56832; и "
                                "&amp;#55357; один&lt;/p&gt;"},
                {"title": "В CDATA", "link": "http://x.ru/4", "guid": "h2",
                 "description": "<![CDATA[<p>Смайл &#55357;&#56832; тут</p>]]>"},
                GOOD[1]])
    feed = parse_feed(body.encode(), origin="t")
    good_ones_survive(feed)
    for e in feed.entries:
        (e.title + e.text).encode("utf-8")
    json_body = ('{"version": "https://jsonfeed.org/version/1.1", "title": "Л\\ud83d", "items": '
                 '[{"id": "1", "title": "Пара \\ud83d\\ude00", "content_text": "Одна \\ude00"},'
                 ' {"id": "2", "title": "Хорошая", "content_text": "Текст новости."}]}')
    feed = parse_feed(json_body.encode(), origin="t")
    assert feed.title == "Л\ufffd"
    assert [(e.title, e.text) for e in feed.entries] == [
        ("Пара 😀", "Одна \ufffd"), ("Хорошая", "Текст новости.")]


def test_a_declared_charset_that_cannot_be_right_falls_back_to_detection():
    body = rss([GOOD[0], GOOD[1]]).encode("utf-8")
    good_ones_survive(parse_feed(body, origin="t", charset="utf-16"))
    good_ones_survive(parse_feed(body, origin="t", charset="utf-32"))
    good_ones_survive(parse_feed(body, origin="t", charset="cp037"))  # EBCDIC
    good_ones_survive(parse_feed(body, origin="t", charset="no-such-charset"))
    lying = rss([GOOD[0], GOOD[1]], encoding="utf-16").encode("utf-8")
    good_ones_survive(parse_feed(lying, origin="t"))
    # A feed that really is UTF-16 (without a BOM) with a header that says so still reads.
    real = rss([GOOD[0], GOOD[1]], encoding="utf-16").encode("utf-16-le")
    good_ones_survive(parse_feed(real, origin="t", charset="utf-16-le"))


@pytest.mark.parametrize("raw", ["-0001-01-01", "-2024-05-01", "--05-01", "-24-05",
                                 "1989-12-31T23:00:00Z", "Mon, 01 Jan 1973 00:00:00 GMT",
                                 "0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z",
                                 "01 Jan 85 10:00 GMT"])
def test_impossible_dates_become_unknown(raw):
    body = rss([GOOD[0], {"title": "Странная дата", "link": "http://x.ru/3", "guid": "d1",
                          "pubDate": raw, "description": "Текст."}, GOOD[1]])
    feed = parse_feed(body.encode(), origin="t")
    good_ones_survive(feed)
    assert next(e for e in feed.entries if e.guid == "d1").published is None
    assert any(raw[:20] in w for w in feed.warnings)
    atom = (f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>a1</id>'
            f'<title>Атом</title><updated>{raw}</updated><summary>Текст.</summary></entry>'
            f'</feed>').encode()
    assert parse_feed(atom, origin="t").entries[0].published is None
    json_body = ('{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", '
                 f'"title": "Дата", "content_text": "т", "date_published": "{raw}"}}]}}')
    assert parse_feed(json_body.encode(), origin="t").entries[0].published is None


def test_dates_near_now_are_kept_and_a_day_ahead_is_the_limit():
    now = datetime.now(UTC)
    soon = now + timedelta(hours=12)
    late = now + timedelta(days=1, hours=2)
    body = rss([{"title": "Скоро", "link": "http://x.ru/1", "description": "т",
                 "pubDate": format_datetime(soon, usegmt=True)},
                {"title": "Поздно", "link": "http://x.ru/2", "description": "т",
                 "pubDate": format_datetime(late, usegmt=True)},
                {"title": "1990", "link": "http://x.ru/3", "description": "т",
                 "pubDate": "Mon, 01 Jan 1990 12:00:00 GMT"}])
    first, second, third = parse_feed(body.encode(), origin="t").entries
    assert first.published is not None and abs(first.published - soon) < timedelta(seconds=1)
    assert second.published is None
    assert third.published == datetime(1990, 1, 1, 12, tzinfo=UTC)


def test_max_entries_keeps_the_newest_and_says_how_many_were_left_out():
    items = []
    for i, day in enumerate([3, 9, None, 1, 7, None, 5, 8]):
        item = {"title": f"Новость {i}", "link": f"http://x.ru/{i}", "guid": f"g{i}",
                "description": "Текст."}
        if day is not None:
            item["pubDate"] = f"Tue, {day:02d} Jul 2025 10:00:00 GMT"
        items.append(item)
    body = rss(items).encode()
    feed = parse_feed(body, origin="t", max_entries=4)
    assert [e.guid for e in feed.entries] == ["g1", "g4", "g6", "g7"]  # 9, 7, 5, 8 July
    assert feed.left_out == 4
    assert any("kept the newest 4, left out 4" in w for w in feed.warnings)
    feed = parse_feed(body, origin="t", max_entries=7)  # all six dated, then the first undated
    assert [e.guid for e in feed.entries] == ["g0", "g1", "g2", "g3", "g4", "g6", "g7"]
    everything = parse_feed(body, origin="t", max_entries=8)
    assert len(everything.entries) == 8 and everything.left_out == 0
    assert not any("left out" in w for w in everything.warnings)
    assert len(parse_feed(body, origin="t").entries) == 8
    json_body = ('{"version": "https://jsonfeed.org/version/1.1", "items": ['
                 + ", ".join(f'{{"id": "{i}", "title": "Н{i}", "content_text": "т", '
                             f'"date_published": "2025-07-{i + 1:02d}T00:00:00Z"}}'
                             for i in range(10)) + "]}")
    feed = parse_feed(json_body.encode(), origin="t", max_entries=3)
    assert [e.guid for e in feed.entries] == ["7", "8", "9"] and feed.left_out == 7


def test_a_big_feed_is_cut_to_max_entries():
    items = "".join(f"<item><title>Новость {i}</title><link>http://x.ru/{i}</link>"
                    f"<pubDate>Tue, 15 Jul 2025 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
                    f"</item>" for i in range(6_000))
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    feed = parse_feed(body, origin="t", max_entries=200)
    assert len(feed.entries) == 200 and feed.left_out == 5_800
    assert min(e.published for e in feed.entries) >= datetime(2025, 7, 15, 23, tzinfo=UTC)


def test_control_characters_are_stripped_from_titles_and_texts():
    body = rss([GOOD[0],
                {"title": "Звонок\x07 и\x00 ноль &#7;&#0;\x1b[2J экран\x9b1m",
                 "link": "http://x.ru/3", "guid": "c1",
                 "description": "Строка\tс табом\nи\x0bвертикальным &#27;[31mкрасным\x85."},
                GOOD[1]])
    feed = parse_feed(body.encode(), origin="t")
    good_ones_survive(feed)
    odd = next(e for e in feed.entries if e.guid == "c1")
    # feedparser reads a raw C1 character in XML as the windows-1252 one it most likely was
    # (U+009B -> "›"); what is left is free of control characters either way.
    assert odd.title.startswith("Звонок и ноль [2J экран") and odd.title.endswith("1m")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", odd.title)
    assert odd.text.startswith("Строка\tс табом\nивертикальным [31mкрасным")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", odd.text)
    json_body = ('{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", '
                 '"title": "Т\\u0000\\u001b\\u0085", "content_text": "a\\r\\nb\\rc\\u007f"}]}')
    (e,) = parse_feed(json_body.encode(), origin="t").entries
    assert (e.title, e.text) == ("Т", "a\nb\nc")


def test_strip_control_and_fix_surrogates():
    assert strip_control("a\x00b\x07c\x1bd\x7fe\x80f\x9fg\th\ni") == "abcdefg\th\ni"
    assert strip_control("один\r\nдва\rтри") == "один\nдва\nтри"
    assert strip_control("«Томск» — 2025 год … ✓ 😀") == "«Томск» — 2025 год … ✓ 😀"
    assert fix_surrogates("\ud83d\ude00 \ud83d x \ude00") == "😀 \ufffd x \ufffd"
    assert clean_text("\ud83d\x00") == "\ufffd"
    assert repair_char_refs("&#65;&#x42;&#0;&#xD83D;&#xDE00;&#55357;")[0] == (
        "&#65;&#x42;&#x1F600;&#xFFFD;")


@pytest.mark.parametrize("body", [
    '{"version": "https://jsonfeed.org/version/1", "items": [' + "[" * 100_000 + "]" * 100_000
    + "]}",
    '{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "title": "t",'
    ' "x": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}]}",
    '{"version": "https://jsonfeed.org/version/1", "items": [], "n": ' + "9" * 5000 + "}",
])
def test_deep_or_huge_json_is_a_one_line_feed_error(body):
    with pytest.raises(FeedError, match="invalid JSON") as info:
        parse_feed(body.encode(), origin="t")
    assert "\n" not in str(info.value)


def test_deeply_nested_xml_is_a_feed_error_or_read_never_a_crash():
    deep = ("<rss version='2.0'><channel><title>t</title><item><title>Глубоко</title>"
            "<link>http://x.ru/1</link><description>" + "&lt;div&gt;" * 20_000 + "текст"
            + "&lt;/div&gt;" * 20_000 + "</description></item>"
            + "<x>" * 50_000 + "</x>" * 50_000 + "</channel></rss>")
    try:
        feed = parse_feed(deep.encode(), origin="t")
    except FeedError as exc:
        assert "\n" not in str(exc)
    else:
        assert [e.title for e in feed.entries] == ["Глубоко"]


@pytest.mark.parametrize("channel,expected", [
    ("<ttl>60</ttl>", 3600),
    ("<ttl> 15 </ttl>", 900),
    ("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>",
     1800),
    ("<sy:updatePeriod>daily</sy:updatePeriod>", 86400),
    ("<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>", 3600),  # the larger
    ("<ttl>99999999</ttl>", None),  # nonsense
    ("<ttl>100000</ttl>", MAX_MIN_INTERVAL),  # bounded
    ("<sy:updatePeriod>weekly</sy:updatePeriod>", MAX_MIN_INTERVAL),
    ("<ttl>soon</ttl><sy:updatePeriod>fortnightly</sy:updatePeriod>", None),
    ("<ttl>0</ttl>", None),
    ("<ttl>-5</ttl>", None),
    ("", None),
])
def test_the_feeds_own_polling_hint(channel, expected):
    body = (f'<?xml version="1.0"?><rss version="2.0" '
            f'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>'
            f"{channel}<item><title>Новость</title><link>http://x.ru/1</link></item>"
            f"</channel></rss>")
    feed = parse_feed(body.encode(), origin="t")
    assert feed.min_interval == expected
    assert len(feed.entries) == 1


def test_cut_text_at_a_paragraph_end():
    paragraphs = [f"Абзац {i}. " + "Текст новости о Томской области. " * 30 for i in range(40)]
    text = "\n\n".join(paragraphs)
    cut, was_cut = cut_text(text, 10_000)
    assert was_cut and len(cut) <= 10_000
    assert text.startswith(cut) and text[len(cut):].lstrip(" ").startswith("\n\n")
    assert cut.split("\n\n")[-1] == paragraphs[len(cut.split("\n\n")) - 1].rstrip()
    assert cut_text(text, len(text)) == (text, False)
    one = "Очень длинный абзац без разрывов. " * 1000
    cut, was_cut = cut_text(one, 5000)
    assert was_cut and len(cut) <= 5000 and cut.endswith(".")
    words = "слово " * 2000
    cut, was_cut = cut_text(words, 1001)
    assert was_cut and cut.endswith("слово") and len(cut) <= 1001
    assert cut_text("x" * 50, 10) == ("x" * 10, True)
    with pytest.raises(ValueError, match="max_article_chars"):
        cut_text("x", 0)


def test_newest_keeps_feed_order():
    def entry(i, day):
        return Entry(title=str(i), text="t", url=None, guid=str(i), origin="t",
                     published=None if day is None else datetime(2025, 7, day, tzinfo=UTC))
    entries = [entry(0, 1), entry(1, None), entry(2, 3), entry(3, 2), entry(4, None)]
    assert [e.guid for e in newest(entries, 2)[0]] == ["2", "3"]
    assert [e.guid for e in newest(entries, 4)[0]] == ["0", "1", "2", "3"]
    assert newest(entries, 0) == ([], 5)
    assert newest(entries, 10) == (entries, 0)
