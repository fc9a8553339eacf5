"""Where a new article belongs: a pure decision over the candidates the store found.

    reprint of X       it repeats the text of stored article X (X's story, never delivered again)
    original of X      X reprinted it but was stored first: it takes X's place as original
    joins story S      another outlet's report of the same event, in its own words
    new story          none of the above

The store gathers the inputs (LSH candidates with their fingerprints, the originals they point
to, the articles of the story window, corpus statistics), calls ``match_reprint`` and
``decide``, and applies the ``Placement`` in one transaction. The benchmarks call the same
functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dedup.fingerprint import Fingerprint
from bot.dedup.reprints import NEAR_DUPLICATE, Comparison, compare
from bot.dedup.similarity import Similarity, bound, tfidf
from bot.dedup.stories import STORY_THRESHOLD, different_regions, regions_of


@dataclass(frozen=True)
class ReprintCandidate:
    """A stored article the LSH index proposed, with what verification needs."""

    article_id: int
    fingerprint: Fingerprint
    reprint_of: int | None
    story_id: int | None
    at: datetime | None  # published, else fetched
    outlet: str | None
    label: str  # URL, or origin (#guid)
    story_terms: tuple[str, ...] = ()  # lemmas of title and lead, as for stories


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article of the story window."""

    article_id: int
    story_id: int
    terms: tuple[str, ...]
    outlet: str | None
    at: datetime | None


@dataclass(frozen=True)
class Incoming:
    """What the decision knows of the new article."""

    fingerprint: Fingerprint
    story_terms: Sequence[str]
    lemmas: Sequence[str]  # title and text, with stop words (for its regions)
    outlet: str
    at: datetime


@dataclass(frozen=True)
class ReprintMatch:
    candidate: ReprintCandidate
    comparison: Comparison


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    article_id: int
    score: float


@dataclass(frozen=True)
class Placement:
    kind: str  # "reprint" | "original" | "joins" | "new"
    story_id: int | None = None  # None: the root has no story yet, or a new story
    root: int | None = None  # reprint: its original; original: the original it replaces
    similarity: float | None = None
    label: str | None = None  # reprint: the original's label


def match_reprint(new: Incoming, candidates: Sequence[ReprintCandidate]
                  ) -> ReprintMatch | None:
    """The stored article this one reprints (or that reprints it), most similar first.

    One press release template filled in for two regions ("В Томской области стартовал прием
    заявок..." and the same for the Altai) is two events, not a reprint: when the whole texts
    match, the regions of this one's text against those of the stored one's title and lead.
    (Cut reprints are left alone: a Tomsk outlet's dateline on a Moscow release whose Moscow
    paragraph it dropped is still a reprint.)"""
    best: ReprintMatch | None = None
    mine: frozenset[str] | None = None
    for cand in candidates:
        comparison = compare(new.fingerprint, cand.fingerprint)
        if not comparison.is_reprint or (best is not None and comparison.similarity
                                         <= best.comparison.similarity):
            continue
        if comparison.jaccard >= NEAR_DUPLICATE:  # the whole text: a filled-in template?
            mine = regions_of(new.lemmas) if mine is None else mine
            if different_regions(mine, regions_of(cand.story_terms)):
                continue
        best = ReprintMatch(cand, comparison)
    return best


def root_of(match: ReprintMatch) -> int:
    """The original of the group the matched article belongs to."""
    return match.candidate.reprint_of or match.candidate.article_id


def within_reach(new: Incoming, candidates: Sequence[StoryCandidate], documents: int,
                 df: Mapping[str, int], floor: float) -> list[StoryCandidate]:
    """The candidates whose lexical similarity to ``new`` can reach ``floor`` (the lowest
    score any signal looks at): the others share too few of its weighty terms for any weights
    of their own to lift the TF-IDF cosine there, so their other words need no document
    frequencies and they are not scored. Same outlet never joins by similarity: left out."""
    if not new.story_terms:
        return []
    mine = tfidf(new.story_terms, documents, df)
    return [c for c in candidates
            if c.outlet != new.outlet and bound(mine, c.terms) >= floor]


def best_story(new: Incoming, candidates: Sequence[StoryCandidate], similarity: Similarity,
               threshold: float = STORY_THRESHOLD) -> StoryMatch | None:
    """The story whose article is most similar, if any reaches the threshold. Articles of the
    same outlet are never joined by similarity alone, nor reports set in different
    regions."""
    if not new.story_terms:
        return None
    my_regions: frozenset[str] | None = None
    best: StoryMatch | None = None
    for c in candidates:
        if c.outlet == new.outlet:
            continue
        score = similarity(new.story_terms, c.terms)
        if score < threshold or (best is not None and score <= best.score):
            continue
        if my_regions is None:
            my_regions = regions_of(new.story_terms)
        if not different_regions(my_regions, regions_of(c.terms)):
            best = StoryMatch(c.story_id, c.article_id, round(score, 3))
    return best


def decide(new: Incoming, reprint: ReprintMatch | None,
           roots: Mapping[int, ReprintCandidate], story: StoryMatch | None) -> Placement:
    """Combine the reprint match (with the original it points to) and the story match."""
    if reprint is not None:
        root_id = root_of(reprint)
        root = roots.get(root_id)
        story_id = reprint.candidate.story_id or (root.story_id if root else None)
        root_at = root.at if root is not None and root.at else new.at
        similarity = reprint.comparison.similarity
        if new.at < root_at:  # the reprint came first: this article is the original
            return Placement("original", story_id, root_id, similarity)
        label = root.label if root is not None else reprint.candidate.label
        return Placement("reprint", story_id, root_id, similarity, label)
    if story is not None:
        return Placement("joins", story.story_id, None, story.score)
    return Placement("new")
