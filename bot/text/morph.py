"""Lemmas with pymorphy3 (DAWG2 with the fast extra), cached: news vocabulary is Zipfian, so a
cache of a hundred thousand forms answers nearly every lookup without the analyser (and stays
near 25 MB)."""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pymorphy3

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[а-яёa-z0-9]+(?:[-'][а-яёa-z0-9]+)*", re.IGNORECASE)


@cache
def analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=100_000)
def lemma(word: str) -> str:
    """Normal form of a lower-case word; Latin words and numbers are returned as they are."""
    if not word or not ("а" <= word[0] <= "я" or word[0] == "ё" or "а" <= word[-1] <= "я"):
        return word
    return analyzer().parse(word)[0].normal_form.replace("ё", "е")


def words(text: str) -> list[str]:
    """Lower-case word tokens (hyphenated words kept whole), ё folded to е."""
    return [w.lower().replace("ё", "е") for w in _WORD.findall(text)]


def lemmas(text: str) -> list[str]:
    return [lemma(w) for w in words(text)]
