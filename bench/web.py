"""Web archive speed: `/` and `/story/<id>` over an archive of 100,000 articles.

The archive: the real ria.ru corpus (912 distinct articles) run through the whole pipeline once
(no NER; places from the place list), dated at random over the last year, a third of them
reprinted by a second outlet (a new title, an extra sentence) so that stories have several
outlets; then copied in SQL, story by story, with each copy moved to another random time and
other outlets (200 sources), with its topics, places and search index, until it holds the
articles asked for. Kept with --db for the next run.

Each request is sent over HTTP to the real WebServer on 127.0.0.1 (--requests times, one at a
time); the yardstick in the same run is a plain sqlite3 query of the same rows (the page's
stories with the same filter, or the story's articles). Run first without, then with the index
the list needs (``CREATE INDEX stories_started ON stories (started_at)``), so that the table
shows what the index buys. Target: p99 under 200 ms for `/` and `/story/<id>`.

    python bench/web.py [--articles 100000] [--requests 200] [--db /tmp/pressbot-web.db]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench import _data
from bench._data import load_ria, print_table
from bot.config import default_topics
from bot.delivery.match import fts_query
from bot.models import Entry
from bot.pipeline import process
from bot.storage.db import Database
from bot.storage.store import Store
from bot.text.morph import lemma, words
from bot.understand.analyzer import Understanding
from bot.web import WebServer

# The shared data sits beside the main checkout; a worktree is one folder deeper.
for _up in Path(__file__).resolve().parents[1:4]:
    _ria = _up / "shared" / "eval" / "ria_news_topics" / _data.RIA.name
    if not _data.RIA.exists() and _ria.exists():
        _data.RIA = _ria

INDEX = "CREATE INDEX IF NOT EXISTS stories_started ON stories (started_at)"
OUTLETS = 200
SEARCH_BODY = 1500  # as bot/storage/stories.py indexes


def host(i: int) -> str:
    return f"news{i:03d}.example"


async def seed(path: Path, rng: random.Random, now: datetime) -> None:
    """The corpus through the real pipeline: originals and a third reprinted elsewhere."""
    articles = {a.content: a for a in load_ria()}.values()  # 912 distinct texts
    async with await Store.open(path) as store:
        async with store.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO sources (name, kind, location, interval, created_at,"
                " last_success_at, last_checked_at) VALUES (?, 'feed', ?, 900, ?, ?, ?)",
                [(f"source-{i:03d}", f"https://{host(i)}/rss", now.isoformat(),
                  now.isoformat(), now.isoformat()) for i in range(OUTLETS)])
        entries: list[tuple[int, Entry]] = []
        for n, a in enumerate(articles):
            at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            outlet = rng.randrange(OUTLETS)
            text = "\n\n".join(p for p in a.content.split("  ") if p)
            entries.append((outlet, Entry(title=a.title, text=text, published=at,
                                          url=f"https://{host(outlet)}/news/{n}",
                                          origin=f"https://{host(outlet)}/rss")))
            if rng.random() < 1 / 3:
                other = (outlet + 1 + rng.randrange(OUTLETS - 1)) % OUTLETS
                entries.append((other, Entry(
                    title=f"{a.subtitle or a.title} — сообщает {host(other)}",
                    text=text + "\n\nПодробности позже.", published=at + timedelta(hours=2),
                    url=f"https://{host(other)}/item/{n}", origin=f"https://{host(other)}/rss")))
        understanding = Understanding(default_topics(), ner=False)
        started = time.perf_counter()
        for done, (outlet, entry) in enumerate(entries, 1):
            await process(store, [entry], source_id=outlet + 1, understanding=understanding)
            if done % 100 == 0 or done == len(entries):
                rate = done / (time.perf_counter() - started)
                print(f"\rseed: {done}/{len(entries)} articles through the pipeline"
                      f" ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)


def multiply(path: Path, target: int, rng: random.Random, now: datetime) -> None:
    """Copy the seed stories (articles, topics, places, search index) to ``target`` articles."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    stories = conn.execute("SELECT id, title, started_at FROM stories ORDER BY id").fetchall()
    members: dict[int, list] = {}
    for row in conn.execute(
            "SELECT story_id, id, source_id, url, origin, title, text, published_at,"
            " fetched_at, content_hash, reprint_of, similarity, summary, key_figures FROM"
            " articles WHERE story_id IS NOT NULL ORDER BY id"):
        members.setdefault(row[0], []).append(row[1:])
    topics: dict[int, list] = {}
    for aid, topic, score, terms in conn.execute("SELECT * FROM article_topics"):
        topics.setdefault(aid, []).append((topic, score, terms))
    entities: dict[int, list] = {}
    for aid, kind, name, mentions in conn.execute("SELECT * FROM article_entities"):
        entities.setdefault(aid, []).append((kind, name, mentions))
    lemmas: dict[int, tuple[str, str]] = {}
    for group in members.values():
        for a in group:
            if a[9] is None:  # originals are searchable
                lemmas[a[0]] = (" ".join(lemma(w) for w in words(a[4])),
                                " ".join([lemma(w) for w in words(a[5])][:SEARCH_BODY]))
    have = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    next_article = conn.execute("SELECT MAX(id) FROM articles").fetchone()[0] + 1
    next_story = conn.execute("SELECT MAX(id) FROM stories").fetchone()[0] + 1
    copy = 0
    started = time.perf_counter()
    conn.execute("BEGIN")
    while have < target:
        copy += 1
        for story_id, title, started_at in stories:
            if have >= target:
                break
            group = members[story_id]
            begin = datetime.fromisoformat(started_at)
            shift = now - timedelta(seconds=rng.uniform(0, 365 * 86400)) - begin
            outlet = rng.randrange(OUTLETS)
            ids = {}
            for k, a in enumerate(group):
                ids[a[0]] = next_article + k
            first = ids[group[0][0]]
            at_of = [datetime.fromisoformat(a[6] or a[7]) + shift for a in group]
            conn.execute("INSERT INTO stories (id, first_article_id, title, started_at,"
                         " updated_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (next_story, first, title, (begin + shift).isoformat(),
                          max(at_of).isoformat(), now.isoformat()))
            for k, a in enumerate(group):
                aid = ids[a[0]]
                o = (outlet + k) % OUTLETS
                conn.execute(
                    "INSERT INTO articles (id, source_id, url, guid, origin, title, text,"
                    " published_at, fetched_at, content_hash, story_id, reprint_of,"
                    " similarity, summary, key_figures) VALUES"
                    " (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (aid, o + 1, f"https://{host(o)}/c{copy}/{a[0]}", f"https://{host(o)}/rss",
                     a[4], a[5], at_of[k].isoformat(), at_of[k].isoformat(),
                     hashlib.sha256(f"{a[8]}{copy}".encode()).hexdigest(), next_story,
                     ids.get(a[9]) if a[9] else None, a[10], a[11], a[12]))
                conn.executemany("INSERT INTO article_topics VALUES (?, ?, ?, ?)",
                                 [(aid, *t) for t in topics.get(a[0], ())])
                conn.executemany("INSERT INTO article_entities VALUES (?, ?, ?, ?)",
                                 [(aid, *e) for e in entities.get(a[0], ())])
                if a[0] in lemmas:
                    conn.execute("INSERT INTO article_search (rowid, title, body)"
                                 " VALUES (?, ?, ?)", (aid, *lemmas[a[0]]))
                    conn.execute("INSERT INTO search_indexed VALUES (?)", (aid,))
            next_article += len(group)
            next_story += 1
            have += len(group)
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        rate = have / (time.perf_counter() - started)
        print(f"\rarchive: {have}/{target} articles ({rate:.0f}/s)", end="", file=sys.stderr,
              flush=True)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    print(file=sys.stderr)


def build(path: Path, target: int) -> None:
    if path.exists():
        conn = sqlite3.connect(path)
        have = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        conn.close()
        if have >= target:
            return
        path.unlink()
    rng = random.Random(18)
    now = datetime.now(UTC).replace(microsecond=0)
    asyncio.run(seed(path, rng, now))
    multiply(path, target, rng, now)


# ---------------------------------------------------------------- measuring

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


LIST_SQL = ("SELECT s.id, s.title, s.started_at, a.url, a.summary FROM stories s"
            " JOIN articles a ON a.id = s.first_article_id WHERE {where}"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT 21 OFFSET ?")
STORY_SQL = ("SELECT a.id, a.title, a.url, a.origin, a.published_at, a.reprint_of FROM articles a"
             " WHERE a.story_id = ? ORDER BY COALESCE(a.published_at, a.fetched_at), a.id")


def cases(conn: sqlite3.Connection, rng: random.Random) -> list[tuple[str, list, Callable]]:
    """(name, request paths, plain query of the same rows for one path)."""
    common = conn.execute("SELECT name FROM article_entities WHERE kind = 'place' GROUP BY name"
                          " ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    rare = conn.execute("SELECT name FROM article_entities WHERE kind = 'place' GROUP BY name"
                        " HAVING COUNT(*) >= 20 ORDER BY COUNT(*) LIMIT 1").fetchone()[0]
    topic = conn.execute("SELECT topic_id FROM article_topics GROUP BY topic_id"
                         " ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    max_story = conn.execute("SELECT MAX(id) FROM stories").fetchone()[0]
    month_to = datetime.now(UTC).date() - timedelta(days=60)
    month_from = month_to - timedelta(days=30)

    def listing(where: str, params: list, offset: int = 0):
        return lambda: conn.execute(LIST_SQL.format(where=where), [*params, offset]).fetchall()

    topic_in = ("s.first_article_id IN (SELECT article_id FROM article_topics"
                " WHERE topic_id = ?)")
    place_in = ("s.first_article_id IN (SELECT article_id FROM article_entities"
                " WHERE kind = 'place' AND name = ?)")
    search_in = ("s.id IN (SELECT a.story_id FROM article_search JOIN articles a"
                 " ON a.id = article_search.rowid WHERE article_search MATCH ?)")
    out = [
        ("/ (latest)", ["/"], listing("1", [])),
        ("/?page=50", ["/?page=50"], listing("1", [], 49 * 20)),
        (f"/?topic={topic}", [f"/?topic={topic}"], listing(topic_in, [topic])),
        (f"/?place={common}", [f"/?place={common}"], listing(place_in, [common])),
        (f"/?place={rare} (rare)", [f"/?place={rare}"], listing(place_in, [rare])),
        ("/?topic&place", [f"/?topic={topic}&place={common}"],
         listing(f"{topic_in} AND {place_in}", [topic, common])),
        ("/?q=экспорт", ["/?q=экспорт"], listing(search_in, [fts_query("экспорт")])),
        ("/?q=два слова", ["/?q=Росстат инфляция"],
         listing(search_in, [fts_query("Росстат инфляция")])),
        (f"/?outlet={host(7)}", [f"/?outlet={host(7)}"],
         listing("s.id IN (SELECT story_id FROM articles WHERE url >= ? AND url < ?)",
                 [f"https://{host(7)}/", f"https://{host(7)}0"])),
        ("/?from&to (a month)", [f"/?from={month_from}&to={month_to}"],
         listing("s.started_at >= ? AND s.started_at < ?",
                 [f"{month_from}T00:00:00", f"{month_to}T23:59:59"])),
    ]
    ids = [rng.randint(1, max_story) for _ in range(1000)]
    story_paths = [f"/story/{i}" for i in ids]
    it = iter(ids * 10)
    out.append(("/story/<id> (random)", story_paths,
                lambda: conn.execute(STORY_SQL, (next(it),)).fetchall()))
    return out


async def measure(path: Path, requests: int, label: str) -> list[tuple]:
    rng = random.Random(5)
    conn = sqlite3.connect(path)
    rows = []
    db = await Database.open(path)
    server = WebServer(db, port=0, topics=default_topics())
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            for name, paths, yardstick in cases(conn, rng):
                times = []
                for n in range(requests + 3):
                    url = f"http://127.0.0.1:{server.port}{paths[n % len(paths)]}"
                    start = time.perf_counter()
                    async with session.get(url) as r:
                        await r.read()
                        assert r.status == 200, (url, r.status)
                    if n >= 3:  # the first requests warm the caches (places, outlets)
                        times.append((time.perf_counter() - start) * 1000)
                plain_times = []
                for _ in range(requests):
                    start = time.perf_counter()
                    yardstick()
                    plain_times.append((time.perf_counter() - start) * 1000)
                p50, p99 = pct(times, 0.5), pct(times, 0.99)
                s50, s99 = pct(plain_times, 0.5), pct(plain_times, 0.99)
                rows.append((label, name, f"{p50:.1f}", f"{p99:.1f}", f"{s50:.1f}",
                             f"{s99:.1f}", f"{p50 / max(s50, 0.01):.1f}x"))
            for name, path_ in (("/feed.atom", "/feed.atom"), ("/export.csv (10k rows)",
                                                                "/export.csv"),
                                ("/trends/all.png (drawn)", "/trends/all.png"),
                                ("/sources", "/sources")):
                server.charts._cache.clear()
                start = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{server.port}{path_}") as r:
                    await r.read()
                    assert r.status == 200, (path_, r.status)
                took = (time.perf_counter() - start) * 1000
                rows.append((label, name + " (once)", f"{took:.0f}", "-", "-", "-", "-"))
    finally:
        await server.stop()
        await db.close()
        conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", type=Path,
                        default=Path(tempfile.gettempdir()) / "pressbot-web-archive.db")
    args = parser.parse_args()
    build(args.db, args.articles)
    conn = sqlite3.connect(args.db)
    conn.execute("DROP INDEX IF EXISTS stories_started")
    sizes = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM"
                         " stories), (SELECT COUNT(*) FROM articles WHERE reprint_of IS NOT"
                         " NULL)").fetchone()
    conn.close()
    print(f"archive: {sizes[0]} articles, {sizes[1]} stories, {sizes[2]} reprints"
          f" ({args.db.stat().st_size / 2**20:.0f} MiB)")
    rows = asyncio.run(measure(args.db, args.requests, "no index"))
    conn = sqlite3.connect(args.db)
    conn.execute(INDEX)
    conn.execute("ANALYZE")
    conn.close()
    rows += asyncio.run(measure(args.db, args.requests, "stories_started"))
    print_table(rows, ("index", "request", "web p50 ms", "web p99 ms", "plain SQL p50 ms",
                       "plain SQL p99 ms", "web/plain p50"))
    print("target: / and /story/<id> under 200 ms at p99 over 100,000 articles")


if __name__ == "__main__":
    main()
