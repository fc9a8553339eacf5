"""A damaged database, a damaged search index, a full disk: one line that says what is wrong
and what to do, exit status 1 within seconds, never a traceback or a hang."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from test_bot_e2e import replies, running_bot, stop_bot

from bot.ingest.files import read_document
from bot.pipeline import process
from bot.storage.store import Store

from conftest import ROOT, SEEDS


async def pressbot(*args: str, limit_file_bytes: int | None = None,
                   timeout: float = 60) -> tuple[int, str, str]:
    def limit() -> None:  # a "full disk": writes past this size fail
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in {**os.environ, "PYTHONPATH": str(ROOT)}.items()
             if k != "PRESSBOT_TOKEN"},
        preexec_fn=limit if limit_file_bytes else None)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def flip(path: Path, marker: bytes, length: int = 30) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(marker)
    assert at > 0
    for k in range(at + 5, at + 5 + length):
        data[k] ^= 0xA5
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("command", [("sources",), ("articles",), ("run", "--console")])
async def test_a_damaged_schema_is_one_line_and_exit_1(tmp_path, command):
    db = tmp_path / "p.db"
    code, _, err = await pressbot("--database", str(db), "ingest", str(SEEDS))
    assert code == 0, err
    flip(db, b"CREATE TABLE sources")
    code, _, err = await pressbot("--database", str(db), *command, timeout=30)
    lines = err.strip().splitlines()
    assert code == 1 and lines[-1].startswith("pressbot: cannot use database"), err
    assert "damaged" in lines[-1] and "Traceback" not in err


async def test_a_damaged_search_index_is_reported_and_reindex_mends_it(tmp_path, tg_bot,
                                                                     fake_bot_api, caplog):
    path = tmp_path / "search.db"
    store = await Store.open(path)
    await process(store, [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))])
    async with store.db.transaction() as tx:  # garbage in the FTS5 index's own pages
        await tx.execute("UPDATE article_search_data SET block = randomblob(40)")
    dp, task = await running_bot(store, tg_bot)
    try:
        fake_bot_api.push_message(5, "/search химия")
        (reply,) = await replies(fake_bot_api, 5, 1)
        assert "Попробуйте позже" in reply
    finally:
        await stop_bot(dp, task)
        await store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("pressbot reindex" in e for e in errors), errors
    code, out, err = await pressbot("--database", str(path), "reindex")
    assert code == 0 and "search index rebuilt: 5 articles" in out, err
    conn = sqlite3.connect(path)
    hits = conn.execute("SELECT COUNT(*) FROM article_search WHERE article_search MATCH"
                        " '\"химическ\"*'").fetchone()[0]
    conn.close()
    assert hits >= 1


async def test_a_full_disk_during_ingest_is_one_line(tmp_path):
    db = tmp_path / "full.db"
    code, _, err = await pressbot("--database", str(db), "ingest",
                                  str(SEEDS / "000_a76abe04a6259da9.txt"))
    assert code == 0, err
    size = db.stat().st_size + (tmp_path / "full.db-wal").stat().st_size \
        if (tmp_path / "full.db-wal").exists() else db.stat().st_size
    many = tmp_path / "many"
    many.mkdir()
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, many / p.name)
    code, _, err = await pressbot("--database", str(db), "ingest", str(many),
                                  limit_file_bytes=size + 4096)
    lines = err.strip().splitlines()
    assert code == 1 and "Traceback" not in err, err
    assert lines[-1].startswith("pressbot: database") and ("full" in lines[-1]
                                                          or "I/O" in lines[-1]), err
