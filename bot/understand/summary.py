"""Extractive summaries: one to three whole sentences of the article, in their order.

Sentences (razdel) are scored by position (the lead matters most in news), centrality (how
much of the article's frequent vocabulary they carry), overlap with the title, and figures.
Site chrome is never chosen (the cleaner's rules, plus lines without a verb-like length). The
best sentences are taken greedily while they fit the length limit (a third only while the
first two are short), then put back in order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from razdel import sentenize

from bot.ingest.clean import is_chrome
from bot.text.normalize import content_lemmas
from bot.understand.figures import FIGURE, key_figures

MAX_CHARS = 350
MAX_SENTENCES = 3
MIN_SENTENCE = 25
ENOUGH = 0.3  # past two sentences, stop once the summary holds this share of the limit
# Score weights, chosen on the even-numbered ria.ru articles and checked on the odd ones
# (ROUGE-1 33.5 there against Lead-2's 33.3); bench/eval_understanding.py measures all.
W_POSITION = 1.2
W_CENTRALITY = 0.5
W_TITLE = 2.5
W_FIGURE = 0.2


@dataclass(frozen=True)
class Summary:
    text: str
    sentences: tuple[str, ...]
    key_figures: tuple[str, ...]


def split_sentences(text: str) -> list[str]:
    out = []
    for paragraph in text.split("\n\n"):
        for s in sentenize(paragraph):
            sentence = s.text.strip()
            if sentence:
                out.append(sentence)
    return out


def _has_figure(sentence: str) -> bool:
    return any(m.group("scale") or m.group("unit") for m in FIGURE.finditer(sentence))


def summarize(title: str, text: str, max_chars: int = MAX_CHARS) -> Summary:
    sentences = split_sentences(text)
    figures = tuple(key_figures(sentences))
    candidates = [(i, s) for i, s in enumerate(sentences)
                  if len(s) >= MIN_SENTENCE and not is_chrome(s) and any(
                      c.isalpha() for c in s)]
    if not candidates:
        return Summary("", (), figures)
    lemmas = {i: content_lemmas(s) for i, s in candidates}
    freq = Counter(w for ls in lemmas.values() for w in set(ls))
    top = max(freq.values()) if freq else 1
    title_set = set(content_lemmas(title))
    scored = []
    for rank, (i, s) in enumerate(candidates):
        ls = set(lemmas[i])
        centrality = sum(freq[w] for w in ls) / (top * (len(ls) + 3)) if ls else 0.0
        overlap = len(ls & title_set) / (len(title_set) or 1)
        position = 1.0 / (1 + rank)
        score = (W_POSITION * position + W_CENTRALITY * centrality + W_TITLE * overlap
                 + W_FIGURE * _has_figure(s))
        scored.append((score, i, s))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[tuple[int, str]] = []
    length = 0
    for _score, i, s in scored:
        extra = len(s) + (1 if chosen else 0)
        if length + extra <= max_chars:
            chosen.append((i, s))
            length += extra
        if len(chosen) == MAX_SENTENCES or (len(chosen) >= 2 and length >= ENOUGH * max_chars):
            break
    if not chosen:  # no sentence fits: the best one, whole, rather than a cut one
        chosen = [(scored[0][1], scored[0][2])]
    chosen.sort()
    parts = tuple(s for _, s in chosen)
    return Summary(" ".join(parts), parts, figures)
