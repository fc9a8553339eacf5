"""The Store: pressbot's one storage type. Each method opens and commits its own transaction;
no caller ever sees a connection.

    store.sources   sources and their health          store.chats    subscribers and filters
    store.articles  articles and listings             store.outbox   messages to send
    store.stories   stories, search, digest views     store.stats    counts
    store.place()   put a new article where it belongs, in one transaction

``place`` runs the exact-duplicate check, the insert, the candidate queries, the pure decision
(bot/dedup/placement.py), the writes and the messages queued for subscribers, all in one
transaction: a crash leaves either all of it or none. With the story encoder, the vectors the
decision will need are made before that transaction opens (the encoder takes a second or so;
the write lock is held for milliseconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from bot.config import is_database_url
from bot.cpu import in_encoder_lane
from bot.dedup.placement import (
    Incoming,
    Placement,
    ReprintMatch,
    StoryCandidate,
    StoryMatch,
    best_story,
    decide,
    match_reprint,
    root_of,
    within_reach,
)
from bot.dedup.semantic import LOW, Blended, Encoder, uncertain
from bot.dedup.similarity import Lexical, Similarity
from bot.dedup.stories import STORY_THRESHOLD, STORY_WINDOW
from bot.features import Features
from bot.models import Article, Chat, FilterValues
from bot.storage import articles, embeddings, index, stories
from bot.storage.articles import Articles
from bot.storage.chats import Chats, chats_in_mode
from bot.storage.db import Database, Tx, utcnow
from bot.storage.frequencies import Frequencies
from bot.storage.outbox import Message, Outbox, enqueue_new_story
from bot.storage.sources import Sources
from bot.storage.state import State
from bot.storage.stats import Stats
from bot.storage.stories import Stories
from bot.storage.teasers import Teasers

log = logging.getLogger(__name__)

# The lowest lexical score a decision looks at: the story threshold, or the encoder's band.
REACH = min(STORY_THRESHOLD, LOW)

# Given a new story's id and the active instant-mode chats (with their filters), the
# messages to queue: the delivery decision, made by the caller, applied inside the
# transaction that creates the story.
Notify = Callable[[int, Sequence[tuple[Chat, FilterValues]]], Sequence[Message]]
# Builds the story similarity from the archive's statistics (documents, df).
SimilarityFactory = Callable[[int, dict[str, int]], Similarity]


@dataclass(frozen=True)
class Placed:
    """Where an article went."""

    article: Article  # as stored (the existing one for an exact duplicate)
    status: str  # "new_story" | "joined" | "original" | "reprint" | "duplicate"
    story_id: int | None
    similarity: float | None = None  # to the original (reprint) or to the story (joined)
    duplicate_of: str | None = None  # label of the original (URL, or file path#guid)


def article_time(article: Article) -> datetime:
    return article.published or article.fetched_at or utcnow()


class Store:
    def __init__(self, db: Database, *, similarity: SimilarityFactory = Lexical,
                 encoder: Encoder | None = None) -> None:
        """``encoder``: the second story signal (bot/dedup/semantic.py), None for words
        alone."""
        self.db = db
        self.similarity = similarity
        self.encoder = encoder
        self.sources = Sources(db)
        self.articles = Articles(db)
        self.stories = Stories(db)
        self.chats = Chats(db)
        self.outbox = Outbox(db)
        self.stats = Stats(db)
        self.teasers = Teasers(db)
        self.state = State(db)
        self.frequencies = Frequencies()
        self.known: index.Known = {}  # story candidates' unchanging parts (index.py)

    @classmethod
    async def open(cls, path: Path | str, *, sandbox: bool = False,
                   busy_timeout_ms: int | None = None, semantic: bool = False) -> Store:
        """An SQLite file, or a PostgreSQL database when ``path`` is a postgresql:// URL.
        ``semantic``: stories also by a sentence encoder ([dedup] semantic), loaded on first
        use."""
        extra = {"busy_timeout_ms": busy_timeout_ms} if busy_timeout_ms is not None else {}
        encoder = None
        if semantic:
            from bot.understand.encoder import E5Encoder

            encoder = E5Encoder()
        if is_database_url(str(path)):
            from bot.storage.postgres import PgDatabase  # asyncpg only when it is used

            return cls(await PgDatabase.open(str(path), sandbox=sandbox, **extra),
                       encoder=encoder)
        return cls(await Database.open(path, sandbox=sandbox, **extra), encoder=encoder)

    @property
    def path(self) -> str:
        """The SQLite file, or the PostgreSQL URL without its password."""
        return self.db.path

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    # ------------------------------------------------------------ placing articles

    async def place(self, article: Article, f: Features, *, notify: Notify | None = None,
                    news: bool = True) -> Placed:
        """Store a new article where it belongs (see the module docstring). When it starts a
        story, ``notify`` gives the messages to queue; with ``news`` False the story is
        stored as not news (never delivered, at once or in a digest) and nobody is
        notified."""
        mine = await self._vectors_first(article, f) if self.encoder is not None else None
        try:
            async with self.db.transaction() as tx:
                existing = await articles.find_existing(tx, article)
                if existing is not None:
                    return Placed(existing, "duplicate", existing.story_id,
                                  duplicate_of=existing.label)
                stored = await articles.insert(tx, article)
                placed = await self._place(tx, stored, f, notify if news else None, news,
                                           mine)
        except BaseException:
            self.frequencies.clear()
            self.known.clear()
            raise
        self.frequencies.added(set(f.story_terms))  # committed
        return placed

    async def index(self, article: Article, f: Features) -> Placed:
        """Place an article stored before reprint detection (nobody is notified)."""
        mine = await self._vectors_first(article, f) if self.encoder is not None else None
        try:
            async with self.db.transaction() as tx:
                placed = await self._place(tx, article, f, None, False, mine)
        except BaseException:
            self.frequencies.clear()
            self.known.clear()
            raise
        self.frequencies.added(set(f.story_terms))
        return placed

    async def find_reprint(self, article: Article, f: Features, *,
                           exclude: int | None = None) -> ReprintMatch | None:
        """The stored article ``article`` would be a reprint of (read only: benchmarks)."""
        new = Incoming(f.fingerprint, f.story_terms, f.lemmas, f.outlet, article_time(article))
        async with self.db.read() as tx:
            return match_reprint(new, await index.reprint_candidates(tx, f.query_keys,
                                                                    exclude=exclude))

    async def _story_inputs(self, tx: Tx, article_id: int, new: Incoming, f: Features
                            ) -> tuple[ReprintMatch | None, list[StoryCandidate], Similarity]:
        """What the decision reads: the stored article this one reprints (then no story
        candidates are looked at), else the story candidates and the lexical similarity
        with the archive's statistics as they will be once this article is counted."""
        reprint = match_reprint(new, await index.reprint_candidates(tx, f.query_keys,
                                                                   exclude=article_id))
        if reprint is not None:
            return reprint, [], self.similarity(0, {})
        # This article's own document frequencies are written last (in _place), so that the
        # rows every placement updates (the document count, common words' df) stay locked
        # only for the end of the transaction: processes sharing a PostgreSQL database place
        # articles side by side instead of one after another.
        own = set(f.story_terms)
        documents, df = await self.frequencies.get(tx, f.story_terms)
        documents += 1
        df = {**df, **{t: df.get(t, 0) + 1 for t in own}}
        candidates = within_reach(new, await index.story_candidates(
            tx, new.at - STORY_WINDOW, new.at + STORY_WINDOW, article_id, f.story_terms, df,
            self.known), documents, df, REACH)
        # Every word of every candidate weighs by its real rarity (a word missing from df
        # would count as the rarest of all and pull the cosine down).
        rest = {t for c in candidates for t in c.terms} - df.keys()
        if rest:
            df = {**df, **(await self.frequencies.get(tx, rest))[1]}
        return None, candidates, self.similarity(documents, df)

    async def _place(self, tx: Tx, article: Article, f: Features, notify: Notify | None,
                     news: bool, mine: np.ndarray | None = None) -> Placed:
        assert article.id is not None
        new = Incoming(f.fingerprint, f.story_terms, f.lemmas, f.outlet, article_time(article))
        reprint, candidates, similarity = await self._story_inputs(tx, article.id, new, f)
        await index.save_fingerprint(tx, article.id, f.fingerprint, f.index_keys,
                                     f.story_terms)
        self.known.pop(article.id, None)
        await articles.save_understanding(tx, article.id, f.understood)
        story: StoryMatch | None = None
        roots: dict = {}
        if reprint is not None:
            roots = {r.article_id: r for r in await index.fingerprints(tx, [root_of(reprint)])}
        else:
            if self.encoder is not None:
                similarity = await self._semantic(tx, article, new, candidates, similarity,
                                                  mine)
            story = best_story(new, candidates, similarity)
        placement = decide(new, reprint, roots, story)
        placed = await self._apply(tx, article, f, placement, notify, news)
        await index.add_document_frequencies(tx, set(f.story_terms))
        return placed

    async def _vectors_first(self, article: Article, f: Features) -> np.ndarray | None:
        """Before the write transaction: when this article will meet uncertain candidates,
        their missing vectors and its own are made (in the encoder's worker thread, with no
        transaction open: the encoder's second or so never holds the database's write lock)
        and the candidates' are kept. Returns this article's vector, or None when it needs
        none (a duplicate, a reprint, no uncertain candidate) or the encoder failed. The
        decision itself is made in the write transaction, on what is stored by then."""
        assert self.encoder is not None
        encoder = self.encoder
        new = Incoming(f.fingerprint, f.story_terms, f.lemmas, f.outlet, article_time(article))
        async with self.db.read() as tx:
            if article.id is None and await articles.find_existing(tx, article) is not None:
                return None
            reprint, candidates, similarity = await self._story_inputs(
                tx, article.id or 0, new, f)
            unsure = uncertain(new, candidates, similarity) if reprint is None else []
            if not unsure:
                return None
            ids = [c.article_id for c in unsure]
            stored = await embeddings.vectors(tx, ids, encoder.model)
            have = {i for i, b in stored.items() if encoder.decode(b) is not None}
            texts = await embeddings.sources(tx, [i for i in ids if i not in have])
        order = list(texts)
        made = await self._embed([encoder.text(article.title, article.text[
            :embeddings.SOURCE_CHARS]), *(encoder.text(*texts[i]) for i in order)])
        if made is None:
            return None
        if order:
            async with self.db.transaction() as tx:
                await embeddings.save(tx, [(i, encoder.encode(v))
                                           for i, v in zip(order, made[1:], strict=True)],
                                      encoder.model)
        return made[0]

    async def _embed(self, texts: list[str]) -> list[np.ndarray] | None:
        """Vectors of ``texts`` in the encoder's worker thread; None (and words alone from now on,
        said once) when the model cannot be loaded or run."""
        assert self.encoder is not None
        try:
            return await in_encoder_lane(self.encoder.embed, texts)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            log.error("story encoder unavailable (%s): stories by words alone until"
                      " restart", exc)
            self.encoder = None
            return None

    async def _semantic(self, tx: Tx, article: Article, new: Incoming,
                        candidates: list[StoryCandidate], lexical: Similarity,
                        mine: np.ndarray | None) -> Similarity:
        """The lexical similarity, blended with the encoder's for the uncertain candidates.
        Their vectors and this article's (``mine``) were made before the transaction
        (_vectors_first); one still missing (a candidate stored since) is made here."""
        unsure = uncertain(new, candidates, lexical)
        if not unsure:
            return lexical
        assert self.encoder is not None and article.id is not None
        encoder = self.encoder
        ids = [article.id, *(c.article_id for c in unsure)]
        stored = await embeddings.vectors(tx, ids[1:], encoder.model)
        have = {i: v for i, b in stored.items() if (v := encoder.decode(b)) is not None}
        if mine is not None:
            have[article.id] = mine
        missing = [i for i in ids if i not in have]
        order: list[int] = []
        if missing:
            texts = await embeddings.sources(tx, missing)
            order = [i for i in missing if i in texts]
            made = await self._embed([encoder.text(*texts[i]) for i in order])
            if made is None:
                return lexical
            have.update(zip(order, made, strict=True))
        if article.id not in have:
            return lexical
        saving = dict.fromkeys([*order, article.id])  # made here, and this article's own
        await embeddings.save(tx, [(i, encoder.encode(have[i])) for i in saving], encoder.model)
        return Blended(lexical, have[article.id],
                       {c.terms: have[c.article_id] for c in unsure if c.article_id in have})

    async def _apply(self, tx: Tx, article: Article, f: Features, placement: Placement,
                     notify: Notify | None, news: bool) -> Placed:
        assert article.id is not None
        at = article_time(article)
        kind = placement.kind
        if kind in ("reprint", "original"):
            assert placement.root is not None
            story_id = placement.story_id
            if story_id is None:  # the original was stored before stories existed
                story_id = await stories.create(tx, placement.root, article.title, at)
                await stories.attach(tx, placement.root, story_id, None, None)
            await stories.note_grew(tx, story_id, utcnow())
            if kind == "original":
                await stories.attach(tx, article.id, story_id, None, None)
                await stories.make_original(tx, article.id, placement.root, story_id,
                                            article.title, at)
                await stories.index_for_search(tx, article.id, f.title_lemmas, f.body_lemmas)
                return Placed(article, "original", story_id, placement.similarity)
            await stories.attach(tx, article.id, story_id, placement.root,
                                 placement.similarity)
            return Placed(article, "reprint", story_id, placement.similarity,
                          duplicate_of=placement.label)
        if kind == "joins":
            assert placement.story_id is not None
            await stories.attach(tx, article.id, placement.story_id, None,
                                 placement.similarity)
            await stories.note_grew(tx, placement.story_id, utcnow())
            await stories.index_for_search(tx, article.id, f.title_lemmas, f.body_lemmas)
            return Placed(article, "joined", placement.story_id, placement.similarity)
        story_id = await stories.create(tx, article.id, article.title, at, news=news)
        await stories.attach(tx, article.id, story_id, None, None)
        await stories.index_for_search(tx, article.id, f.title_lemmas, f.body_lemmas)
        if notify is not None:
            await enqueue_new_story(tx, story_id,
                                    notify(story_id, await chats_in_mode(tx, "instant")))
        return Placed(article, "new_story", story_id)
