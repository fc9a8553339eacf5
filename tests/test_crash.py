"""Crash safety: the real `pressbot run` as a subprocess, 500 subscribers, three new stories
(1,500 messages) and kill -9 in the middle of the broadcast, ten times over. Every subscriber
ends with exactly the three stories, a message repeated at most once per chat (the one in
flight when the process died), none lost; PRAGMA integrity_check is ok after every kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections import Counter
from html import escape

from bot.ingest.files import read_document
from bot.storage.db import Database, to_db_time, utcnow

from conftest import ROOT, SEEDS, TEST_TOKEN, rss, wait_for

SUBSCRIBERS = 500
KILLS = 10


async def start(config, fake_env):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=fake_env)


async def test_kill_9_in_the_middle_of_a_broadcast_ten_times(tmp_path, feed_server):
    from fakebot import FakeBotAPI

    fake = FakeBotAPI(global_rate=300)  # a paid-broadcast rate, so that the test is quick
    await fake.start()
    seeds = [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))[:3]]
    feed_server.add("/rss", rss([{"title": escape(s.title), "link": feed_server.url(f"/n/{i}"),
                                  "guid": str(i), "description": escape(s.text)}
                                 for i, s in enumerate(seeds)]))
    db_path = tmp_path / "crash.db"
    async with await Database.open(db_path) as db:
        now = to_db_time(utcnow())
        async with db.write() as conn:
            await conn.executemany(
                "INSERT INTO chats (chat_id, created_at, updated_at) VALUES (?, ?, ?)",
                [(5000 + i, now, now) for i in range(SUBSCRIBERS)])
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\npath = "{db_path}"\n[telegram]\napi_server = "{fake.base}"\nrate = 300\n'
        f'[fetch]\nfulltext_min_chars = 0\n[scheduler]\njitter = 0\n[understanding]\n'
        f'ner = false\n[[sources]]\nname = "feed"\nurl = "{feed_server.url("/rss")}"\n'
        f'interval = 3600\n', encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if k != "PRESSBOT_TOKEN"},
           "PYTHONPATH": str(ROOT), "PRESSBOT_TOKEN": TEST_TOKEN}
    total = SUBSCRIBERS * len(seeds)
    step = total // (KILLS + 2)
    try:
        for kill in range(KILLS):
            proc = await start(config, env)
            target = (kill + 1) * step
            await wait_for(lambda t=target: len(fake.sent) >= t, timeout=90)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            assert proc.returncode == -signal.SIGKILL
            conn = sqlite3.connect(db_path)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
        proc = await start(config, env)
        conn = sqlite3.connect(db_path)

        def pending() -> int:
            return conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
                                ).fetchone()[0]

        await wait_for(lambda: len(fake.sent) >= total and pending() == 0, timeout=120)
        await asyncio.sleep(1)  # nothing more may come
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        story_of = dict(conn.execute("SELECT DISTINCT text, story_id FROM outbox"))
        conn.close()
    finally:
        await fake.stop()
    assert statuses == {"sent": total}
    assert len(set(story_of.values())) == 3 == len(story_of)
    got: dict[int, Counter] = {}
    for s in fake.sent:
        got.setdefault(s.chat_id, Counter())[story_of[s.text]] += 1
    assert len(got) == SUBSCRIBERS
    repeats = 0
    for chat_id, stories in got.items():
        assert set(stories) == set(story_of.values()), (chat_id, stories)  # none lost
        extra = sum(stories.values()) - 3
        assert extra <= 1, (chat_id, stories)  # at most the message in flight at a kill
        repeats += extra
    print(f"{KILLS} kills: {repeats} messages repeated of {total}")
    assert repeats <= KILLS * 64  # at most the messages in flight, one per chat, per kill
