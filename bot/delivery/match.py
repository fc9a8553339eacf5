"""Does a story match a chat's filters? Pure.

Filters narrow: any of the chosen topics, AND any of the chosen places, AND any of the followed
words or names (each dimension only when something is chosen in it), and none of the excluded
words, and not only from muted outlets. No filters at all means every story. Words are matched
by lemma stem: a followed word's lemma
without a final vowel, й or ь must begin a lemma of the story ("химия" -> "хими" matches
"химической", "химик"; not "химчистка"), so Russian inflection and derivation both match.
Phrases match consecutive lemmas the same way. A followed name also matches the normal form
of a person or organisation that NER found ("Владимир Мазур" for "Владимира Мазура").
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
    mutes: frozenset[str] = frozenset()  # outlet names
    follow_names: frozenset[str] = frozenset()  # the followed values, case-folded

    @property
    def empty(self) -> bool:
        return not (self.topics or self.places or self.follow or self.exclude or self.mutes)


@dataclass(frozen=True)
class StoryFacts:
    topics: frozenset[str]
    places: frozenset[str]
    lemmas: list[str]  # title and text, in order
    names: frozenset[str] = frozenset()  # people and organisations, case-folded
    outlets: frozenset[str] = frozenset()  # the outlets that carried it


def filters_from_values(values: FilterValues) -> Filters:
    return Filters(topics=frozenset(values.get("topic", ())),
                   places=frozenset(values.get("place", ())),
                   follow=tuple(phrase_stems(v) for v in values.get("follow", ())),
                   exclude=tuple(phrase_stems(v) for v in values.get("exclude", ())),
                   mutes=frozenset(values.get("mute", ())),
                   follow_names=frozenset(v.casefold() for v in values.get("follow", ())))


def story_lemmas(title: str, text: str) -> list[str]:
    return [lemma(w) for w in words(f"{title}\n{text}")]


def _names_match(followed: frozenset[str], names: frozenset[str]) -> bool:
    return any(f == n or f in n.split() for f in followed for n in names)


def matches(filters: Filters, facts: StoryFacts) -> bool:
    if any(contains(facts.lemmas, p) for p in filters.exclude):
        return False
    if filters.mutes and facts.outlets and facts.outlets <= filters.mutes:
        return False
    if filters.topics and not filters.topics & facts.topics:
        return False
    if filters.places and not filters.places & facts.places:
        return False
    return not filters.follow or any(contains(facts.lemmas, p) for p in filters.follow) \
        or _names_match(filters.follow_names, facts.names)


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
