"""Every file of feedparser's own test corpus (well-formed, ill-formed, hostile) goes through
ingest without an unhandled exception; what cannot be read is a one-line FileReadError."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.files import FileReadError, read_document
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
