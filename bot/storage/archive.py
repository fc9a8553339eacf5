"""Read-only queries for the web archive: story lists with filters, one story with every outlet
that carried it, source health, weekly counts for the trend charts.

Plain functions taking a ``Database`` and returning dataclasses; nothing here writes. A story's
topics and places are those of its first article (as in Telegram). Lists are ordered by the
story's own time (``started_at``: its first article's), newest first; an index on
``stories (started_at)`` keeps that ordering an index walk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.db import Database, from_db_time, to_db_time

CHUNK = 500  # ids per IN (...) list
CANDIDATES = 2000  # a filter part selecting at most this many articles drives the list
LIST_OUTLETS = 20  # carriers fetched per story in a list (the count is exact regardless)


async def _all(db: Database, sql: str, params=()) -> list:
    async with db.read() as tx:
        return await tx.fetchall(sql, params)


async def _one(db: Database, sql: str, params=()):
    async with db.read() as tx:
        return await tx.fetchone(sql, params)


@dataclass(frozen=True)
class ArchiveFilter:
    """Which stories a list holds. Every part is optional; the parts combine with AND."""

    topic: str | None = None  # topic id of the story's first article
    place: str | None = None  # place tag of the story's first article
    outlet: str | None = None  # a source's name, or a host ("tomsk.gov.ru", "t.me/channel")
    since: datetime | None = None  # story time at or after
    until: datetime | None = None  # story time before
    match: str | None = None  # an FTS5 query over the lemma index (delivery.match.fts_query)


@dataclass(frozen=True)
class Carrier:
    """One article of a story: where it appeared and when."""

    article_id: int
    title: str
    url: str | None
    origin: str
    source: str | None  # the source's name (None: a file ingested by hand, or a removed source)
    at: datetime | None  # published, else fetched
    reprint_of: int | None  # the original article, for a reprint
    similarity: float | None


@dataclass(frozen=True)
class StoryItem:
    """A story in a list."""

    story_id: int
    title: str
    url: str | None  # the first article's
    origin: str
    at: datetime | None  # the story's own time (its first article's)
    updated: datetime | None  # its latest article's
    summary: str | None  # the first article's summary, else the head of its text
    key_figures: tuple[str, ...]
    topics: tuple[str, ...]  # best first
    places: tuple[str, ...]
    carriers: tuple[Carrier, ...]  # earliest first, at most LIST_OUTLETS
    articles: int  # how many articles the story has in all


@dataclass(frozen=True)
class StoryDetail:
    story_id: int
    title: str
    started_at: datetime | None
    updated_at: datetime | None
    summary: str | None
    key_figures: tuple[str, ...]
    topics: tuple[str, ...]
    places: tuple[str, ...]
    people: tuple[str, ...]
    organizations: tuple[str, ...]
    carriers: tuple[Carrier, ...]  # every article, earliest first


@dataclass(frozen=True)
class SourceHealth:
    id: int
    name: str
    kind: str
    location: str
    enabled: bool
    managed_by: str
    error_count: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    articles: int
    last_article_at: datetime | None


def outlet_prefixes(outlet: str) -> list[str]:
    """URL prefixes of a host's articles ("tomsk.gov.ru" -> https://tomsk.gov.ru/ and the www.
    and http variants; "t.me/name" also covers the web preview t.me/s/name/), each matched as
    an index range on ``articles.url``."""
    host, _, path = outlet.strip().lower().strip("/").partition("/")
    host = host.removeprefix("www.")
    if not host:
        return []
    tails = [f"{host}/{path}/" if path else f"{host}/"]
    if path and host in ("t.me", "telegram.me"):
        tails.append(f"{host}/s/{path}/")
    return [f"{scheme}://{www}{tail}" for scheme in ("https", "http") for www in ("", "www.")
            for tail in tails]


def _outlet_stories(outlet: str) -> tuple[str, list]:
    parts = ["SELECT story_id FROM articles WHERE source_id IN"
             " (SELECT id FROM sources WHERE name = ?)"]
    params: list = [outlet]
    for prefix in outlet_prefixes(outlet):
        # '/' + 1 is '0': every URL that starts with the prefix sorts in [prefix, end)
        parts.append("SELECT story_id FROM articles WHERE url >= ? AND url < ?")
        params.extend((prefix, prefix[:-1] + "0"))
    return " UNION ALL ".join(parts), params


def _selective(f: ArchiveFilter) -> list[tuple[str, list]]:
    """For each filter part that can be rare, a query of the ids of the articles it selects
    (from an index alone: cheap to count), rarest kinds first. The stories of those articles
    are a superset of the part's stories (the part itself applies to the first article)."""
    out = []
    if f.place is not None:
        out.append(("SELECT article_id FROM article_entities WHERE kind = 'place'"
                    " AND name = ?", [f.place]))
    if f.outlet is not None:
        sql, params = _outlet_stories(f.outlet)
        out.append((sql.replace("SELECT story_id FROM", "SELECT id FROM"), params))
    if f.match is not None:
        out.append(("SELECT rowid FROM article_search WHERE article_search MATCH ?",
                    [f.match]))
    if f.topic is not None:
        out.append(("SELECT article_id FROM article_topics WHERE topic_id = ?", [f.topic]))
    return out


def _where(f: ArchiveFilter) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    if f.topic is not None:
        clauses.append("s.first_article_id IN (SELECT article_id FROM article_topics"
                       " WHERE topic_id = ?)")
        params.append(f.topic)
    if f.place is not None:
        clauses.append("s.first_article_id IN (SELECT article_id FROM article_entities"
                       " WHERE kind = 'place' AND name = ?)")
        params.append(f.place)
    if f.outlet is not None:
        sql, more = _outlet_stories(f.outlet)
        clauses.append(f"s.id IN ({sql})")
        params.extend(more)
    if f.since is not None:
        clauses.append("s.started_at >= ?")
        params.append(to_db_time(f.since))
    if f.until is not None:
        clauses.append("s.started_at < ?")
        params.append(to_db_time(f.until))
    if f.match is not None:
        clauses.append("s.id IN (SELECT a.story_id FROM article_search"
                       " JOIN articles a ON a.id = article_search.rowid"
                       " WHERE article_search MATCH ?)")
        params.append(f.match)
    return (" AND ".join(clauses) or "1"), params


async def _few_candidates(db: Database, f: ArchiveFilter) -> list[int] | None:
    """The stories a rare filter can select, when one of its parts selects at most
    CANDIDATES articles; None when every part is common.

    Walking the stories newest first and testing each against the filter is quick while
    matches are common, and slow for a rare place or outlet (it walks the whole archive);
    looking up the few candidates and sorting them is the other way round. The first part
    found rare decides."""
    for sql, params in _selective(f):
        row = await _one(db, f"SELECT COUNT(*) FROM ({sql} LIMIT ?)",
                                [*params, CANDIDATES + 1])
        if row is not None and row[0] <= CANDIDATES:
            rows = await _all(db,
                f"SELECT DISTINCT story_id FROM articles WHERE id IN ({sql})"
                " AND story_id IS NOT NULL", params)
            return sorted(r[0] for r in rows)
    return None


def _carrier(r) -> Carrier:
    return Carrier(article_id=r["id"], title=r["title"], url=r["url"], origin=r["origin"],
                   source=r["source"], at=from_db_time(r["at"]), reprint_of=r["reprint_of"],
                   similarity=r["similarity"])


_CARRIER_COLUMNS = (
    "a.id, a.story_id, a.title, a.url, a.origin, src.name AS source, a.reprint_of,"
    " a.similarity, COALESCE(a.published_at, a.fetched_at) AS at")


async def _by_article(db: Database, sql: str, ids: list[int]) -> dict[int, list]:
    """Rows of ``sql`` (with one IN list to fill, first column the key) grouped by key."""
    out: dict[int, list] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        for r in await _all(db, sql.format(marks=",".join("?" * len(chunk))), chunk):
            out.setdefault(r[0], []).append(r)
    return out


async def list_stories(db: Database, f: ArchiveFilter, *, limit: int, offset: int = 0,
                       older_than: tuple[datetime | None, int] | None = None
                       ) -> list[StoryItem]:
    """Stories matching ``f``, newest first; with ``older_than`` (the time and id of the last
    story of a previous part) only the stories after it in that order."""
    where, params = _where(f)
    if older_than is not None:
        where += " AND (s.started_at, s.id) < (?, ?)"
        params.extend((to_db_time(older_than[0]), older_than[1]))
    few = await _few_candidates(db, f)
    if few is not None:
        if not few:
            return []
        # one parameter, whatever the number: the ids as a JSON array
        where += " AND s.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(few))
    rows = await _all(db,
        "SELECT s.id, s.title, s.started_at, s.updated_at, s.first_article_id, a.url, a.origin,"
        " COALESCE(a.summary, substr(a.text, 1, 300)) AS summary, a.key_figures"
        " FROM stories s JOIN articles a ON a.id = s.first_article_id"
        f" WHERE {where} ORDER BY s.started_at DESC, s.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset])
    if not rows:
        return []
    first_ids = [r["first_article_id"] for r in rows]
    story_ids = [r["id"] for r in rows]
    topics = await _by_article(db, "SELECT article_id, topic_id FROM article_topics"
                               " WHERE article_id IN ({marks}) ORDER BY score DESC", first_ids)
    places = await _by_article(db, "SELECT article_id, name FROM article_entities"
                               " WHERE kind = 'place' AND article_id IN ({marks})"
                               " ORDER BY mentions DESC, name", first_ids)
    carriers = await _by_article(
        db, "SELECT * FROM (SELECT a.story_id AS key, " + _CARRIER_COLUMNS +
        ", ROW_NUMBER() OVER (PARTITION BY a.story_id ORDER BY"
        " COALESCE(a.published_at, a.fetched_at), a.id) AS n,"
        " COUNT(*) OVER (PARTITION BY a.story_id) AS total"
        " FROM articles a LEFT JOIN sources src ON src.id = a.source_id"
        " WHERE a.story_id IN ({marks})) WHERE n <= " + str(LIST_OUTLETS), story_ids)
    out = []
    for r in rows:
        mine = carriers.get(r["id"], [])
        out.append(StoryItem(
            story_id=r["id"], title=r["title"], url=r["url"], origin=r["origin"],
            at=from_db_time(r["started_at"]), updated=from_db_time(r["updated_at"]),
            summary=r["summary"],
            key_figures=tuple(json.loads(r["key_figures"] or "[]")),
            topics=tuple(t[1] for t in topics.get(r["first_article_id"], ())),
            places=tuple(p[1] for p in places.get(r["first_article_id"], ())),
            carriers=tuple(_carrier(c) for c in mine),
            articles=mine[0]["total"] if mine else 0))
    return out


async def story_detail(db: Database, story_id: int) -> StoryDetail | None:
    row = await _one(db,
        "SELECT s.id, s.title, s.started_at, s.updated_at, s.first_article_id, a.summary,"
        " a.key_figures FROM stories s JOIN articles a ON a.id = s.first_article_id"
        " WHERE s.id = ?", (story_id,))
    if row is None:
        return None
    first = row["first_article_id"]
    topics = [r[0] for r in await _all(db,
        "SELECT topic_id FROM article_topics WHERE article_id = ? ORDER BY score DESC",
        (first,))]
    entities: dict[str, list[str]] = {}
    for r in await _all(db,
            "SELECT kind, name FROM article_entities WHERE article_id = ?"
            " ORDER BY mentions DESC, name", (first,)):
        entities.setdefault(r[0], []).append(r[1])
    carriers = await _all(db,
        f"SELECT {_CARRIER_COLUMNS} FROM articles a LEFT JOIN sources src"
        " ON src.id = a.source_id WHERE a.story_id = ? ORDER BY at, a.id", (story_id,))
    return StoryDetail(
        story_id=row["id"], title=row["title"], started_at=from_db_time(row["started_at"]),
        updated_at=from_db_time(row["updated_at"]), summary=row["summary"],
        key_figures=tuple(json.loads(row["key_figures"] or "[]")), topics=tuple(topics),
        places=tuple(entities.get("place", ())), people=tuple(entities.get("person", ())),
        organizations=tuple(entities.get("organization", ())),
        carriers=tuple(_carrier(c) for c in carriers))


async def place_names(db: Database, limit: int = 300) -> list[tuple[str, int]]:
    """Place tags in the archive with how many articles name them, most named first."""
    rows = await _all(db,
        "SELECT name, COUNT(*) AS n FROM article_entities WHERE kind = 'place'"
        " GROUP BY name ORDER BY n DESC, name LIMIT ?", (limit,))
    return [(r[0], int(r[1])) for r in rows]


async def source_names(db: Database) -> list[str]:
    return [r[0] for r in await _all(db, "SELECT name FROM sources ORDER BY name")]


async def source_health(db: Database) -> list[SourceHealth]:
    """Every source with its polling health and how many articles it brought."""
    counts = {r[0]: (int(r[1]), int(r[2])) for r in await _all(db,
        "SELECT source_id, COUNT(*), MAX(id) FROM articles WHERE source_id IS NOT NULL"
        " GROUP BY source_id")}
    latest: dict[int, datetime | None] = {}
    last_ids = [last for _, last in counts.values()]
    for i in range(0, len(last_ids), CHUNK):
        chunk = last_ids[i:i + CHUNK]
        for r in await _all(db,
                "SELECT source_id, COALESCE(published_at, fetched_at) FROM articles"
                f" WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            latest[r[0]] = from_db_time(r[1])
    out = []
    for r in await _all(db, "SELECT * FROM sources ORDER BY id"):
        out.append(SourceHealth(
            id=r["id"], name=r["name"], kind=r["kind"], location=r["location"],
            enabled=bool(r["enabled"]), managed_by=r["managed_by"],
            error_count=r["error_count"], last_error=r["last_error"],
            last_error_at=from_db_time(r["last_error_at"]),
            last_success_at=from_db_time(r["last_success_at"]),
            last_checked_at=from_db_time(r["last_checked_at"]),
            next_check_at=from_db_time(r["next_check_at"]),
            articles=counts.get(r["id"], (0, 0))[0], last_article_at=latest.get(r["id"])))
    return out


async def weekly_counts(db: Database, kind: str, start: datetime,
                        weeks: int) -> dict[str, list[int]]:
    """Stories per topic (``kind`` "topic") or per place ("place") in each of ``weeks`` weeks
    from ``start``: {key: [count of week 0, week 1, ...]}. A story counts once for each topic
    or place of its first article, in the week of its own time."""
    if kind == "topic":
        join = "JOIN article_topics k ON k.article_id = s.first_article_id"
        key = "k.topic_id"
    elif kind == "place":
        join = ("JOIN article_entities k ON k.article_id = s.first_article_id"
                " AND k.kind = 'place'")
        key = "k.name"
    else:
        raise ValueError(f"unknown kind of trend: {kind!r}")
    begin = to_db_time(start)
    end = to_db_time(start + timedelta(weeks=weeks))
    rows = await _all(db,
        f"SELECT {key} AS key, CAST((julianday(s.started_at) - julianday(?)) / 7 AS INTEGER)"
        f" AS week, COUNT(*) AS n FROM stories s {join}"
        " WHERE s.started_at >= ? AND s.started_at < ? GROUP BY key, week",
        (begin, begin, end))
    out: dict[str, list[int]] = {}
    for r in rows:
        week = int(r["week"])
        if 0 <= week < weeks:
            out.setdefault(r["key"], [0] * weeks)[week] += int(r["n"])
    return out

