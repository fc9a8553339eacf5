"""Backups while the archive is being written, restore, and upgrades from every earlier schema."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import default_topics
from bot.ingest.files import read_document
from bot.pipeline import index_archive, index_for_search_archive, process
from bot.storage.backup import backup, restore
from bot.storage.db import DatabaseError
from bot.storage.migrations import MIGRATIONS
from bot.storage.store import Store
from bot.understand.analyzer import Understanding

from conftest import ROOT, SEEDS, fetch_one

UNDERSTANDING = Understanding(default_topics(), ner=False)


def seeds():
    return [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))]


async def test_backup_while_writing_is_consistent_and_restores(tmp_path):
    path = tmp_path / "live.db"
    entries = seeds()
    async with await Store.open(path) as store:
        await process(store, entries[:2], understanding=UNDERSTANDING)
        # Back up from another thread while this connection keeps writing.
        writing = asyncio.create_task(process(store, entries[2:], understanding=UNDERSTANDING))
        _, size = await asyncio.to_thread(backup, path, tmp_path / "b.db")
        await writing
        live_count = (await fetch_one(store, "SELECT COUNT(*) FROM articles"))[0]
    assert size > 0 and live_count == 5
    copy = sqlite3.connect(tmp_path / "b.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    backed = copy.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert 2 <= backed <= 5  # a consistent snapshot from some moment of the writing
    copy.close()
    assert not list(tmp_path.glob("*.partial"))
    # A folder as target gets a time-stamped file; a new folder named with a final / is
    # created; a missing parent folder is a clear error.
    written, _ = backup(path, tmp_path)
    assert len(list(tmp_path.glob("pressbot-*.db"))) == 1 and written.parent == tmp_path
    written, _ = backup(path, f"{tmp_path}/new/folder/")
    assert written.parent == tmp_path / "new" / "folder" and written.name.startswith("pressbot-")
    with pytest.raises(DatabaseError, match="does not exist"):
        backup(path, tmp_path / "nowhere" / "b.db")

    saved = restore(tmp_path / "b.db", path)
    assert saved is not None and saved.exists()
    async with await Store.open(path) as store:
        assert (await fetch_one(store, "SELECT COUNT(*) FROM articles"))[0] == backed
        assert (await fetch_one(store, "PRAGMA integrity_check"))[0] == "ok"


def test_restore_refuses_what_is_not_a_good_backup(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DatabaseError, match="not a readable SQLite database"):
        restore(junk, tmp_path / "live.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DatabaseError, match="not a pressbot database"):
        restore(other, tmp_path / "live.db")
    assert not (tmp_path / "live.db").exists()


def test_backup_and_restore_commands(tmp_path):
    db_path = tmp_path / "p.db"
    run = [sys.executable, "-m", "bot", "--database", str(db_path)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([*run, "ingest", str(SEEDS)], check=True, env=env, capture_output=True)
    out = subprocess.run([*run, "backup", str(tmp_path / "b.db")], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "integrity_check ok" in out.stdout, out.stderr
    out = subprocess.run([*run, "restore", str(tmp_path / "b.db")], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0 and f"schema {MIGRATIONS[-1][0]}" in out.stdout, out.stderr
    out = subprocess.run([*run, "backup", str(tmp_path / "no" / "such" / "dir" / "b.db")],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.startswith("pressbot: ")
    assert len(out.stderr.strip().splitlines()) == 1


def build_old(path: Path, version: int) -> None:
    """A database as the pressbot of schema ``version`` left it, with an article in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                 " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for v, name, statements in MIGRATIONS[:version]:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00+00:00')",
                     (v, name))
    conn.execute("INSERT INTO sources (name, kind, location, interval, created_at) VALUES"
                 " ('old', 'feed', 'https://old.example/rss', 900, '2026-01-01T00:00:00+00:00')")
    entry = seeds()[0]
    conn.execute("INSERT INTO articles (source_id, url, guid, origin, title, text, fetched_at,"
                 " content_hash) VALUES (1, 'https://old.example/1', 'g1', 'old', ?, ?,"
                 " '2026-01-01T00:00:00+00:00', 'hash-old')", (entry.title, entry.text))
    if version >= 6:
        conn.execute("INSERT INTO chats (chat_id, created_at, updated_at) VALUES"
                     " (5, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
    conn.close()


@pytest.mark.parametrize("version", [v for v, _, _ in MIGRATIONS[:-1]])
async def test_every_earlier_schema_upgrades(tmp_path, version):
    path = tmp_path / f"v{version}.db"
    build_old(path, version)
    async with await Store.open(path) as store:
        assert await store.schema_version() == MIGRATIONS[-1][0]
        await index_archive(store, UNDERSTANDING)
        await index_for_search_archive(store)
        old = await fetch_one(store, "SELECT id, story_id FROM articles WHERE url ="
                                " 'https://old.example/1'")
        assert old["story_id"] is not None
        assert await store.stories.search('"хими"*') == [old["story_id"]]
        # The same release again, dated earlier than the old copy was fetched: recognised
        # against the upgraded archive and made the original of the old article's story.
        results, _ = await process(store, [seeds()[0]], understanding=UNDERSTANDING)
        assert results[0].story_id == old["story_id"]
        assert (await fetch_one(store, "SELECT reprint_of FROM articles WHERE id = ?",
                                  (old["id"],)))[0] == results[0].article.id
        assert (await fetch_one(store, "PRAGMA integrity_check"))[0] == "ok"
        assert (await fetch_one(store, "PRAGMA foreign_key_check")) is None
