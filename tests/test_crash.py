"""Crash safety: the real `pressbot run` as a subprocess, 500 subscribers, three new stories
(1,500 messages) and kill -9 in the middle of the broadcast, ten times over. Every subscriber
ends with exactly the three stories, a message repeated at most once per chat (the one in
flight at each kill), none lost; PRAGMA integrity_check is ok after every kill."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import sys
from collections import Counter
from html import escape

from bot.ingest.files import read_document
from bot.storage.store import Store

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
    async with await Store.open(db_path) as store:
        await store.chats.add_many([5000 + i for i in range(SUBSCRIBERS)])
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
    marks: list[int] = []  # messages received when each kill happened
    try:
        for kill in range(KILLS):
            proc = await start(config, env)
            target = (kill + 1) * step
            await wait_for(lambda t=target: len(fake.sent) >= t, timeout=90)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            marks.append(len(fake.sent))
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
    copies: dict[tuple[int, int], list[int]] = {}
    for index, s in enumerate(fake.sent):
        copies.setdefault((s.chat_id, story_of[s.text]), []).append(index)
    assert {chat for chat, _ in copies} == {5000 + i for i in range(SUBSCRIBERS)}
    assert len(copies) == total  # every chat got every story: none lost
    repeated_at: list[tuple[int, int]] = []  # (kill, chat) of each repeat
    for (chat, _story), indexes in copies.items():
        for before, after in itertools.pairwise(indexes):
            # A repeat is the message that was in flight when a kill came between the copies.
            kill = next((k for k, mark in enumerate(marks) if before < mark <= after), None)
            assert kill is not None, (chat, indexes, marks)
            repeated_at.append((kill, chat))
    # A crash repeats at most the one message in flight per chat.
    assert len(repeated_at) == len(set(repeated_at)), Counter(repeated_at).most_common(3)
    print(f"{KILLS} kills: {len(repeated_at)} messages repeated of {total}")
