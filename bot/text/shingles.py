"""Word shingles as stable 32-bit hashes (crc32 is the same in every process, unlike hash())."""

from __future__ import annotations

from zlib import crc32


def shingle_sequence(tokens: list[str], k: int = 3) -> list[int]:
    """Hashes of the runs of ``k`` consecutive tokens, in text order, first occurrence only
    (the whole text as one shingle when it is shorter than ``k``)."""
    if not tokens:
        return []
    if len(tokens) < k:
        return [crc32(" ".join(tokens).encode("utf-8"))]
    seq = (crc32(" ".join(tokens[i:i + k]).encode("utf-8")) for i in range(len(tokens) - k + 1))
    return list(dict.fromkeys(seq))


def shingles(tokens: list[str], k: int = 3) -> set[int]:
    """Hashes of every run of ``k`` consecutive tokens (the whole text when shorter)."""
    return set(shingle_sequence(tokens, k))


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(a: set[int], b: set[int]) -> float:
    """Share of the smaller set found in the larger: 1.0 when one text holds the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
