"""Extractive summaries that add to the title: one to three whole sentences, in their order.

The reader sees the title first, so a sentence earns its place by what the title does not say:
names (people, organisations, places), numbers, and content words the title lacks. The lead
stays when it carries who and what beyond the title; a lead that only restates the title gives
way. Sentences are scored by position (news put the essentials first), centrality (the
article's frequent vocabulary), what they add (to the title and to the sentences already
chosen) and how much of the title they merely repeat. Site chrome is never chosen. The best
sentences are taken greedily while they fit the length limit, until the summary holds a third
of it (a long lead says enough: the figures carry the numbers), then put back in order. A
sentence that adds nothing to the title and the sentences chosen is never taken.

Key figures come from the sentences the summary leaves out (bot/understand/figures.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from razdel import sentenize

from bot.ingest.clean import is_chrome
from bot.understand.figures import key_figures
from bot.understand.words import content_words

MAX_CHARS = 350
MAX_SENTENCES = 3
MIN_SENTENCE = 25
MAX_CANDIDATES = 15  # sentences considered: news say what matters first
FILL = 0.3  # no further sentence once the summary holds this share of the limit
# Score weights, chosen on the ria.ru training rows outside the evaluation file
# (bench/eval_understanding.py --tune prints the grid); the evaluation file gives the figure.
# FILL and these weights: the best ROUGE-1 among those whose summary or figures add a name or
# number to the title in >= 85% of those rows; a title repeat's penalty did not help (0).
W_POSITION = 3.0
W_CENTRALITY = 0.5
W_NEW = 0.5  # share of the sentence's content words that the title and the summary lack
W_NAME = 0.3  # per name the title and the summary lack (up to three)
W_NUMBER = 0.3  # per number the title and the summary lack (up to three)
W_REPEAT = 0.0  # share of the title the sentence repeats
LEAD_ADDS = 2  # new names, numbers or content words the lead must bring to stay first

_NAME = re.compile(r"(?<![.!?…]\s)(?<!^)\b[А-ЯЁA-Z][а-яёa-z]+(?:-[А-ЯЁA-Z]?[а-яёa-z]+)?|"
                   r"\b[А-ЯЁA-Z]{2,}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Summary:
    text: str
    sentences: tuple[str, ...]
    key_figures: tuple[str, ...]


def split_sentences(text: str) -> list[str]:
    return [s for s, _ in paragraph_sentences(text)]


def paragraph_sentences(text: str) -> list[tuple[str, int]]:
    """(sentence, paragraph number) of each sentence (razdel), paragraphs split at blank
    lines."""
    out = []
    for n, paragraph in enumerate(text.split("\n\n")):
        for s in sentenize(paragraph):
            sentence = s.text.strip()
            if sentence:
                out.append((sentence, n))
    return out


def names(sentence: str) -> set[str]:
    """Capitalised words past the sentence start and abbreviations, lower-cased."""
    return {m.group(0).lower().replace("ё", "е") for m in _NAME.finditer(sentence)}


def numbers(sentence: str) -> set[str]:
    return {m.group(0).replace(",", ".") for m in _NUMBER.finditer(sentence)}


def _stems(words: set[str]) -> set[str]:
    """Names compared by their first five letters ("Беларусью" and "Беларусь")."""
    return {w[:5] for w in words}


def summarize(title: str, text: str, max_chars: int = MAX_CHARS,
              parse: bool = False) -> Summary:
    """The summary and the key figures of one article; `parse` lets the figures use the
    syntax model."""
    pairs = paragraph_sentences(text)
    sentences = [s for s, _ in pairs]
    candidates = [(i, s) for i, s in enumerate(sentences)
                  if len(s) >= MIN_SENTENCE and not is_chrome(s) and any(
                      c.isalpha() for c in s) and s.count("«") == s.count("»")][:MAX_CANDIDATES]
    chosen = _choose(title, candidates, max_chars) if candidates else []
    figures = key_figures(title, sentences, paragraph_of=[p for _, p in pairs],
                          skip=[i for i, _ in chosen], parse=parse)
    parts = tuple(s for _, s in chosen)
    return Summary(" ".join(parts), parts, tuple(figures))


def _choose(title: str, candidates: list[tuple[int, str]],
            max_chars: int) -> list[tuple[int, str]]:
    lemmas = {i: set(content_words(s)) for i, s in candidates}
    freq = Counter(w for ls in lemmas.values() for w in ls)
    top = max(freq.values()) if freq else 1
    title_words = set(content_words(title))
    known_words = set(title_words)
    known_names = _stems(names(title) | {w.lower() for w in title.split()[:1]})
    known_numbers = numbers(title)
    feats = {}
    for rank, (i, s) in enumerate(candidates):
        ls = lemmas[i]
        centrality = sum(freq[w] for w in ls) / (top * (len(ls) + 3)) if ls else 0.0
        feats[i] = (1.0 / (1 + rank), centrality, _stems(names(s)), numbers(s))

    def score(i: int) -> float:
        position, centrality, found_names, found_numbers = feats[i]
        ls = lemmas[i]
        new = len(ls - known_words) / (len(ls) + 3)
        repeat = len(ls & title_words) / (len(title_words) or 1)
        return (W_POSITION * position + W_CENTRALITY * centrality + W_NEW * new
                + W_NAME * min(3, len(found_names - known_names))
                + W_NUMBER * min(3, len(found_numbers - known_numbers)) - W_REPEAT * repeat)

    def _adds(i: int) -> bool:
        """Whether a sentence says anything the title and the summary do not."""
        return bool(lemmas[i] - known_words or feats[i][2] - known_names
                    or feats[i][3] - known_numbers)

    chosen: list[tuple[int, str]] = []
    length = 0

    def take(i: int, s: str) -> None:
        nonlocal length
        chosen.append((i, s))
        length += len(s) + (1 if len(chosen) > 1 else 0)
        known_words.update(lemmas[i])
        known_names.update(feats[i][2])
        known_numbers.update(feats[i][3])

    lead_i, lead = candidates[0]
    adds = (len(feats[lead_i][2] - known_names) + len(feats[lead_i][3] - known_numbers)
            + len(lemmas[lead_i] - known_words))
    if adds >= LEAD_ADDS and len(lead) <= max_chars:
        take(lead_i, lead)
    rest = {i: s for i, s in candidates if i != lead_i or not chosen}
    while rest and len(chosen) < MAX_SENTENCES:
        if length >= FILL * max_chars:
            break  # enough said: the figures carry the rest
        fits = [i for i, s in rest.items() if length + len(s) + (1 if chosen else 0)
                <= max_chars and _adds(i)]
        if not fits:
            break
        best = max(fits, key=lambda i: (score(i), -i))
        take(best, rest.pop(best))
    if not chosen:  # no sentence fits: the best one, whole, rather than a cut one
        best = max((i for i, _ in candidates), key=lambda i: (score(i), -i))
        chosen = [(best, dict(candidates)[best])]
    chosen.sort()
    return chosen
