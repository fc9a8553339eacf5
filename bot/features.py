"""What the pure stages compute for one article before the store is touched: its fingerprint
and index keys (reprints), story terms and outlet (stories), what understanding made of it, and
its lemmas (subscribers' words, the search index). Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dedup.fingerprint import Fingerprint
from bot.understand.analyzer import Understood


@dataclass(frozen=True)
class Features:
    fingerprint: Fingerprint
    query_keys: list[int]
    index_keys: list[int]
    story_terms: list[str]
    outlet: str
    understood: Understood = field(default_factory=Understood)
    lemmas: list[str] = field(default_factory=list)  # title and text, for subscribers' words
    title_words: int = 0  # how many of ``lemmas`` are the title's

    @property
    def title_lemmas(self) -> list[str]:
        return self.lemmas[:self.title_words]

    @property
    def body_lemmas(self) -> list[str]:
        return self.lemmas[self.title_words:]
