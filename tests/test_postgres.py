"""The PostgreSQL store against a real server (tests/pgserver.py), beside the SQLite one: the
schemas agree, migrations are recorded, SQL is translated, times, errors and row locks behave,
and `pressbot migrate --to` copies an archive built by the real pipeline with every count and
answer the same. Tests taking `store` run on both backends (conftest.BOTH_STORES)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.app import App
from bot.config import ChannelConfig, ConfigError, SourceConfig, default_topics, load_settings
from bot.delivery.match import fts_query
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.storage import archive
from bot.storage.db import DatabaseError
from bot.storage.dialect import tsquery
from bot.storage.migrations import MIGRATIONS
from bot.storage.outbox import enqueue
from bot.storage.pg_schema import PG_MIGRATIONS
from bot.storage.postgres import pg_sql, safe_url
from bot.storage.store import Store
from bot.understand.analyzer import Understanding

from conftest import ROOT, SEEDS, TEST_TOKEN, fetch_rows, rss, wait_for

UNDERSTANDING = Understanding(default_topics(), ner=False)
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

# SQLite's declared type -> the PostgreSQL types it may become.
TYPES = {"INTEGER": {"bigint", "integer"}, "REAL": {"double precision"}, "BLOB": {"bytea"},
         "TEXT": {"text", "timestamp with time zone"}}
# The full-text index differs by design: FTS5 (title, body and its shadow tables) on SQLite,
# one tsvector per article on PostgreSQL.
SEARCH_TABLES = {"article_search"}


def sqlite_schema(path: Path) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: {r[1]: r[2].upper() for r in conn.execute(f"PRAGMA table_info({n})")}
                for n in names if not n.startswith("article_search")}
    finally:
        conn.close()


async def pg_schema(store: Store) -> dict[str, dict[str, str]]:
    rows = await fetch_rows(store, "SELECT table_name, column_name, data_type FROM"
                                   " information_schema.columns WHERE table_schema ="
                                   " current_schema() ORDER BY table_name, ordinal_position")
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        if table not in SEARCH_TABLES:
            out.setdefault(table, {})[column] = data_type
    return out


async def test_both_schemas_have_the_same_tables_and_columns(tmp_path, pg_url):
    async with await Store.open(tmp_path / "p.db") as lite:
        assert await lite.schema_version() == MIGRATIONS[-1][0]
    async with await Store.open(pg_url) as pg:
        assert await pg.schema_version() == PG_MIGRATIONS[-1][0] == MIGRATIONS[-1][0]
        theirs = await pg_schema(pg)
    ours = sqlite_schema(tmp_path / "p.db")
    assert sorted(theirs) == sorted(ours)
    for table, columns in ours.items():
        assert list(theirs[table]) == list(columns), table  # same columns, same order
        for column, declared in columns.items():
            assert theirs[table][column] in TYPES[declared], (table, column)
            is_time = column.endswith(("_at", "since", "_until"))  # every time, no other
            assert (theirs[table][column] == "timestamp with time zone") == is_time, \
                (table, column)


async def test_migrations_are_recorded_once_and_a_newer_schema_is_refused(pg_url):
    async with await Store.open(pg_url) as store:
        rows = await fetch_rows(store, "SELECT version, name FROM schema_migrations")
        assert [r["version"] for r in rows] == [m[0] for m in PG_MIGRATIONS]
        assert await store.db.migrate() == []
        async with store.db.transaction() as tx:
            await tx.execute("INSERT INTO schema_migrations VALUES (?, 'future', ?)",
                             (999, T0))
    with pytest.raises(DatabaseError, match="newer than this pressbot"):
        await Store.open(pg_url)


async def test_a_failing_migration_leaves_nothing_behind(pg_url, monkeypatch):
    broken = [*PG_MIGRATIONS, (99, "broken", ("CREATE TABLE half (x integer)", "NOT SQL"))]
    monkeypatch.setattr("bot.storage.postgres.PG_MIGRATIONS", broken)
    with pytest.raises(DatabaseError, match=r"migration 99 \(broken\) failed: .*syntax error"):
        await Store.open(pg_url)
    monkeypatch.setattr("bot.storage.postgres.PG_MIGRATIONS", PG_MIGRATIONS)
    async with await Store.open(pg_url) as store:
        assert await fetch_rows(store, "SELECT to_regclass('half') AS t") == [(None,)]
        assert await store.schema_version() == PG_MIGRATIONS[-1][0]


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT ? + ?", "SELECT $1 + $2"),
    ("SELECT '?' , ?", "SELECT '?' , $1"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
    ('SELECT "a?b" FROM t WHERE x = ?', 'SELECT "a?b" FROM t WHERE x = $1'),
    ("SELECT ? -- a comment?\n, ?", "SELECT $1 -- a comment?\n, $2"),
    ("SELECT 1", "SELECT 1"),
])
def test_placeholders_become_numbered_outside_quotes_and_comments(sql, expected):
    assert pg_sql(sql) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ('"хими"* AND "завод"', "'хими':* & 'завод'"),
    ('"мазур" OR "узбекистан"', "'мазур' | 'узбекистан'"),
    ('"a"', "'a'"),
    ('""', ""),
    ('"it\'s"*', "'it''s':*"),
    ("химия завод", "'химия' & 'завод'"),
    ('("a" OR "b") AND "c"', "( 'a' | 'b' ) & 'c'"),
])
def test_fts5_queries_become_tsqueries(query, expected):
    assert tsquery(query) == expected


async def test_search_finds_word_forms_by_lemma_and_nothing_for_no_words(store):
    results, _ = await process(store, [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))],
                               understanding=UNDERSTANDING)
    chemistry = next(r.story_id for r in results if "узбекскому" in r.article.title)
    found = await store.stories.search(fts_query("химической промышленности Узбекистана"))
    assert found[0] == chemistry
    assert set(await store.stories.search(fts_query("Узбекистан химия", any_word=True))) >= \
        {chemistry}
    assert await store.stories.search('""') == []
    assert await store.stories.search(fts_query("щщщщ")) == []


async def test_times_are_aware_utc_in_whole_seconds(store):
    await store.chats.upsert(5)
    moment = datetime(2025, 5, 1, 12, 30, 15, 987654, tzinfo=UTC)
    await store.chats.update(5, last_digest_at=moment.astimezone(ZoneInfo("Asia/Tomsk")))
    assert (await store.chats.get(5)).last_digest_at == moment.replace(microsecond=0)
    await store.chats.update(5, last_digest_at="2025-05-02T01:02:03+00:00")  # ISO text too
    assert (await store.chats.get(5)).last_digest_at == datetime(2025, 5, 2, 1, 2, 3,
                                                                 tzinfo=UTC)
    with pytest.raises(ValueError, match="naive datetime"):
        await store.chats.update(5, last_digest_at=datetime(2025, 5, 1, 12, 0))


async def test_errors_are_one_line_and_never_show_the_password(pg_url):
    with pytest.raises(DatabaseError) as caught:
        await Store.open("postgresql://pressbot:s3cret-pw@127.0.0.1:1/nothing")
    message = str(caught.value)
    assert "cannot connect to database postgresql://pressbot@127.0.0.1:1/nothing" in message
    assert "s3cret" not in message and "\n" not in message
    assert safe_url("postgresql://u@h/db?password=x&sslmode=require") == \
        "postgresql://u@h/db?password=***&sslmode=require"
    async with await Store.open(pg_url) as store:
        with pytest.raises(DatabaseError, match="syntax error") as caught:
            async with store.db.transaction() as tx:
                await tx.execute("INSERT INTO state (key, value) VALUES ('k', 'v')")
                await tx.execute("NOT SQL AT ALL")
        assert "\n" not in str(caught.value)
        assert await fetch_rows(store, "SELECT * FROM state") == []  # rolled back


async def test_an_outbox_claim_skips_rows_another_process_holds(pg_url):
    """Two processes on one database: a row the first is claiming (locked in its
    transaction) is passed over by the second at once, not waited for or taken twice."""
    first, second = await Store.open(pg_url), await Store.open(pg_url)
    try:
        for chat in (1, 2):
            await first.chats.upsert(chat)
        async with first.db.transaction() as tx:
            for chat in (1, 2):
                await enqueue(tx, chat, f"для {chat}", kind="notice")
        now = datetime.now(UTC)
        async with first.db.transaction() as tx:
            held = await tx.fetchall("SELECT id FROM outbox WHERE chat_id = 1 FOR UPDATE")
            taken = await asyncio.wait_for(
                second.outbox.claim(now, set(), 10, timedelta(minutes=5)), 5)
            assert [r.chat_id for r in taken] == [2]
        assert len(held) == 1
        again = await second.outbox.claim(now, set(), 10, timedelta(minutes=5))
        assert [r.chat_id for r in again] == [1]
        assert await first.outbox.claim(now, set(), 10, timedelta(minutes=5)) == []
    finally:
        await first.close()
        await second.close()


async def test_a_sandbox_changes_nothing(pg_url):
    async with await Store.open(pg_url) as store:
        await store.chats.upsert(7)
    async with await Store.open(pg_url, sandbox=True) as sandbox:
        await sandbox.chats.upsert(8)
        await sandbox.chats.forget(7)
        assert await sandbox.chats.get(8) is not None and await sandbox.chats.get(7) is None
    async with await Store.open(pg_url) as store:
        assert await store.chats.get(7) is not None and await store.chats.get(8) is None


# ------------------------------------------------------------------ pressbot migrate


async def build_archive(store: Store) -> None:
    """An archive as pressbot builds it: sources, seeds and feed articles through the pipeline
    (stories, reprints, fingerprints, bands, df, topics, places, the search index), chats of
    every kind with filters, queued and sent messages, deliveries, story updates."""
    settings = load_settings(None, env={})
    states = await store.sources.sync(settings.sources[:3])
    await store.sources.record_failure(states[1].id, "HTTP 503",
                                       lambda n: T0 + timedelta(hours=n))
    await store.chats.upsert(101)
    await store.chats.set_filter(101, "topic", "economy", True)
    await store.chats.upsert(103, "group", title="Все новости")  # no filters: every story
    await store.chats.upsert(102)
    await store.chats.update(102, mode="digest", last_digest_at=T0, quiet_start="22:00",
                             quiet_end="07:00")
    await store.chats.sync_channels((ChannelConfig(-1003, thread_id=4, places=("Томск",)),))
    seeds = [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))]
    results, _ = await process(store, seeds, understanding=UNDERSTANDING,
                               source_id=states[0].id)
    original = results[0].article
    reprint = Entry(title=original.title, text="\n\n".join(original.text.split("\n\n")[:4]),
                    url="https://reprint.example/1", origin="reprint.example")
    (again,), _ = await process(store, [reprint], understanding=UNDERSTANDING)
    assert again.status == "reprint"
    rows = await store.outbox.claim(datetime.now(UTC), set(), 2, timedelta(minutes=5))
    await store.outbox.mark_sent(rows[0].id, 555)


TABLE_ORDER = {"articles": "id", "stories": "id", "sources": "id", "outbox": "id",
               "chats": "chat_id"}


def normal(value):
    """A value as both stores return it (SQLite keeps times as ISO text)."""
    if isinstance(value, str) and len(value) == 25 and value[10] == "T" and value[19] == "+":
        return datetime.fromisoformat(value)
    return value


async def table_rows(store: Store, table: str) -> list[tuple]:
    rows = await fetch_rows(store, f"SELECT * FROM {table}")
    return sorted((tuple(normal(v) for v in r) for r in rows), key=repr)


async def pressbot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_migrate_copies_an_archive_and_checks_every_count(tmp_path, pg_url):
    path = tmp_path / "archive.db"
    async with await Store.open(path) as lite:
        await build_archive(lite)
    env = {"PRESSBOT_DB": str(path)}
    code, out, err = await pressbot("migrate", "--to", pg_url, env=env)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"copied {path} to {safe_url(pg_url)}:"
    counted = {line.split()[0]: int(line.split()[1]) for line in lines[1:-1]}
    assert lines[-1].startswith(f"all {len(counted)} counts match")
    async with await Store.open(path) as lite, await Store.open(pg_url) as pg:
        for table in counted:
            if table == "article_search":
                continue
            assert await table_rows(pg, table) == await table_rows(lite, table), table
            assert counted[table] == len(await table_rows(lite, table)), table
        assert counted["articles"] == 6 and counted["lsh_bands"] > 100
        assert counted["article_search"] == counted["search_indexed"] == 5
        # The same answers from both: search, the web archive's lists, details and charts.
        for words in ("химической промышленности", "Беларусь театр", "экспорт"):
            query = fts_query(words, any_word=True)
            assert set(await pg.stories.search(query, 10)) == \
                set(await lite.stories.search(query, 10)), words
        for f in (archive.ArchiveFilter(), archive.ArchiveFilter(match=fts_query("экспорт")),
                  archive.ArchiveFilter(outlet=load_settings(None, env={}).sources[0].name),
                  archive.ArchiveFilter(since=T0 - timedelta(days=3650), place="Томск")):
            assert await archive.list_stories(pg.db, f, limit=10) == \
                await archive.list_stories(lite.db, f, limit=10), f
        first = (await archive.list_stories(lite.db, archive.ArchiveFilter(), limit=1))[0]
        assert await archive.story_detail(pg.db, first.story_id) == \
            await archive.story_detail(lite.db, first.story_id)
        assert await archive.source_health(pg.db) == await archive.source_health(lite.db)
        start = datetime(2020, 1, 6, tzinfo=UTC)
        assert await archive.weekly_counts(pg.db, "topic", start, 400) == \
            await archive.weekly_counts(lite.db, "topic", start, 400)
        assert await pg.stats.collect() == await lite.stats.collect()
        # The copy goes on where SQLite stopped: new ids after the copied ones, and a reprint
        # of a copied article found through the copied bands and fingerprints.
        seed = read_document(sorted(SEEDS.glob("*.txt"))[0])[0]
        copy = Entry(title="Мазур позвал Узбекистан в химию",
                     text="\n\n".join(seed.text.split("\n\n")[:5]),
                     url="https://late.example/copy", origin="late.example")
        (placed,), _ = await process(pg, [copy], understanding=UNDERSTANDING)
        assert placed.status == "reprint" and placed.article.id == counted["articles"] + 1
        assert (await pg.sources.add("new", "https://new.example/rss", 900)).id == \
            counted["sources"] + 1

    # A target that holds anything is refused, naming --force; --force replaces it.
    code, out, err = await pressbot("migrate", "--to", pg_url, env=env)
    assert code == 1 and out == ""
    assert err.startswith(f"pressbot: {safe_url(pg_url)} is not empty (")
    assert "--force" in err and len(err.splitlines()) == 1
    code, out, err = await pressbot("migrate", "--to", pg_url, "--force", env=env)
    assert code == 0, err
    async with await Store.open(pg_url) as pg:
        assert await pg.articles.count() == counted["articles"]

    code, _, err = await pressbot("migrate", "--to", str(tmp_path / "x.db"), env=env)
    assert code == 2 and "must be a postgresql:// URL" in err
    code, _, err = await pressbot("migrate", "--to", pg_url,
                                  env={"PRESSBOT_DB": str(tmp_path / "none.db")})
    assert code == 2 and "no SQLite database at" in err


async def test_pressbot_runs_its_commands_on_postgresql(tmp_path, pg_url):
    """[database] url in the config (and PRESSBOT_DB holding a URL) take the commands to
    PostgreSQL; the SQLite-only backup says what to use instead."""
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "unused.db"\nurl = "{pg_url}"\n', encoding="utf-8")
    code, out, err = await pressbot("--config", str(config), "ingest", str(SEEDS), env={})
    assert code == 0, err
    assert f"5 articles in {safe_url(pg_url)}" in out
    assert not (tmp_path / "unused.db").exists()
    code, out, err = await pressbot("articles", "--limit", "2", env={"PRESSBOT_DB": pg_url})
    assert code == 0 and "2 of 5 articles" in out, err
    code, _, err = await pressbot("--config", str(config), "backup", str(tmp_path), env={})
    assert code == 2 and "pg_dump" in err


# ------------------------------------------------------------------ config and the running bot


def test_database_url_from_the_config_or_the_environment(tmp_path):
    config = tmp_path / "c.toml"
    url = "postgresql://pressbot:pw-secret@db.example:5432/press"
    config.write_text(f'[database]\npath = "p.db"\nurl = "{url}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    assert settings.database_url == url and settings.store_location == url
    assert "pw-secret" not in repr(settings)
    other = "postgres://u@/other?host=/run/postgresql"
    assert load_settings(config, env={"PRESSBOT_DB": other}).store_location == other
    plain = load_settings(config, env={"PRESSBOT_DB": str(tmp_path / "x.db")})
    assert plain.database_url is None and plain.store_location == tmp_path / "x.db"
    assert load_settings(None, env={}).store_location == Path("pressbot.db")
    config.write_text('[database]\nurl = "mysql://u:hidden@h/db"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert caught.value.problems == [
        "database.url: must be a postgresql:// URL (an SQLite file goes in database.path)"]


async def test_the_bot_runs_on_postgresql_without_the_file_lock(tmp_path, pg_url,
                                                                fake_bot_api):
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "p.db"}"\nurl = "{pg_url}"\n'
        f'[telegram]\napi_server = "{fake_bot_api.base}"\n[understanding]\nner = false\n'
        f'[scheduler]\njitter = 0\n[metrics]\nenabled = true\nport = 0\n'
        f'[[sources]]\nname = "seeds"\nkind = "files"\npath = "{SEEDS}"\n', encoding="utf-8")
    app = App(load_settings(config, env={"PRESSBOT_TOKEN": TEST_TOKEN}))
    try:
        await app.start()
        assert app.lock is None and not list(tmp_path.glob("*.lock"))
        assert not (tmp_path / "p.db").exists()
        assert await app.store.articles.count() == 5  # the seeds, in PostgreSQL
        assert safe_url(pg_url) in app.banner()
        fake_bot_api.push_message(5, "/help")
        await wait_for(lambda: fake_bot_api.messages_to(5), timeout=15)
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{app.metrics.port}/healthz") as resp:
            assert resp.status == 200
    finally:
        await app.stop()


# ------------------------------------------------------------------ several processes


class Run:
    """A `pressbot run` process; its output lines are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._readers = [asyncio.create_task(self._read(s)) for s in (proc.stdout, proc.stderr)]

    @classmethod
    async def start(cls, config: Path, *, role: str = "all") -> Run:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "--log-level", "INFO",
            "run", "--role", role, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PRESSBOT_TOKEN": TEST_TOKEN})
        return cls(proc)

    async def _read(self, stream) -> None:
        async for line in stream:
            self.lines.append(line.decode(errors="replace").rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def stop(self) -> int:
        if self.proc.returncode is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)
        return self.proc.returncode or 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)


LEADS = "this process leads: it reads"
SUBSCRIBERS = 1000


async def broadcast_setup(tmp_path: Path, pg_url: str, fake_bot_api, feed_server, *,
                          rate: int) -> Path:
    """A feed with one fresh story, SUBSCRIBERS chats that take every story, and a config
    for `pressbot run` on the database."""
    now = datetime.now(UTC)
    feed_server.add("/rss", rss([{
        "title": "Томский завод запустил линию кабеля для АЭС", "guid": "n1",
        "link": feed_server.url("/n/1"), "pubDate": format_datetime(now),
        "description": "Новая линия выпустит до 3 тыс. км кабеля в год. Инвестиции составили"
                       " 420 млн рублей."}]))
    async with await Store.open(pg_url) as store, store.db.transaction() as tx:
        await tx.executemany("INSERT INTO chats (chat_id, status, created_at, updated_at)"
                             " VALUES (?, 'active', ?, ?)",
                             [(1000 + n, now, now) for n in range(SUBSCRIBERS)])
    fake_bot_api.global_rate = 1000  # the processes' own pacing is under test
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "{pg_url}"\n'
        f'[telegram]\napi_server = "{fake_bot_api.base}"\nrate = {rate}\n'
        '[understanding]\nner = false\n[scheduler]\njitter = 0\n'
        '[fetch]\nallow_private_addresses = true\nfulltext_min_chars = 0\n'
        f'[[sources]]\nname = "tomsk"\nkind = "feed"\nurl = "{feed_server.url("/rss")}"\n',
        encoding="utf-8")
    return config


def received(fake_bot_api) -> dict[int, int]:
    """Chat -> how many messages it got."""
    counts: dict[int, int] = {}
    for sent in fake_bot_api.sent:
        counts[sent.chat_id] = counts.get(sent.chat_id, 0) + 1
    return counts


async def test_two_processes_share_the_work_and_survive_the_leader_s_death(
        tmp_path, pg_url, fake_bot_api, feed_server):
    """Two `pressbot run` on one database, SUBSCRIBERS chats. A story from the feed: polled
    once, every chat gets it exactly once, one process answers commands. A second story, and
    the leader killed with SIGKILL in the middle of its broadcast: nothing is lost, at most one
    repeat per chat, and the other process reads updates within 30 s."""
    config = await broadcast_setup(tmp_path, pg_url, fake_bot_api, feed_server, rate=500)
    chats = [1000 + n for n in range(SUBSCRIBERS)]
    runs = await asyncio.gather(Run.start(config), Run.start(config))
    try:
        await wait_for(lambda: len(fake_bot_api.sent) >= SUBSCRIBERS, timeout=90)
        await asyncio.sleep(1.0)  # nothing more comes
        counts = received(fake_bot_api)
        assert sorted(counts) == chats and set(counts.values()) == {1}  # each once
        assert len(feed_server.hits("/rss")) == 1  # polled by one process
        (leader,) = [r for r in runs if r.said(LEADS)]
        (other,) = [r for r in runs if r is not leader]
        fake_bot_api.push_message(77, "/help")  # exactly one process reads updates
        await wait_for(lambda: fake_bot_api.messages_to(77), timeout=20)

        async with await Store.open(pg_url) as store:
            seed = read_document(sorted(SEEDS.glob("*.txt"))[0])[0]
            (placed,), _ = await process(store, [seed], understanding=UNDERSTANDING)
            assert placed.status == "new_story"
        await wait_for(lambda: len(fake_bot_api.sent) >= SUBSCRIBERS + 200, timeout=60)
        leader.kill()
        killed = asyncio.get_running_loop().time()
        fake_bot_api.push_message(78, "/help")
        await wait_for(lambda: fake_bot_api.messages_to(78), timeout=30)
        assert asyncio.get_running_loop().time() - killed < 30 and other.said(LEADS)
        assert len(fake_bot_api.messages_to(77)) == 1
        await wait_for(lambda: all(n >= 2 for c, n in received(fake_bot_api).items()
                                   if c >= 1000), timeout=60)
        await asyncio.sleep(1.0)
        counts = received(fake_bot_api)
        assert sorted(c for c in counts if c >= 1000) == chats  # nothing lost
        assert max(counts[c] for c in chats) <= 3  # at most one repeat per chat
        repeats = sum(1 for c in chats if counts[c] == 3)
        assert repeats <= 64  # only what was in flight (the sender's max_in_flight)
    finally:
        codes = [await r.stop() for r in runs]
    assert codes[runs.index(other)] == 0, other.lines[-5:]


async def test_a_source_is_polled_by_one_process_at_a_time(pg_url, feed_server, fetch_config,
                                                           scheduler_config):
    """Two processes' pollers (each its own store and lease connection) poll one source at
    the same moment: one fetches, the other passes; right after, neither polls it again; a
    process that dies holding a lease loses it with its connection."""
    from aiohttp import web

    from bot.app import LeasedPoller
    from bot.ingest.fetch import Fetcher
    from bot.storage.leases import SOURCE, Leases

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(body=rss([{"title": "Новость", "guid": "1",
                                       "link": feed_server.url("/1"),
                                       "description": "Текст новости."}]).encode(),
                            content_type="application/rss+xml")

    feed_server.add_handler("/rss", slow)
    stores = [await Store.open(pg_url), await Store.open(pg_url)]
    leases = [await Leases.open(s.db) for s in stores]
    try:
        (source,) = await stores[0].sources.sync(
            (SourceConfig("feed", "feed", url=feed_server.url("/rss")),))
        async with Fetcher(fetch_config) as fetcher:
            pollers = [LeasedPoller(s, fetcher, fetch_config, scheduler_config, leases=lease)
                       for s, lease in zip(stores, leases, strict=True)]
            results = await asyncio.gather(*(p.poll(source.id) for p in pollers))
            assert len(feed_server.hits("/rss")) == 1
            assert sorted(r.status for r in results) == ["ok", "unchanged"]
            assert [p.passed for p in pollers] in ([0, 1], [1, 0])
            assert {r.status for r in await asyncio.gather(
                *(p.poll(source.id) for p in pollers))} == {"unchanged"}  # just polled
            assert len(feed_server.hits("/rss")) == 1
        assert await leases[0].take(SOURCE, 999)
        assert not await leases[1].take(SOURCE, 999)
        await leases[0].close()  # the holder's connection goes (a killed process)
        assert await leases[1].take(SOURCE, 999)
        assert await leases[1].alive()
    finally:
        for lease in leases:
            await lease.close()
        for s in stores:
            await s.close()


async def test_roles_other_than_all_need_postgresql(tmp_path):
    code, out, err = await pressbot("run", "--role", "ingest",
                                    env={"PRESSBOT_DB": str(tmp_path / "p.db")})
    assert code == 2 and out == ""
    assert err.strip() == ("pressbot: run --role ingest needs a PostgreSQL database ([database]"
                           " url or PRESSBOT_DB = postgresql://...); on SQLite one process"
                           " does all")
    with pytest.raises(ValueError, match="one of all, ingest, deliver"):
        App(load_settings(None, env={}), role="both")


async def test_poll_once_passes_what_another_process_polls(tmp_path, pg_url, feed_server):
    """`pressbot poll --once` on a shared database: a source whose lease another process
    holds is passed (not fetched), and while a `run` leads, the schedule is left to it; with
    nobody else there it polls as usual."""
    from bot.storage.leases import LEADER, SOURCE, Leases

    feed_server.add("/rss", rss([{"title": "Томская область подписала соглашение",
                                  "guid": "1", "link": feed_server.url("/1"),
                                  "description": "Текст новости о соглашении."}]))
    config = tmp_path / "c.toml"
    config.write_text(f'[scheduler]\njitter = 0\n[understanding]\nner = false\n'
                      f'[dedup]\nsemantic = false\n[[sources]]\nname = "feed"\n'
                      f'url = "{feed_server.url("/rss")}"\n', encoding="utf-8")
    env = {"PRESSBOT_DB": pg_url}
    async with await Store.open(pg_url) as store:
        (source,) = await store.sources.sync(
            (SourceConfig("feed", "feed", url=feed_server.url("/rss")),))
        other = await Leases.open(store.db)  # another process, polling and leading
        try:
            assert await other.take(SOURCE, source.id) and await other.take(LEADER)
            code, out, err = await pressbot("--config", str(config), "poll", "--once", env=env)
            assert code == 0, err
            assert "pressbot run is running" in out and feed_server.hits("/rss") == []
            assert "1 sources: 0 new articles, 0 failed" in out
        finally:
            await other.close()
        code, out, err = await pressbot("--config", str(config), "poll", "--once", env=env)
        assert code == 0, err
        assert "running" not in out and len(feed_server.hits("/rss")) == 1
        assert "1 sources: 1 new articles, 0 failed" in out
        after = await store.sources.get(source.id)
        assert after is not None and after.last_checked_at is not None
