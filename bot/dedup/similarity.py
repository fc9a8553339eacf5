"""How alike two reports are, as one number: the story signal behind a small interface.

A ``Similarity`` takes the story terms (lemmas of title and lead) of the new article and of a
candidate and returns a score; ``best_story`` compares it with the story threshold. The lexical
signal is TF-IDF cosine with the archive's document frequencies; another signal (a sentence
encoder) plugs in as another ``Similarity`` without touching storage. Pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol


class Similarity(Protocol):
    def __call__(self, mine: Sequence[str], theirs: Sequence[str]) -> float: ...


def tfidf(terms: Sequence[str], documents: int, df: Mapping[str, int]) -> dict[str, float]:
    counts = Counter(terms)
    vec = {w: (1 + math.log(c)) * math.log((documents + 1) / (df.get(w, 0) + 1))
           for w, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def bound(mine: Mapping[str, float], theirs: Sequence[str]) -> float:
    """The most the cosine of ``mine`` (a unit vector from ``tfidf``) with any unit vector
    over ``theirs`` can be, whatever their weights: the length of ``mine`` on the shared terms
    (Cauchy-Schwarz). Needs no document frequency of their other terms."""
    return math.sqrt(sum(mine[w] ** 2 for w in set(theirs) if w in mine))


class Lexical:
    """TF-IDF cosine over story terms; the new article's vector is computed once."""

    def __init__(self, documents: int, df: Mapping[str, int]) -> None:
        self.documents = documents
        self.df = df
        self._mine: tuple[int, dict[str, float]] | None = None

    def __call__(self, mine: Sequence[str], theirs: Sequence[str]) -> float:
        if self._mine is None or self._mine[0] != id(mine):
            self._mine = (id(mine), tfidf(mine, self.documents, self.df))
        return cosine(self._mine[1], tfidf(theirs, self.documents, self.df))
