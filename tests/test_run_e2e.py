"""`pressbot run` as a real subprocess: console mode, and the Telegram bot against the fake
Bot API with a loopback feed."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp
from test_delivery import parse

from bot.storage.store import Store

from conftest import ROOT, SEEDS, TEST_TOKEN, rss, wait_for


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "PRESSBOT_TOKEN"}
    return {**base, "PYTHONPATH": str(ROOT), **extra}


async def start_telegram_bot(config: Path, *options: str, toml: str
                             ) -> asyncio.subprocess.Process:
    """`pressbot run` as a Telegram bot (the test token set) with the config ``toml``."""
    config.write_text(toml, encoding="utf-8")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *options, "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env(PRESSBOT_TOKEN=TEST_TOKEN))


async def test_console_mode_chats_in_the_terminal(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\npath = "c.db"\n[[sources]]\nname = "seeds"\n'
                      f'kind = "files"\npath = "{SEEDS}"\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env())
    proc.stdin.write(b"/start\n/topics\n2\n/stats\n/filters\n/help\n")
    await proc.stdin.drain()
    out = b""
    while b"/help" not in out.split(b"/filters", 1)[-1] or b"/lang" not in out:
        chunk = await asyncio.wait_for(proc.stdout.read(4096), 30)
        assert chunk, out.decode()
        out += chunk
    proc.send_signal(signal.SIGTERM)
    rest, err = await asyncio.wait_for(proc.communicate(), 20)
    text = (out + rest).decode()
    assert proc.returncode == 0, err.decode()
    assert "console mode" in text and "один раз" in text  # the welcome
    assert "[2] Химия" in text and "[2] ✅ Химия" in text and "Включено: Химия" in text
    assert "Темы: Химия" in text and "/forget" in text
    assert "Статей: 5" in text and "/addsource" in text  # the terminal's user is the admin
    assert "<b>" not in text  # HTML shown as plain text


async def test_run_delivers_a_feed_story_once_with_escaped_html(tmp_path, feed_server,
                                                                fake_bot_api):
    lede = ("Губернатор Томской области Владимир Мазур предложил представителям Узбекистана "
            "совместно развивать химическую промышленность &amp; кластер малотоннажной химии.")
    body = (f"<p>{lede}</p><p>Во главе региональной делегации губернатор работает на II "
            "Совете регионов России и Узбекистана, который проходит в Московской области. "
            "Участниками совета являются руководители территорий и бизнеса.</p><p>По словам "
            "губернатора, в регионе работают около 40 химических компаний, а инвестиции в "
            "новые производства составят 15,6 млрд рублей.</p>")
    feed = rss([
        {"title": "Мазур &lt;b&gt;предложил&lt;/b&gt; химию &amp; кластер",
         "link": feed_server.url("/news/1"), "guid": "1",
         "description": f"<![CDATA[{body}]]>"},
        {"title": "Перепечатка: Мазур и химия", "link": feed_server.url("/copy/1"),
         "guid": "2", "description": f"<![CDATA[<p>Как сообщили в пресс-службе,</p>{body}]]>"},
    ])
    feed_server.add("/rss", feed)
    db_path = tmp_path / "p.db"
    async with await Store.open(db_path) as store:
        await store.chats.upsert(700)  # a subscriber with no filters: every story
        await store.chats.upsert(701)  # a subscriber who wants culture only

        await store.chats.set_filter(701, "topic", "culture", True)
    proc = await start_telegram_bot(
        tmp_path / "c.toml", "--log-format", "json",
        toml=f'[database]\npath = "{db_path}"\n[telegram]\napi_server = "{fake_bot_api.base}"\n'
        f'[scheduler]\njitter = 0\n[metrics]\nenabled = true\nport = 0\n'
        f'[[sources]]\nname = "tomsk"\nurl = "{feed_server.url("/rss")}"\ninterval = 60\n')
    try:
        banner = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        port = int(re.search(r"metrics on http://127.0.0.1:(\d+)/metrics", banner).group(1))
        await wait_for(lambda: fake_bot_api.messages_to(700), timeout=40)
        fake_bot_api.push_message(702, "/start")
        await wait_for(lambda: fake_bot_api.messages_to(702), timeout=20)
        await asyncio.sleep(2)  # time enough for a second message, which must not come
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                metrics = await resp.text()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                health = await resp.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert TEST_TOKEN not in banner + out.decode() + err.decode()
    assert health["status"] == "ok" and health["database"] == "ok"
    figures = dict(line.rsplit(" ", 1) for line in metrics.splitlines()
                   if line and not line.startswith("#"))
    assert float(figures["pressbot_articles_total"]) == 2
    assert float(figures["pressbot_reprints_total"]) == 1
    assert float(figures["pressbot_stories_total"]) == 1
    assert float(figures["pressbot_messages_sent_total"]) == 1  # the story (replies are direct)
    assert float(figures['pressbot_source_errors{source="tomsk"}']) == 0
    assert 'pressbot_source_last_success_timestamp_seconds{source="tomsk"}' in figures
    # JSON logs: one object a line, with the ids of what each line is about.
    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    stored = [r for r in records if r.get("article")]
    assert {r["source"] for r in stored} == {"tomsk"} and all(r["story"] for r in stored)
    (message,) = fake_bot_api.messages_to(700)
    assert message.parse_mode == "HTML"
    visible = parse(message.text)  # valid Telegram HTML, article text escaped
    assert "Мазур предложил химию & кластер" in visible  # markup in a title is stripped
    assert "Мазур предложил химию &amp; кластер" in message.text
    assert "<b>предложил</b>" not in message.text
    assert "15,6 млрд рублей" in visible
    assert fake_bot_api.messages_to(701) == []  # culture only: no match
    assert fake_bot_api.commands  # setMyCommands
    conn = sqlite3.connect(db_path)
    statuses = conn.execute("SELECT status FROM articles a LEFT JOIN outbox o ON"
                            " o.story_id = a.story_id ORDER BY a.id").fetchall()
    reprints = conn.execute("SELECT COUNT(*) FROM articles WHERE reprint_of IS NOT NULL"
                            ).fetchone()[0]
    conn.close()
    assert reprints == 1 and statuses
