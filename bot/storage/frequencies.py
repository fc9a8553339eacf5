"""The archive's document frequencies, kept in memory between placements.

Placing an article weighs every word of every story candidate by its rarity: in a busy 72-hour
window that is some 15,000 lemmas, read from ``lemma_df`` for each new article (about forty
queries of 500). The counts only ever grow, by one per placed article, so a process that
places the articles itself knows them without asking again: the cache holds the counts it has
read (0 for a lemma the archive lacks), and adds its own placements once they are committed.
The document count is read on every use; when it is not the one the cache expects, another
writer (a second process, ``pressbot ingest`` beside ``run``) has placed articles, and the
cache starts again. A failed transaction empties it too. Bounded: at most MAX_LEMMAS counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage import index
from bot.storage.db import Tx

MAX_LEMMAS = 200_000  # ~20 MB at most


class Frequencies:
    def __init__(self, max_lemmas: int = MAX_LEMMAS) -> None:
        self.max_lemmas = max_lemmas
        self.documents: int | None = None  # as the cache knows it
        self.df: dict[str, int] = {}

    def clear(self) -> None:
        self.documents = None
        self.df.clear()

    async def get(self, tx: Tx, lemmas: Iterable[str]) -> tuple[int, dict[str, int]]:
        """(documents, df of each of ``lemmas`` that has one), as index.document_frequencies
        gives them."""
        wanted = set(lemmas)
        documents = await index.document_count(tx)
        if documents != self.documents:
            self.clear()
            self.documents = documents
        missing = wanted - self.df.keys()
        if missing:
            _, found = await index.document_frequencies(tx, missing)
            if len(self.df) + len(missing) > self.max_lemmas:
                self.df.clear()
            for lemma in missing:
                self.df[lemma] = found.get(lemma, 0)
        return documents, {t: n for t in wanted if (n := self.df[t])}

    def added(self, lemmas: set[str]) -> None:
        """One placement committed, with these lemmas (index.add_document_frequencies)."""
        if self.documents is None:
            return
        self.documents += 1
        for lemma in lemmas:
            if lemma in self.df:
                self.df[lemma] += 1
