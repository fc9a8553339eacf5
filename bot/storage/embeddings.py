"""Sentence vectors of articles (the story signal in other words), computed once and kept: an
article's vector is asked for only when it meets an uncertain candidate, and reused whenever it
is one. A vector is opaque bytes tagged with the model that made it; a row of another model is
stale and made again. Plain SQL (INTEGER, TEXT, BLOB; ON CONFLICT upsert), as a PostgreSQL
twin can copy with BYTEA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.storage.db import Tx

SOURCE_CHARS = 2000  # of an article's text read to make its vector (the encoder reads less)


async def vectors(tx: Tx, ids: Sequence[int], model: str) -> dict[int, bytes]:
    """The stored vectors of ``ids`` made by ``model``."""
    if not ids:
        return {}
    rows = await tx.fetchall(
        "SELECT article_id, vector FROM article_embeddings WHERE model = ? AND article_id IN"
        f" ({','.join('?' * len(ids))})", [model, *ids])
    return {r[0]: bytes(r[1]) for r in rows}


async def sources(tx: Tx, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Title and the start of the text of each article, to make its vector from."""
    if not ids:
        return {}
    rows = await tx.fetchall(
        f"SELECT id, title, SUBSTR(text, 1, {SOURCE_CHARS}) FROM articles WHERE id IN"
        f" ({','.join('?' * len(ids))})", list(ids))
    return {r[0]: (r[1], r[2]) for r in rows}


async def save(tx: Tx, rows: Iterable[tuple[int, bytes]], model: str) -> None:
    await tx.executemany(
        "INSERT INTO article_embeddings (article_id, model, vector) VALUES (?, ?, ?)"
        " ON CONFLICT (article_id) DO UPDATE SET model = excluded.model,"
        " vector = excluded.vector", [(i, model, v) for i, v in rows])
