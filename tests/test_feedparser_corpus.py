"""Every file of feedparser's own test corpus (well-formed, ill-formed, hostile) goes through
ingest without an unhandled exception; what cannot be read is a one-line FileReadError. And
parse_feed on the corpus and on hostile variants of it raises nothing but FeedError."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bot.ingest.files import FileReadError, read_document
from bot.ingest.parse import FeedError, parse_feed
from bot.pipeline import process
from bot.storage.store import Store

from conftest import SHARED, fetch_rows

CORPUS = SHARED / "corpora" / "feedparser-tests" / "tests"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpora not present")
async def test_whole_corpus_ingests_without_unhandled_exceptions(tmp_path: Path):
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    assert len(files) > 1500
    read = refused = stored = 0
    async with await Store.open(tmp_path / "corpus.db") as store:
        for path in files:
            try:
                entries = read_document(path)
            except FileReadError as exc:
                message = str(exc)
                assert "\n" not in message and str(path) in message
                refused += 1
                continue
            results, _ = await process(store, entries)
            stored += sum(r.is_new for r in results)
            read += 1
        for a in await fetch_rows(store, "SELECT title, text FROM articles"):
            assert "<script" not in a["text"].lower()
    # Most corpus entries are the same few words, so exact de-duplication keeps few of them.
    assert read > 1700 and refused < 50 and stored > 50


def _mutations(raw: bytes, rng: random.Random) -> list[tuple[str, bytes, dict[str, str]]]:
    """Hostile variants of one document: cut short, bytes flipped, bad character references
    and control characters put in, a charset or content type that lies."""
    def spots(n: int) -> list[int]:
        return sorted(rng.randrange(len(raw) + 1) for _ in range(n))

    def insert(piece: bytes, n: int) -> bytes:
        out, last = [], 0
        for at in spots(n):
            out += [raw[last:at], piece]
            last = at
        return b"".join([*out, raw[last:]])

    flipped = bytearray(raw)
    for at in spots(5):
        if at < len(flipped):
            flipped[at] = rng.randrange(256)
    return [
        ("truncated", raw[:rng.randrange(len(raw) + 1)], {}),
        ("flipped", bytes(flipped), {}),
        ("surrogates", insert(rng.choice([b"&#55357;", b"&#xDE00;", b"&#55357;&#56832;",
                                          b"&#0;", b"&#1114112;", b"&#99999999999;"]), 3), {}),
        ("controls", insert(bytes([rng.choice([0, 7, 8, 11, 27, 127])]), 3), {}),
        ("utf-16 header", raw, {"charset": "utf-16"}),
        ("json type", raw, {"content_type": "application/json"}),
        ("nested", b"<x>" * 300 + raw, {}),
    ]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpora not present")
def test_parse_feed_on_the_corpus_and_hostile_variants_raises_only_feed_errors():
    """Fuzz: every corpus file as it is and in two hostile variants (seeded) goes straight into
    parse_feed; the outcome is a feed whose strings are clean, or a one-line FeedError."""
    rng = random.Random(13)
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.stat().st_size < 200_000)
    assert len(files) > 1500
    parsed = refused = 0
    control = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
    for path in files:
        raw = path.read_bytes()
        variants = [("as is", raw, {}), *rng.sample(_mutations(raw, rng), 2)]
        for what, body, kw in variants:
            try:
                feed = parse_feed(body, origin=str(path), **kw)
            except FeedError as exc:
                assert "\n" not in str(exc) and str(exc), (path, what)
                refused += 1
                continue
            parsed += 1
            for e in feed.entries:
                assert not control.search(e.title + e.text), (path, what, e.title)
                assert not control.search(feed.title), (path, what)
    assert parsed > 2000 and refused > 100, (parsed, refused)
