"""What a Store keeps between placements (bot/storage/frequencies.py, index.Known) and the
candidate bound (bot/dedup/placement.within_reach): the same numbers and the same decisions
as reading everything again."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.dedup.placement import Incoming, StoryCandidate, within_reach
from bot.dedup.similarity import Lexical
from bot.dedup.stories import story_terms
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.storage import index
from bot.storage.store import REACH, Store

from conftest import SEEDS

T0 = datetime(2025, 10, 22, 9, 0, tzinfo=UTC)


def entry(title: str, text: str, url: str, at: datetime) -> Entry:
    return Entry(title=title, text=text, url=url, guid=url, published=at, origin=url)


def seed_entries():
    return [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))]


async def database_counts(store: Store, lemmas) -> tuple[int, dict[str, int]]:
    async with store.db.read() as tx:
        return await index.document_frequencies(tx, lemmas)


async def test_kept_frequencies_are_the_databases_with_a_second_writer(tmp_path):
    path = tmp_path / "f.db"
    seeds = seed_entries()
    lemmas = {t for e in seeds for t in story_terms(e.title, e.text)}
    async with await Store.open(path) as first, await Store.open(path) as second:
        await process(first, seeds[:2])
        async with first.db.read() as tx:
            assert await first.frequencies.get(tx, lemmas) == await database_counts(
                first, lemmas)
        await process(second, seeds[2:4])  # another writer: the first one's cache is stale
        await process(first, seeds[4:])
        for store in (first, second):
            async with store.db.read() as tx:
                kept = await store.frequencies.get(tx, lemmas)
            assert kept == await database_counts(store, lemmas)
            assert kept[0] == len(seeds)


async def test_candidates_out_of_reach_could_never_score_high_enough(tmp_path):
    """Every candidate within_reach leaves out scores below the floor by the full TF-IDF
    cosine; the ones it keeps include every candidate that reaches it."""
    async with await Store.open(tmp_path / "r.db") as store:
        placed, _ = await process(store, [
            entry(e.title, e.text, f"https://o{i}.example/{i}", T0)
            for i, e in enumerate(seed_entries())])
        async with store.db.read() as tx:
            documents, df = await index.document_frequencies(
                tx, [t for e in seed_entries() for t in story_terms(e.title, e.text)])
            candidates = await index.story_candidates(tx, T0.replace(year=2024),
                                                      T0.replace(year=2026), 0)
    assert len(candidates) == len(placed)
    lexical = Lexical(documents, df)
    checked = 0
    for e in seed_entries():
        terms = story_terms(e.title, e.text)
        for cut in (terms, terms[: len(terms) // 3]):
            new = Incoming(None, cut, frozenset(), "https://elsewhere.example", T0)
            kept = {c.article_id for c in within_reach(new, candidates, documents, df, REACH)}
            for c in candidates:
                score = lexical(cut, c.terms)
                if c.article_id not in kept:
                    assert score < REACH, (c.article_id, score)
                checked += 1
            assert any(lexical(cut, c.terms) >= REACH for c in candidates) <= bool(kept)
    assert checked == 2 * len(candidates) * len(seed_entries())
    assert isinstance(candidates[0], StoryCandidate)
