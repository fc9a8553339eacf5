"""``pressbot migrate --to postgresql://...``: an SQLite archive copied into PostgreSQL.

Every table is copied with its ids (sources, articles, stories, fingerprints, LSH bands, lemma
document frequencies, topics, entities, chats and their filters, the outbox, deliveries, story
updates, teasers, state), in one PostgreSQL transaction with the cyclic foreign keys deferred,
through COPY in batches of bounded size. The search index cannot be read back out of SQLite's
contentless FTS5 table; it is built again from the same lemmas of the same articles, as
``pressbot reindex`` does. Before the commit the rows of every table are counted on both sides;
a difference rolls everything back. A target that holds anything is refused unless ``force``,
which empties it first. The identity sequences then continue after the copied ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.storage.db import Database, DatabaseError, from_db_time
from bot.storage.pg_schema import IDENTITY_TABLES
from bot.storage.postgres import PgDatabase, PgTx
from bot.storage.stories import SEARCH_BODY_LEMMAS

# In the order of their foreign keys (the cycles among articles and stories are deferred).
TABLES = ("sources", "articles", "stories", "article_fingerprints", "lsh_bands", "lemma_df",
          "corpus_stats", "article_topics", "article_entities", "chats", "chat_filters",
          "outbox", "deliveries", "search_indexed", "story_updates", "teasers", "state",
          "article_embeddings")
SEARCH = "article_search"
BATCH = 2000  # rows read and written at a time
SEARCH_BATCH = 200  # articles lemmatized at a time

Lemmatize = Callable[[str, str], tuple[list[str], list[str]]]


class TargetNotEmpty(DatabaseError):
    """The PostgreSQL database already holds data (and ``force`` was not given)."""


@dataclass(frozen=True)
class Count:
    table: str
    source: int  # rows in SQLite (for the search index: the articles indexed)
    target: int  # rows in PostgreSQL after the copy

    @property
    def ok(self) -> bool:
        return self.source == self.target


async def _columns(tx: PgTx, table: str) -> list[tuple[str, str]]:
    rows = await tx.fetchall(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,))
    return [(r[0], r[1]) for r in rows]


def _time(value: Any) -> datetime | None:
    parsed = from_db_time(value)
    if parsed is not None and parsed.tzinfo is None:  # written by a very old pressbot
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _converter(data_type: str) -> Callable[[Any], Any] | None:
    if data_type == "timestamp with time zone":
        return _time
    if data_type == "double precision":
        return lambda v: float(v) if isinstance(v, int) else v
    if data_type == "bytea":
        return lambda v: v.encode("utf-8") if isinstance(v, str) else v
    return None


async def target_counts(target: PgDatabase) -> dict[str, int]:
    async with target.read() as tx:
        return {t: int(await tx.fetchval(f"SELECT COUNT(*) FROM {t}"))
                for t in (*TABLES, SEARCH)}


async def _copy_table(src, dst: PgTx, table: str) -> None:
    columns = await _columns(dst, table)
    if not columns:
        raise DatabaseError(f"the PostgreSQL schema has no table {table}")
    names = [c for c, _ in columns]
    have = {r[1] for r in await src.fetchall(f"PRAGMA table_info({table})")}
    missing = [c for c in names if c not in have]
    if missing:
        raise DatabaseError(f"the SQLite table {table} has no column {missing[0]}")
    convert = [(i, f) for i, (_, t) in enumerate(columns) if (f := _converter(t)) is not None]
    async for batch in src.iterate(f"SELECT {', '.join(names)} FROM {table}", size=BATCH):
        records = []
        for row in batch:
            values = list(row)
            for i, f in convert:
                try:
                    values[i] = f(values[i])
                except (ValueError, TypeError):
                    raise DatabaseError(f"{table}.{names[i]}: {str(values[i])[:60]!r} is not a"
                                        " time") from None
            records.append(tuple(values))
        await dst.copy_rows(table, names, records)


async def _rebuild_search(src, dst: PgTx, lemmatize: Lemmatize) -> None:
    last = 0
    while True:
        rows = await src.fetchall(
            "SELECT a.id, a.title, a.text FROM search_indexed s JOIN articles a"
            " ON a.id = s.article_id WHERE s.article_id > ? ORDER BY s.article_id LIMIT ?",
            (last, SEARCH_BATCH))
        if not rows:
            return
        batch = []
        for r in rows:
            title, body = lemmatize(r[1], r[2])
            batch.append((r[0], " ".join(title), " ".join(body[:SEARCH_BODY_LEMMAS])))
        await dst.executemany(dst.dialect.search_insert, batch)
        last = rows[-1][0]


async def copy_archive(source: Database, target: PgDatabase, lemmatize: Lemmatize, *,
                       force: bool = False) -> list[Count]:
    """Copy everything of ``source`` into ``target``; returns the counts of every table
    (all equal, else nothing was committed and DatabaseError says which)."""
    if await source.schema_version() != await target.schema_version():
        raise DatabaseError(f"{source.path} has schema {await source.schema_version()} and"
                            f" {target.path} schema {await target.schema_version()}; this"
                            " pressbot cannot copy between them")
    held = {t: n for t, n in (await target_counts(target)).items() if n}
    if held and not force:
        shown = ", ".join(f"{t} {n}" for t, n in list(held.items())[:4])
        raise TargetNotEmpty(f"{target.path} is not empty ({shown} rows); --force replaces"
                             " its content")
    async with source.read() as src:
        await src.execute("BEGIN")  # one snapshot of the file, even while pressbot runs
        try:
            return await _copy(src, target, lemmatize, bool(held))
        finally:
            await src.execute("ROLLBACK")


async def _copy(src, target: PgDatabase, lemmatize: Lemmatize, empty_first: bool
                ) -> list[Count]:
    expected = {t: int(await src.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}
    expected[SEARCH] = expected["search_indexed"]
    async with target.transaction() as dst:
        if empty_first:
            await dst.execute(f"TRUNCATE {', '.join((*TABLES, SEARCH))} RESTART IDENTITY"
                              " CASCADE")
        await dst.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in TABLES:
            await _copy_table(src, dst, table)
        await _rebuild_search(src, dst, lemmatize)
        for table in IDENTITY_TABLES:
            await dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")
        counts = [Count(t, expected[t], int(await dst.fetchval(f"SELECT COUNT(*) FROM {t}")))
                  for t in (*TABLES, SEARCH)]
        wrong = [c for c in counts if not c.ok]
        if wrong:
            raise DatabaseError(f"{wrong[0].table}: {wrong[0].source} rows in SQLite but"
                                f" {wrong[0].target} copied; nothing was committed")
        await dst.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys hold
    return counts
