"""The way an entry becomes a stored article.

    entry -> prepare (pure: plain text, clean, title, content hash)
          -> features (pure: fingerprint, LSH keys, story terms)
          -> store: exact duplicate? -> reprint? -> same story? -> new story (one transaction)

Understanding (topics, places, people, summary, figures) and subscriber matching hook in after
the story step. ``Processed`` carries the results to the callers (poller, ingest, analyze).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.dedup.fingerprint import Fingerprint, fingerprint
from bot.dedup.minhash import window_keys
from bot.dedup.reprints import NEAR_DUPLICATE, Comparison, compare
from bot.dedup.stories import (
    STORY_WINDOW,
    best_story,
    different_regions,
    host_of,
    outlet_name,
    regions_of,
    story_terms,
)
from bot.delivery.decide import NewStory, enqueue_story
from bot.delivery.match import StoryFacts, story_lemmas
from bot.delivery.render import StoryView
from bot.ingest.clean import clean_text, clean_title
from bot.ingest.htmltext import html_to_text
from bot.models import Article, Entry
from bot.storage import dedup as dedup_store
from bot.storage.articles import find_existing, insert_row, unindexed_articles
from bot.storage.db import Database, utcnow
from bot.storage.outbox import note_story_grew
from bot.storage.stories import index_for_search, unsearchable_articles
from bot.text.morph import lemma, words
from bot.understand.analyzer import Understanding, Understood

SHORT_TEXT = 200  # below this many characters the hash also covers the title


def content_hash(title: str, text: str) -> str:
    """Hash of the text as a reader sees it: case, spacing and punctuation runs folded."""
    folded = re.sub(r"[\W_]+", " ", text.casefold().replace("ё", "е")).strip()
    if len(folded) < SHORT_TEXT:
        folded = re.sub(r"[\W_]+", " ", title.casefold().replace("ё", "е")).strip() + "\n" + folded
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def prepare(entry: Entry, *, source_id: int | None = None,
            markdown: bool | None = None) -> Article | None:
    """Clean an entry into an Article; None when nothing readable is left."""
    title = clean_title(html_to_text(entry.title) if "<" in entry.title else entry.title)
    raw = html_to_text(entry.text) if entry.text_is_html else entry.text
    md = markdown if markdown is not None else entry.origin.lower().endswith((".md", ".txt"))
    text = clean_text(raw, title=title, markdown=md)
    if not title and not text:
        return None
    if not title:
        title = text.split("\n", 1)[0][:120]
    return Article(title=title, text=text, url=entry.url, guid=entry.guid,
                   published=entry.published, origin=entry.origin,
                   content_hash=content_hash(title, text), source_id=source_id)


@dataclass(frozen=True)
class Processed:
    """One entry after the pipeline."""

    article: Article  # as stored (the existing one for an exact duplicate)
    status: str  # "new" | "reprint" | "duplicate"
    duplicate_of: str | None = None  # label of the original (URL, or file path#guid)
    story_id: int | None = None
    similarity: float | None = None  # to the original (reprint) or to the story (new)
    understood: Understood = field(default_factory=Understood)

    @property
    def topics(self):
        return self.understood.topics


MAX_QUERY_WINDOWS = 16  # windows of a new article looked up in the index
INDEX_WINDOWS = 4  # windows of an article put in the index (after the lede's head window)


@dataclass(frozen=True)
class Features:
    """What the pure stages compute for one article before the database is touched."""

    fingerprint: Fingerprint
    query_keys: list[int]
    index_keys: list[int]
    story_terms: list[str]
    host: str
    understood: Understood = field(default_factory=Understood)
    lemmas: list[str] = field(default_factory=list)  # title and text, for subscribers' words
    title_words: int = 0  # how many of ``lemmas`` are the title's

    @property
    def title_lemmas(self) -> list[str]:
        return self.lemmas[:self.title_words]

    @property
    def body_lemmas(self) -> list[str]:
        return self.lemmas[self.title_words:]


def features(article: Article, understanding: Understanding | None = None) -> Features:
    fp = fingerprint(article.title, article.text)
    index = window_keys(fp.index_windows[:1 + INDEX_WINDOWS])
    query = window_keys(fp.heads[:MAX_QUERY_WINDOWS] + fp.windows[:MAX_QUERY_WINDOWS])
    understood = understanding(article.title, article.text) if understanding else Understood()
    return Features(fp, query, index, story_terms(article.title, article.text),
                    host_of(article.url, article.origin), understood,
                    story_lemmas(article.title, article.text), len(words(article.title)))


def _time(article: Article) -> datetime:
    return article.published or article.fetched_at or utcnow()


async def find_reprint(conn, f: Features, *, exclude: int | None = None
                       ) -> tuple[dedup_store.StoredFingerprint, Comparison] | None:
    """The stored article this one reprints (or that reprints it), most similar first.

    One press release template filled in for two regions ("В Томской области стартовал прием
    заявок..." and the same for the Altai) is two events, not a reprint: when the whole texts
    match, the regions of this one's text against those of the stored one's title and lead.
    (Cut reprints are left alone: a Tomsk outlet's dateline on a Moscow release whose Moscow
    paragraph it dropped is still a reprint.)"""
    ids = await dedup_store.lsh_candidates(conn, f.query_keys, exclude=exclude)
    best = None
    mine: frozenset[str] | None = None
    for cand in await dedup_store.load_fingerprints(conn, ids, host_of):
        comparison = compare(f.fingerprint, cand.fingerprint)
        if not comparison.is_reprint or (best is not None
                                         and comparison.similarity <= best[1].similarity):
            continue
        if comparison.jaccard >= NEAR_DUPLICATE:  # the whole text: a filled-in template?
            mine = regions_of(f.lemmas) if mine is None else mine
            if different_regions(mine, regions_of(cand.story_terms)):
                continue
        best = (cand, comparison)
    return best


async def _place(db: Database, article: Article, f: Features) -> Processed:
    """Reprint? attach to the original's story. Same story? attach. Else a new story.

    Runs inside the write transaction that stored ``article``.
    """
    conn = db.conn
    assert article.id is not None
    at = _time(article)
    best = await find_reprint(conn, f, exclude=article.id)
    await dedup_store.save_fingerprint(conn, article.id, f.fingerprint, f.index_keys,
                                       f.story_terms)
    await dedup_store.save_understanding(conn, article.id, f.understood)
    await dedup_store.add_document_frequencies(conn, set(f.story_terms))
    if best is not None:
        cand, comparison = best
        root = cand.reprint_of or cand.article_id
        story_id = cand.story_id or await dedup_store.story_of(conn, root)
        if story_id is None:
            story_id = await dedup_store.create_story(conn, root, article.title, at)
            await dedup_store.attach(conn, root, story_id, None, None)
        roots = await dedup_store.load_fingerprints(conn, [root], host_of)
        root_at = roots[0].at if roots and roots[0].at else at
        await note_story_grew(conn, story_id, utcnow())
        if at < root_at:  # the reprint came first: this article is the original
            await dedup_store.attach(conn, article.id, story_id, None, None)
            await dedup_store.make_original(conn, article.id, root, story_id, article.title, at)
            await index_for_search(conn, article.id, f.title_lemmas, f.body_lemmas)
            return Processed(article, "new", None, story_id, comparison.similarity, f.understood)
        await dedup_store.attach(conn, article.id, story_id, root, comparison.similarity)
        label = roots[0].label if roots else cand.label
        return Processed(article, "reprint", label, story_id, comparison.similarity, f.understood)
    documents, df = await dedup_store.document_frequencies(conn, f.story_terms)
    candidates = await dedup_store.story_candidates(conn, at - STORY_WINDOW, at + STORY_WINDOW,
                                                    article.id, host_of, f.story_terms, df)
    match = best_story(f.story_terms, f.host, candidates, documents, df)
    if match is not None:
        await dedup_store.attach(conn, article.id, match.story_id, None, match.score)
        await note_story_grew(conn, match.story_id, utcnow())
        await index_for_search(conn, article.id, f.title_lemmas, f.body_lemmas)
        return Processed(article, "new", None, match.story_id, match.score, f.understood)
    story_id = await dedup_store.create_story(conn, article.id, article.title, at)
    await dedup_store.attach(conn, article.id, story_id, None, None)
    await index_for_search(conn, article.id, f.title_lemmas, f.body_lemmas)
    await enqueue_story(conn, new_story(story_id, article, f))
    return Processed(article, "new", None, story_id, None, f.understood)


def new_story(story_id: int, article: Article, f: Features) -> NewStory:
    u = f.understood
    view = StoryView(story_id=story_id, title=article.title, url=article.url,
                     summary=u.summary, key_figures=u.key_figures,
                     outlets=(outlet_name(f.host),) if f.host else (),
                     topics=tuple(t.id for t in u.topics))
    facts = StoryFacts(topics=frozenset(t.id for t in u.topics),
                       places=frozenset(u.entities.places), lemmas=f.lemmas)
    return NewStory(view, facts)


async def process(db: Database, entries: list[Entry], *, source_id: int | None = None,
                  fetched_at: datetime | None = None,
                  understanding: Understanding | None = None
                  ) -> tuple[list[Processed], list[str]]:
    """Run entries through the pipeline in order; return results and per-entry warnings.

    entry -> exact duplicate? (skip) -> reprint? (attach to the original's story, never
    delivered again) -> same story? (attach) -> new story; what understanding made of it
    (topics, summary, key figures) is stored with it. Delivery decisions hook in after this.
    """
    results: list[Processed] = []
    warnings: list[str] = []
    for entry in entries:
        article = prepare(entry, source_id=source_id)
        if article is None:
            warnings.append(f"{entry.url or entry.guid or entry.origin}: no text left after "
                            "cleaning; skipped")
            continue
        article = replace(article, fetched_at=fetched_at or utcnow())
        f = features(article, understanding)  # pure and CPU-bound: before the write lock
        async with db.write():
            existing = await find_existing(db, article)
            if existing is not None:
                results.append(Processed(existing, "duplicate", existing.label,
                                         existing.story_id, understood=f.understood))
                continue
            stored = await insert_row(db.conn, article)
            results.append(await _place(db, stored, f))
    return results, warnings


async def index_archive(db: Database, understanding: Understanding | None = None) -> int:
    """Run articles stored before reprint detection existed through it, oldest first, as if
    they arrived in that order. Returns how many were indexed."""
    done = 0
    while batch := await unindexed_articles(db):
        for article in batch:
            f = features(article, understanding)
            async with db.write():
                await _place(db, article, f)
            done += 1
    return done


async def index_for_search_archive(db: Database) -> int:
    """Put original articles stored before the search index existed into it."""
    done = 0
    while batch := await unsearchable_articles(db):
        async with db.write() as conn:
            for article_id, title, text in batch:
                title_lemmas = [lemma(w) for w in words(title)]
                body_lemmas = [lemma(w) for w in words(text)]
                await index_for_search(conn, article_id, title_lemmas, body_lemmas)
                done += 1
    return done
