"""Bounds on what one feed may hand us: how many entries, how long a text.

Pure functions on plain data. A 60,000-entry feed or a 3 MB entry would otherwise cost minutes
of CPU and gigabytes of memory in the stages after parsing (features, NER, summary).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bot.models import Entry

_PARAGRAPH_END = re.compile(r"\n\s*\n")
_LINE_END = re.compile(r"\n")
_SENTENCE_END = re.compile(r"[.!?…»\"')\]](?=\s)")
_SPACE = re.compile(r"\s")


def newest_indices(dates: Sequence[datetime | None], cap: int) -> list[int]:
    """Indices (ascending) of at most ``cap`` items, the newest first chosen: dated items by
    date, newest first, then undated ones in their order."""
    if cap < 0:
        raise ValueError(f"max_entries must be >= 0, got {cap}")
    if len(dates) <= cap:
        return list(range(len(dates)))

    def rank(i: int) -> tuple[int, float, int]:
        published = dates[i]
        if published is None:
            return (1, 0.0, i)
        return (0, -published.timestamp(), i)

    return sorted(sorted(range(len(dates)), key=rank)[:cap])


def newest(entries: Sequence[Entry], cap: int) -> tuple[list[Entry], int]:
    """At most ``cap`` entries, the newest first chosen (see newest_indices); the kept entries
    stay in feed order. Returns (kept, how many were left out)."""
    chosen = newest_indices([e.published for e in entries], cap)
    return [entries[i] for i in chosen], len(entries) - len(chosen)


def _last_break(pattern: re.Pattern[str], text: str, limit: int, floor: int,
                keep_match: bool) -> int | None:
    """Where to cut: at the last match of ``pattern`` between ``floor`` and ``limit`` (after
    the match when ``keep_match``, before it otherwise); None when there is none."""
    best = None
    for m in pattern.finditer(text, floor, limit + 1):
        best = m.end() if keep_match else m.start()
    return best


def cut_text(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_chars`` characters at the end of a paragraph; returns
    (text, whether it was cut). When no paragraph ends in the second half of the allowance
    (one huge paragraph), the cut falls at a line end, then a sentence end, then a space, and
    only then in the middle of a word."""
    if max_chars <= 0:
        raise ValueError(f"max_article_chars must be > 0, got {max_chars}")
    if len(text) <= max_chars:
        return text, False
    floor = max_chars // 2
    for pattern in (_PARAGRAPH_END, _LINE_END, _SENTENCE_END, _SPACE):
        at = _last_break(pattern, text, max_chars, floor, keep_match=pattern is _SENTENCE_END)
        if at is not None and at > 0:
            return text[:at].rstrip(), True
    return text[:max_chars], True
