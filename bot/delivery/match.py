"""Does a story match a chat's filters? Pure.

A chat matches when any chosen topic, place or followed word matches and no excluded word does;
no filters at all means everything. Words are matched by lemma stem: a followed word's lemma
without a final vowel, й or ь must begin a lemma of the story ("химия" -> "хими" matches
"химической", "химик"; not "химчистка"), so Russian inflection and derivation both match.
Phrases match consecutive lemmas the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import FilterValues
from bot.text.morph import lemma, words

_SOFT_END = set("аеёиоуыэюяйь")
MIN_STEM = 4


def stem(word: str) -> str:
    lem = lemma(word.lower().replace("ё", "е"))
    if len(lem) > MIN_STEM and lem[-1] in _SOFT_END:
        return lem[:-1]
    return lem


def phrase_stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(phrase))


def _word_matches(pattern: str, lem: str) -> bool:
    if len(pattern) < MIN_STEM:
        return lem == pattern
    return lem.startswith(pattern)


def contains(lemmas: list[str], pattern: tuple[str, ...]) -> bool:
    if not pattern:
        return False
    n = len(pattern)
    for i in range(len(lemmas) - n + 1):
        if all(_word_matches(p, lemmas[i + j]) for j, p in enumerate(pattern)):
            return True
    return False


@dataclass(frozen=True)
class Filters:
    topics: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    follow: tuple[tuple[str, ...], ...] = ()  # phrase stems
    exclude: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.topics or self.places or self.follow)


@dataclass(frozen=True)
class StoryFacts:
    topics: frozenset[str]
    places: frozenset[str]
    lemmas: list[str]  # title and text, in order


def filters_from_values(values: FilterValues) -> Filters:
    return Filters(topics=frozenset(values.get("topic", ())),
                   places=frozenset(values.get("place", ())),
                   follow=tuple(phrase_stems(v) for v in values.get("follow", ())),
                   exclude=tuple(phrase_stems(v) for v in values.get("exclude", ())))


def story_lemmas(title: str, text: str) -> list[str]:
    return [lemma(w) for w in words(f"{title}\n{text}")]


def matches(filters: Filters, facts: StoryFacts) -> bool:
    if any(contains(facts.lemmas, p) for p in filters.exclude):
        return False
    if filters.empty:
        return True
    return bool(filters.topics & facts.topics or filters.places & facts.places
                or any(contains(facts.lemmas, p) for p in filters.follow))


_TOKEN = re.compile(r"\w+")


def fts_query(text: str, *, any_word: bool = False, max_words: int = 8) -> str | None:
    """An FTS5 query over the lemma index for what a user typed: each word by its lemma stem
    as a prefix (so "химия" finds "химический"), all words required unless ``any_word``.
    Only word characters reach the query, so user input cannot inject FTS5 syntax."""
    terms: list[str] = []
    for w in words(text)[:max_words]:
        for part in _TOKEN.findall(stem(w)):
            term = f'"{part}"' + ("*" if len(part) >= MIN_STEM else "")
            if term not in terms:
                terms.append(term)
    if not terms:
        return None
    return (" OR " if any_word else " AND ").join(terms)
