"""The reprint and story index: fingerprints, LSH bands, lemma document frequencies, and the
candidates a new article is compared with. Functions run on the transaction of
``Store.place`` (or a read), so that placing one article is atomic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.dedup.fingerprint import Fingerprint, pack, unpack
from bot.dedup.outlets import outlet_of
from bot.dedup.placement import ReprintCandidate, StoryCandidate
from bot.storage.db import Tx, from_db_time


async def lsh_candidates(tx: Tx, keys: list[int], *, exclude: int | None = None,
                         limit: int = 50) -> list[int]:
    """Articles sharing at least one band key, most shared keys first."""
    if not keys:
        return []
    unique = list(dict.fromkeys(keys))
    rows = await tx.fetchall(
        f"SELECT article_id, COUNT(*) AS n FROM lsh_bands WHERE key IN"
        f" ({','.join('?' * len(unique))}) GROUP BY article_id ORDER BY n DESC LIMIT ?",
        [*unique, limit + 1])
    return [r[0] for r in rows if r[0] != exclude][:limit]


_ARTICLE_FP = (
    "SELECT a.id, a.reprint_of, a.story_id, COALESCE(a.published_at, a.fetched_at) AS at,"
    " a.url, a.origin, a.guid, f.words, f.shingles, f.lede, f.title, f.story_terms"
    " FROM articles a JOIN article_fingerprints f ON f.article_id = a.id")


def _label(url: str | None, origin: str, guid: str | None) -> str:
    if url:
        return url
    return f"{origin}#{guid}" if guid else origin


async def fingerprints(tx: Tx, ids: list[int]) -> list[ReprintCandidate]:
    if not ids:
        return []
    rows = await tx.fetchall(f"{_ARTICLE_FP} WHERE a.id IN ({','.join('?' * len(ids))})", ids)
    out = []
    for r in rows:
        fp = Fingerprint(words=r["words"], shingles=unpack(r["shingles"]),
                         lede=unpack(r["lede"]), title=unpack(r["title"]), windows=())
        out.append(ReprintCandidate(r["id"], fp, r["reprint_of"], r["story_id"],
                                    from_db_time(r["at"]), outlet_of(r["url"], r["origin"]),
                                    _label(r["url"], r["origin"], r["guid"]),
                                    tuple(r["story_terms"].split())))
    return out


async def reprint_candidates(tx: Tx, keys: list[int], *, exclude: int | None = None
                             ) -> list[ReprintCandidate]:
    """The stored articles whose LSH bands the keys hit, with their fingerprints."""
    return await fingerprints(tx, await lsh_candidates(tx, keys, exclude=exclude))


async def save_fingerprint(tx: Tx, article_id: int, fp: Fingerprint, index_keys: list[int],
                           story_terms: list[str]) -> None:
    await tx.execute(
        "INSERT INTO article_fingerprints (article_id, words, shingles, lede, title,"
        " story_terms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET"
        " words = excluded.words, shingles = excluded.shingles, lede = excluded.lede,"
        " title = excluded.title, story_terms = excluded.story_terms",
        (article_id, fp.words, pack(fp.shingles), pack(fp.lede), pack(fp.title),
         " ".join(story_terms)))
    await tx.executemany("INSERT INTO lsh_bands (key, article_id) VALUES (?, ?)"
                         " ON CONFLICT DO NOTHING",
                         [(k, article_id) for k in dict.fromkeys(index_keys)])


async def add_document_frequencies(tx: Tx, lemmas: set[str]) -> None:
    # In sorted order: two writers that share lemmas lock their rows in the same order.
    await tx.executemany(
        "INSERT INTO lemma_df (lemma, df) VALUES (?, 1)"
        " ON CONFLICT (lemma) DO UPDATE SET df = lemma_df.df + 1", [(w,) for w in sorted(lemmas)])
    await tx.execute(
        "INSERT INTO corpus_stats (key, value) VALUES ('documents', 1)"
        " ON CONFLICT (key) DO UPDATE SET value = corpus_stats.value + 1")


async def document_count(tx: Tx) -> int:
    return int(await tx.fetchval("SELECT value FROM corpus_stats WHERE key = 'documents'")
               or 0)


async def document_frequencies(tx: Tx, lemmas: Iterable[str]) -> tuple[int, dict[str, int]]:
    """(documents, df of each lemma that has one)."""
    words = list(set(lemmas))
    total = await document_count(tx)
    df: dict[str, int] = {}
    for i in range(0, len(words), 500):
        chunk = words[i:i + 500]
        for r in await tx.fetchall(f"SELECT lemma, df FROM lemma_df WHERE lemma IN"
                                   f" ({','.join('?' * len(chunk))})", chunk):
            df[r[0]] = r[1]
    return int(total), df


FULL_SCAN_MAX = 500  # articles in the window compared one by one; beyond, a prefilter
PREFILTER_TERMS = 16  # the rarest of the new article's terms looked up in the search index
PREFILTER_HITS = 1000  # search hits considered (best first) before the time window applies
PREFILTER_STORIES = 200  # stories whose articles are compared


Known = dict[int, tuple[tuple[str, ...], str, datetime | None]]
KNOWN_MAX = 50_000  # candidates whose terms, outlet and time a Store keeps


async def story_candidates(tx: Tx, start: datetime, end: datetime, exclude: int,
                           terms: Iterable[str] = (), df: dict[str, int] | None = None,
                           known: Known | None = None) -> list[StoryCandidate]:
    """Articles with a story (reprints too: their headlines and leads describe the story),
    published between ``start`` and ``end``.

    When the window holds more than FULL_SCAN_MAX articles (a busy archive: a thousand feeds
    bring tens of thousands in 72 hours), only the articles of the stories that share the new
    article's rarest terms are returned, found through the lemma search index, so that the
    cost of placing an article does not grow with the archive.

    ``known``: what does not change of a stored article (its story terms, outlet and time),
    kept by the caller between calls, so that only the articles new to it are read whole.
    """
    window = (start, end)
    select = ("SELECT a.id, a.story_id"
              " FROM articles a JOIN article_fingerprints f ON f.article_id = a.id"
              " WHERE COALESCE(a.published_at, a.fetched_at) BETWEEN ? AND ?"
              " AND a.story_id IS NOT NULL AND a.id != ?")
    count = await tx.fetchval("SELECT COUNT(*) FROM articles WHERE COALESCE(published_at,"
                              " fetched_at) BETWEEN ? AND ?", window)
    rare = sorted({t for t in terms if t.isalnum()}, key=lambda t: ((df or {}).get(t, 0), t))
    if count <= FULL_SCAN_MAX or not rare:
        rows = await tx.fetchall(select, (*window, exclude))
    else:
        query = " OR ".join(f'"{t}"' for t in rare[:PREFILTER_TERMS])
        first = await tx.fetchval("SELECT MIN(id) FROM articles WHERE COALESCE(published_at,"
                                  " fetched_at) BETWEEN ? AND ?", window) or 0
        rows = await tx.fetchall(
            f"{select} AND a.story_id IN (SELECT DISTINCT h.story_id FROM ("
            " SELECT a2.story_id, COALESCE(a2.published_at, a2.fetched_at) AS at FROM"
            f" ({tx.dialect.search_prefilter}) hit"
            " JOIN articles a2 ON a2.id = hit.id) h WHERE h.at BETWEEN ? AND ? LIMIT ?)",
            (*window, exclude, tx.dialect.search_query(query), first, PREFILTER_HITS, *window,
             PREFILTER_STORIES))
    known = {} if known is None else known
    new = [r[0] for r in rows if r[0] not in known]
    if len(known) + len(new) > KNOWN_MAX:
        known.clear()
        new = [r[0] for r in rows]
    for i in range(0, len(new), 500):
        chunk = new[i:i + 500]
        for r in await tx.fetchall(
                "SELECT a.id, a.url, a.origin, f.story_terms,"
                " COALESCE(a.published_at, a.fetched_at) AS at"
                " FROM articles a JOIN article_fingerprints f ON f.article_id = a.id"
                f" WHERE a.id IN ({','.join('?' * len(chunk))})", chunk):
            known[r["id"]] = (tuple(r["story_terms"].split()), outlet_of(r["url"], r["origin"]),
                              from_db_time(r["at"]))
    return [StoryCandidate(r[0], r[1], *known[r[0]]) for r in rows if r[0] in known]
