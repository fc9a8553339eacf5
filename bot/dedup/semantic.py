"""The second story signal: what a sentence encoder says where the words alone are unsure.

Two reports of one event in other words share few rare words, and two reports of different
events of one kind share many; between LOW and HIGH the lexical score (bot/dedup/similarity.py)
decides badly either way. For those candidates only (at most MAX_UNCERTAIN of them, the best
first) the store asks the encoder (bot/understand/encoder.py) for vectors of both titles and
leads, and ``Blended`` mixes the two cosines:

    mixed = WEIGHT * lexical + (1 - WEIGHT) * encoder      joins when mixed >= MIXED_THRESHOLD

returned on the lexical scale (STORY_THRESHOLD + mixed - MIXED_THRESHOLD), so that
``best_story`` keeps one threshold and compares blended and lexical candidates alike. Outside
the band the lexical score stands. Band, weight and threshold were chosen on the tgcontest and
nyan training and exam pools only (bench/eval_dedup.py --tune), never on their honey files.
Pure: the vectors come in as plain arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from bot.dedup.placement import Incoming, StoryCandidate
from bot.dedup.similarity import Similarity
from bot.dedup.stories import STORY_THRESHOLD, different_regions, regions_of

LOW = 0.25
HIGH = 0.45
WEIGHT = 0.0  # the encoder alone decides in the band (no weight of the words did better)
MIXED_THRESHOLD = 0.905
MAX_UNCERTAIN = 4  # candidates encoded for one new article, at most


class Encoder(Protocol):
    """A sentence encoder as the store uses it (bot/understand/encoder.py is one)."""

    model: str  # names the vectors it makes: vectors of another model are made again

    def text(self, title: str, text: str) -> str: ...  # what it reads of an article

    def embed(self, texts: Sequence[str]) -> list[np.ndarray]: ...  # unit vectors, CPU-bound

    def encode(self, vector: np.ndarray) -> bytes: ...  # to store

    def decode(self, data: bytes) -> np.ndarray | None: ...  # None: not a vector of its


def uncertain(new: Incoming, candidates: Sequence[StoryCandidate], lexical: Similarity,
              low: float = LOW, high: float = HIGH, limit: int = MAX_UNCERTAIN
              ) -> list[StoryCandidate]:
    """The candidates ``best_story`` could join, whose lexical score lies in [low, high): the
    ones the encoder should look at, the most similar first. Same outlet and other regions
    never join by similarity, so they are never encoded."""
    if not new.story_terms:
        return []
    scored: list[tuple[float, int, StoryCandidate]] = []
    my_regions: frozenset[str] | None = None
    for c in candidates:
        if c.outlet == new.outlet:
            continue
        score = lexical(new.story_terms, c.terms)
        if not low <= score < high:
            continue
        if my_regions is None:
            my_regions = regions_of(new.story_terms)
        if different_regions(my_regions, regions_of(c.terms)):
            continue
        scored.append((score, c.article_id, c))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [c for _, _, c in scored[:limit]]


def mixed(lexical: float, encoder: float, weight: float = WEIGHT,
          threshold: float = MIXED_THRESHOLD) -> float:
    """The blend, on the lexical scale: >= STORY_THRESHOLD when it joins."""
    return STORY_THRESHOLD + weight * lexical + (1 - weight) * encoder - threshold


class Blended:
    """The lexical similarity, with the encoder's cosine mixed in for the candidates whose
    vectors are given (keyed by their story terms, as ``best_story`` passes them)."""

    def __init__(self, lexical: Similarity, mine: np.ndarray,
                 theirs: Mapping[tuple[str, ...], np.ndarray], low: float = LOW,
                 high: float = HIGH, weight: float = WEIGHT,
                 threshold: float = MIXED_THRESHOLD) -> None:
        self.lexical = lexical
        self.mine = mine
        self.theirs = theirs
        self.low, self.high = low, high
        self.weight, self.threshold = weight, threshold

    def __call__(self, mine: Sequence[str], theirs: Sequence[str]) -> float:
        score = self.lexical(mine, theirs)
        if not self.low <= score < self.high:
            return score
        vector = self.theirs.get(tuple(theirs))
        if vector is None:
            return score
        return mixed(score, float(self.mine @ vector), self.weight, self.threshold)
