"""What reprint detection knows of an article: its shingles, its lede, and its windows.

Shingles never cross a paragraph boundary, so dropping, adding or reordering paragraphs (what
outlets do to a release) leaves every other shingle intact. Windows are runs of ``WINDOW``
shingles that restart at each paragraph: an excerpt, a reordered reprint or one with a lead-in
line shares whole windows with its original, which is what the LSH index looks for. Pure code.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from bot.text.normalize import content_lemmas
from bot.text.shingles import shingle_sequence, shingles

K = 3  # words per shingle
WINDOW = 24  # shingles per window
HEAD = 12  # shingles of a paragraph's head window
MIN_PARAGRAPH = 6  # shingles: shorter paragraphs (lead-in lines, captions) make no window
LEDE_MIN = 8  # shingles: the lede is the first paragraph at least this long
SHORT_WORDS = 50  # texts with fewer content words are judged with their title


@dataclass(frozen=True)
class Fingerprint:
    words: int  # content lemmas in the text
    shingles: frozenset[int]
    lede: frozenset[int]
    title: frozenset[int]
    windows: tuple[frozenset[int], ...]
    heads: tuple[frozenset[int], ...] = ()  # the first HEAD shingles of each paragraph

    @property
    def index_windows(self) -> tuple[frozenset[int], ...]:
        """What goes in the index: the lede's head, then the first windows (the lede area)."""
        return self.heads[:1] + self.windows

    @property
    def short(self) -> bool:
        return self.words < SHORT_WORDS


def fingerprint(title: str, text: str) -> Fingerprint:
    paragraphs = [content_lemmas(p) for p in text.split("\n\n")]
    per_paragraph = [shingle_sequence(p, K) for p in paragraphs if p]
    return from_shingles(per_paragraph, frozenset(shingles(content_lemmas(title), 2)),
                         words=sum(len(p) for p in paragraphs))


def from_shingles(per_paragraph: list[list[int]], title_shingles: frozenset[int],
                  words: int) -> Fingerprint:
    """A fingerprint from each paragraph's shingles in text order."""
    all_shingles = frozenset(s for p in per_paragraph for s in p)
    lede = next((frozenset(p) for p in per_paragraph if len(p) >= LEDE_MIN), all_shingles)
    windows: list[frozenset[int]] = []
    heads: list[frozenset[int]] = []
    for p in per_paragraph:
        if len(p) < MIN_PARAGRAPH:
            continue
        if len(p) >= HEAD:
            heads.append(frozenset(p[:HEAD]))
        chunks = [p[i:i + WINDOW] for i in range(0, len(p), WINDOW)]
        if len(chunks) > 1 and len(chunks[-1]) < WINDOW // 2:
            tail = chunks.pop()
            chunks[-1] = chunks[-1] + tail
        windows.extend(frozenset(c) for c in chunks)
    if not windows and (all_shingles or title_shingles):
        windows = [all_shingles]
    if words < SHORT_WORDS and windows:  # a short text is found by its title too
        windows[0] = windows[0] | title_shingles
    return Fingerprint(words=words, shingles=all_shingles, lede=lede, title=title_shingles,
                       windows=tuple(windows), heads=tuple(heads))


def pack(values: frozenset[int]) -> bytes:
    return array("I", sorted(values)).tobytes()


def unpack(blob: bytes) -> frozenset[int]:
    a = array("I")
    a.frombytes(blob)
    return frozenset(a)
