"""A feed of more than max_entries entries is cut before feedparser reads it
(bot/ingest/precut.py): the same entries as a full parse would keep, and a big feed parsed in
bounded memory."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from bot.ingest.limits import newest_indices
from bot.ingest.parse import parse_feed
from bot.ingest.precut import entry_spans, precut, shorten_texts


def _sane(value, raw):
    return value


def test_quoted_markup_is_not_an_entry_and_the_newest_are_kept_in_feed_order():
    start = datetime(2025, 7, 1, tzinfo=UTC)
    order = list(range(40))
    random.Random(7).shuffle(order)
    items = []
    for n, day in enumerate(order):
        date = "" if n % 9 == 0 else (
            f"<pubDate>{format_datetime(start + timedelta(days=day), usegmt=True)}</pubDate>")
        items.append(
            f"<item><title>Новость {n}</title><guid>g{n}</guid>{date}"
            f"<description><![CDATA[<p>Цитата: <item><pubDate>Mon, 01 Jan 2030 00:00:00 GMT"
            f"</pubDate></item></p>]]></description><!-- <entry> --></item>\n")
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Лента</title>'
            + "".join(items) + "</channel></rss>")
    assert len(entry_spans(body)) == 40
    full = parse_feed(body.encode(), origin="t")
    expected = [full.entries[i].guid
                for i in newest_indices([e.published for e in full.entries], 12)]
    cut = parse_feed(body.encode(), origin="t", max_entries=12)
    assert [e.guid for e in cut.entries] == expected
    assert cut.left_out == 28
    assert "feed has 40 entries: kept the newest 12, left out 28 (max_entries)" in cut.warnings
    assert all(e.text.startswith("<p>Цитата") for e in cut.entries)


def test_atom_entries_with_a_prefix_and_update_dates_are_cut_too():
    entries = "".join(
        f"<a:entry><a:id>e{i}</a:id><a:title>Запись {i}</a:title>"
        f"<a:updated>2025-07-{i + 1:02d}T10:00:00Z</a:updated></a:entry>" for i in range(20))
    body = f'<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>t</a:title>{entries}</a:feed>'
    cut = precut(body, 5, _sane)
    assert cut is not None and (cut.total, cut.kept) == (20, 5)
    feed = parse_feed(body.encode(), origin="t", max_entries=5)
    assert [e.guid for e in feed.entries] == ["e15", "e16", "e17", "e18", "e19"]
    assert precut(body, 20, _sane) is None  # no more than allowed: untouched


def test_an_entry_left_open_runs_to_the_end_and_a_misread_document_is_parsed_whole():
    body = ("<rss><channel>" + "".join(f"<item><title>N{i}</title></item>" for i in range(5))
            + "<item><title>Открытая")
    spans = entry_spans(body)
    assert len(spans) == 6 and spans[-1][1] == len(body)
    feed = parse_feed(body.encode(), origin="t", max_entries=3)
    assert len(feed.entries) == 3 and feed.left_out == 3


PROBE = """
import resource, sys
from bot.ingest.parse import parse_feed
items = "".join(
    f"<item><title>Новость номер {i} о Томской области</title>"
    f"<link>https://big.example/n/{i}</link><guid>big-{i}</guid>"
    f"<pubDate>Tue, 15 Jul 2025 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
    f"<description>Короткая заметка {i}: в Томске прошло событие.</description></item>"
    for i in range(60_000))
body = f'<rss version="2.0"><channel><title>Лента</title>{items}</channel></rss>'.encode()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
feed = parse_feed(body, origin="t", max_entries=500)
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(len(feed.entries), feed.left_out, min(e.published for e in feed.entries).hour, grew)
"""


def test_sixty_thousand_entries_parse_in_bounded_memory():
    """In a process of its own (its peak is its own): the 16 MB feed parsed with
    max_entries 500. A full parse of every entry grows the process by about 160 MB."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parent.parent, check=True)
    kept, left_out, hour, grew = out.stdout.split()
    assert (int(kept), int(left_out), int(hour)) == (500, 59_500, 23)
    assert float(grew) < 60, f"parsing grew the process by {grew} MiB"


def test_huge_texts_are_cut_before_feedparser_and_the_feed_stays_well_formed():
    huge = "Абзац стенограммы заседания думы. " * 40_000  # 1.36 MB
    escaped = "&lt;p&gt;" + "Текст &amp; ещё текст. " * 40_000
    body = ('<rss version="2.0"><channel><title>Лента</title>'
            f"<item><title>Стенограмма</title><guid>a</guid>"
            f"<description><![CDATA[<p>{huge}</p>]]></description></item>"
            f"<item><title>Экранированная</title><guid>b</guid>"
            f"<description>{escaped}</description></item>"
            f"<item><title>Короткая</title><guid>c</guid><description>Кратко.</description>"
            f"</item></channel></rss>")
    shortened, cut = shorten_texts(body, 50_000)
    assert cut == 2 and len(shortened) < 110_000
    feed = parse_feed(body.encode(), origin="t", max_text_chars=50_000)
    assert [e.guid for e in feed.entries] == ["a", "b", "c"]
    assert feed.entries[0].text.startswith("<p>Абзац") and len(feed.entries[0].text) <= 50_000
    assert 40_000 < len(feed.entries[1].text) <= 50_000
    assert not any("not well-formed" in w for w in feed.warnings), feed.warnings
    assert feed.entries[2].text == "Кратко."
    assert any("2 texts longer than 50000 characters cut" in w for w in feed.warnings)
    assert shorten_texts(">" * 200_000, 1_000)[0] == ">" * 1_000  # linear, even for this
