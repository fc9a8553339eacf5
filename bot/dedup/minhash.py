"""MinHash signatures of shingle sets and their LSH band keys.

16 permutations in 4 bands of 4 rows: a window shared whole (Jaccard ~1) is found with
certainty, one with Jaccard 0.7 two times in three, unrelated windows (Jaccard < 0.2) almost
never. The permutations are fixed (seeded), so keys stored in SQLite stay valid across restarts
and releases; changing them needs a migration that re-indexes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

NUM_PERM = 16
BANDS = 4
ROWS = NUM_PERM // BANDS
_PRIME = np.uint64((1 << 61) - 1)
_MASK = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(20251123)
_A = _rng.randint(1, 1 << 32, size=NUM_PERM, dtype=np.uint64)
_B = _rng.randint(0, 1 << 32, size=NUM_PERM, dtype=np.uint64)


def signature(values: Iterable[int]) -> np.ndarray:
    """The MinHash signature (uint32[NUM_PERM]) of a set of 32-bit hashes."""
    hv = np.fromiter(values, dtype=np.uint64)
    if hv.size == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    # a < 2^32 and x < 2^32, so a*x + b < 2^64: no wrap-around before the modulus.
    permuted = ((hv[:, None] * _A + _B) % _PRIME) & _MASK
    return permuted.min(axis=0).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (SQLite INTEGER)."""
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS:(band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def signatures(windows: list[frozenset[int]]) -> np.ndarray:
    """MinHash signatures of several sets at once: uint32[len(windows), NUM_PERM]."""
    sizes = [len(w) for w in windows]
    if not windows:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    if min(sizes) == 0:
        return np.stack([signature(w) for w in windows])
    hv = np.fromiter((v for w in windows for v in w), dtype=np.uint64, count=sum(sizes))
    permuted = ((hv[:, None] * _A + _B) % _PRIME) & _MASK
    starts = np.cumsum([0, *sizes[:-1]])
    return np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)


def window_keys(windows) -> list[int]:
    keys: list[int] = []
    for sig in signatures(list(windows)):
        keys.extend(band_keys(sig))
    return keys
