"""The way an entry becomes a stored article.

    entry -> prepare   (pure: plain text, clean, title, content hash)
          -> features  (pure, CPU-bound: fingerprint, LSH keys, story terms, understanding,
                        lemmas)
          -> Store.place (one transaction: exact duplicate? insert; reprint of a stored
                        article? joins a story? else a new story, queued for the subscribers
                        whose filters match it)

``Processed`` carries the results to the callers (poller, ingest, analyze).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.cpu import off_loop
from bot.dedup.fingerprint import fingerprint
from bot.dedup.minhash import window_keys
from bot.dedup.outlets import outlet_name, outlet_of
from bot.dedup.stories import story_terms
from bot.delivery.decide import notify_new_story
from bot.delivery.match import StoryFacts, story_lemmas
from bot.delivery.render import StoryView
from bot.features import Features
from bot.ingest.clean import clean_text, clean_title
from bot.ingest.htmltext import html_to_text
from bot.ingest.limits import cut_text
from bot.models import Article, Entry
from bot.storage.db import utcnow
from bot.storage.store import Notify, Placed, Store
from bot.text.control import strip_control
from bot.text.morph import lemma, words
from bot.understand.analyzer import Understanding, Understood

log = logging.getLogger(__name__)

SHORT_TEXT = 200  # below this many characters the hash also covers the title


def content_hash(title: str, text: str) -> str:
    """Hash of the text as a reader sees it: case, spacing and punctuation runs folded."""
    folded = re.sub(r"[\W_]+", " ", text.casefold().replace("ё", "е")).strip()
    if len(folded) < SHORT_TEXT:
        folded = re.sub(r"[\W_]+", " ", title.casefold().replace("ё", "е")).strip() + "\n" + folded
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


MAX_ARTICLE_CHARS = 100_000  # [fetch] max_article_chars
MAX_TITLE_CHARS = 1000


def prepare(entry: Entry, *, source_id: int | None = None, markdown: bool | None = None,
            max_chars: int = MAX_ARTICLE_CHARS) -> Article | None:
    """Clean an entry into an Article (control characters gone, the text at most
    ``max_chars``, cut at a paragraph end); None when nothing readable is left."""
    title = strip_control(entry.title[:MAX_TITLE_CHARS * 4])
    title = clean_title(html_to_text(title) if "<" in title else title)[:MAX_TITLE_CHARS]
    source = entry.text[:max_chars * 8]  # bounds the work before cleaning, whatever comes
    raw = html_to_text(source) if entry.text_is_html else source
    md = markdown if markdown is not None else entry.origin.lower().endswith((".md", ".txt"))
    text, _cut = cut_text(clean_text(strip_control(raw), title=title, markdown=md), max_chars)
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
    status: str  # "new_story" | "joined" | "original" | "reprint" | "duplicate"
    duplicate_of: str | None = None  # label of the original (URL, or file path#guid)
    story_id: int | None = None
    similarity: float | None = None  # to the original (reprint) or to the story (joined)
    understood: Understood = field(default_factory=Understood)

    @property
    def topics(self):
        return self.understood.topics

    @property
    def stored(self) -> bool:
        """A new article in the archive (not an exact duplicate)."""
        return self.status != "duplicate"

    @property
    def is_new(self) -> bool:
        """An article of its own: a new story, a report joining one, or the original that a
        stored reprint turned out to copy (not a reprint, not a duplicate)."""
        return self.status in ("new_story", "joined", "original")


MAX_QUERY_WINDOWS = 16  # windows of a new article looked up in the index
INDEX_WINDOWS = 4  # windows of an article put in the index (after the lede's head window)


def features(article: Article, understanding: Understanding | None = None) -> Features:
    fp = fingerprint(article.title, article.text)
    index_keys = window_keys(fp.index_windows[:1 + INDEX_WINDOWS])
    query = window_keys(fp.heads[:MAX_QUERY_WINDOWS] + fp.windows[:MAX_QUERY_WINDOWS])
    understood = understanding(article.title, article.text) if understanding else Understood()
    return Features(fp, query, index_keys, story_terms(article.title, article.text),
                    outlet_of(article.url, article.origin), understood,
                    story_lemmas(article.title, article.text), len(words(article.title)))


def notify_for(article: Article, f: Features, source_name: str | None = None,
               page: Callable[[int], str | None] = lambda story_id: None) -> Notify:
    """The delivery decision for the story this article would start; the outlet is named by
    its source (``source_name``), else by its host."""
    u = f.understood
    outlet = source_name or (outlet_name(f.outlet) if f.outlet else "")
    view = StoryView(story_id=0, title=article.title, url=article.url,
                     summary=u.summary, key_figures=u.key_figures,
                     outlets=(outlet,) if outlet else (),
                     topics=tuple(t.id for t in u.topics),
                     places=tuple(sorted(u.entities.places)),
                     at=article.published or article.fetched_at or utcnow())
    names = frozenset(n.casefold() for n in (*u.entities.people, *u.entities.organizations))
    facts = StoryFacts(topics=frozenset(t.id for t in u.topics),
                       places=frozenset(u.entities.places), lemmas=f.lemmas, names=names,
                       outlets=frozenset({outlet}) if outlet else frozenset())
    return notify_new_story(view, facts, utcnow, page)


def _processed(placed: Placed, f: Features) -> Processed:
    return Processed(placed.article, placed.status, placed.duplicate_of, placed.story_id,
                     placed.similarity, f.understood)


def _prepared(entry: Entry, source_id: int | None, fetched_at: datetime | None,
              understanding: Understanding | None, max_chars: int
              ) -> tuple[Article, Features] | None:
    article = prepare(entry, source_id=source_id, max_chars=max_chars)
    if article is None:
        return None
    article = replace(article, fetched_at=fetched_at or article.fetched_at)
    return article, features(article, understanding)


async def process(store: Store, entries: list[Entry], *, source_id: int | None = None,
                  fetched_at: datetime | None = None,
                  understanding: Understanding | None = None,
                  news: Sequence[bool] | None = None, source_name: str | None = None,
                  page: Callable[[int], str | None] = lambda story_id: None,
                  max_chars: int = MAX_ARTICLE_CHARS) -> tuple[list[Processed], list[str]]:
    """Run entries through the pipeline in order; return results and per-entry warnings.
    ``news`` says for each entry whether it may be delivered (bot/delivery/news.py); by
    default every one may."""
    results: list[Processed] = []
    warnings: list[str] = []

    def prepared(entry: Entry) -> asyncio.Future:
        # pure and CPU-bound: in the worker thread, before the transaction
        return asyncio.ensure_future(off_loop(_prepared, entry, source_id, fetched_at,
                                              understanding, max_chars))

    # The next entry's features are made while this one is placed (the database, and the
    # story encoder, work in threads of their own): two cores serve one feed.
    pending = prepared(entries[0]) if entries else None
    try:
        for i, entry in enumerate(entries):
            assert pending is not None
            ready = await pending
            pending = prepared(entries[i + 1]) if i + 1 < len(entries) else None
            if ready is None:
                warnings.append(f"{entry.url or entry.guid or entry.origin}: no text left"
                                " after cleaning; skipped")
                continue
            article, f = ready
            if len(article.text) >= max_chars * 0.9 and len(entry.text) > max_chars:
                warnings.append(f"{entry.url or entry.guid or entry.origin}: text of"
                                f" {len(entry.text)} characters cut to {len(article.text)}"
                                f" ([fetch] max_article_chars)")
            placed = await store.place(article, f,
                                       notify=notify_for(article, f, source_name, page),
                                       news=news[i] if news is not None else True)
            results.append(_processed(placed, f))
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
    return results, warnings


async def index_archive(store: Store, understanding: Understanding | None = None) -> int:
    """Run articles stored before reprint detection existed through it, oldest first, as if
    they arrived in that order. Returns how many were indexed."""
    done = 0
    while batch := await store.articles.unindexed():
        for article in batch:
            await store.index(article, await off_loop(features, article, understanding))
            done += 1
    return done


async def catch_up(store: Store, understanding: Understanding | None = None) -> None:
    """Bring articles stored by an older pressbot into the reprint and search indexes."""
    count = await index_archive(store, understanding)
    if count:
        log.warning("indexed %d articles stored before reprint detection", count)
    count = await index_for_search_archive(store)
    if count:
        log.warning("indexed %d articles stored before the search index", count)


async def index_for_search_archive(store: Store) -> int:
    """Put original articles stored before the search index existed into it."""
    done = 0
    while batch := await store.articles.unsearchable():
        await store.stories.index_for_search([
            (article_id, [lemma(w) for w in words(title)], [lemma(w) for w in words(text)])
            for article_id, title, text in batch])
        done += len(batch)
    return done
