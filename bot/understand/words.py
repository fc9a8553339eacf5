"""Word lemmas for the understanding stages (bot.text.morph caches them by the lower-case
word; a second cache keyed by the token as written would hold every word twice)."""

from __future__ import annotations

import re

from bot.text.morph import lemma
from bot.text.normalize import STOP_WORDS

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[а-яёa-z0-9]+(?:[-'][а-яёa-z0-9]+)*", re.IGNORECASE)


def token_lemma(token: str) -> str:
    """The lemma of a token as written (case and ё folded first)."""
    return lemma(token.lower().replace("ё", "е"))


def content_words(text: str) -> list[str]:
    """Lemmas of a text's content words (stop words and one-letter words left out)."""
    out = []
    for w in _WORD.findall(text):
        lem = token_lemma(w)
        if lem not in STOP_WORDS and (len(lem) > 1 or lem.isdigit()):
            out.append(lem)
    return out
