"""Is one article a reprint of another? Verification on shingles, after the index proposes.

A reprint shares most of its text with the original (containment, not Jaccard: an excerpt of
the first 40% is still a reprint) and it carries the original's lede. Follow-up articles that
reuse a background paragraph share text too, but not the lede; the lede test keeps them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dedup.fingerprint import Fingerprint

NEAR_DUPLICATE = 0.6  # Jaccard at which two texts are the same whatever their ledes
MIN_CONTAINMENT = 0.5
MIN_LEDE = 0.8
MIN_SHARED = 3  # shingles in common, at the very least


@dataclass(frozen=True)
class Comparison:
    jaccard: float
    containment: float
    lede: float
    shared: int

    @property
    def similarity(self) -> float:
        """One number for people: Jaccard for near-copies, else containment backed by the lede."""
        return round(max(self.jaccard, min(self.containment, self.lede)), 3)

    @property
    def is_reprint(self) -> bool:
        if self.shared < MIN_SHARED:
            return False
        if self.jaccard >= NEAR_DUPLICATE:
            return True
        return self.containment >= MIN_CONTAINMENT and self.lede >= MIN_LEDE


def _share(part: frozenset[int], whole: frozenset[int]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def compare(a: Fingerprint, b: Fingerprint) -> Comparison:
    # A very short text is judged on its title and text together, never on the text alone.
    if a.short or b.short:
        sa, sb = a.shingles | a.title, b.shingles | b.title
    else:
        sa, sb = a.shingles, b.shingles
    if not sa or not sb:
        return Comparison(0.0, 0.0, 0.0, 0)
    shared = len(sa & sb)
    jaccard = shared / len(sa | sb)
    containment = shared / min(len(sa), len(sb))
    lede = max(_share(a.lede, sb), _share(b.lede, sa))
    return Comparison(jaccard, containment, lede, shared)
