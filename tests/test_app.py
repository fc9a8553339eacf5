"""The running pressbot (bot/app.py) in process, as a Telegram bot against the fake Bot API:
start-up that never fails for Telegram's sake, supervised polling, one process per database."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import aiohttp

from bot.app import App
from bot.config import load_settings

from conftest import ROOT, SEEDS, TEST_TOKEN, wait_for


def settings_for(tmp_path: Path, api: str, **telegram):
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "p.db"}"\n[telegram]\napi_server = "{api}"\n'
        f'[understanding]\nner = false\n[scheduler]\njitter = 0\n'
        f'[metrics]\nenabled = true\nport = 0\n'
        f'[[sources]]\nname = "seeds"\nkind = "files"\npath = "{SEEDS}"\n', encoding="utf-8")
    settings = load_settings(config, env={"PRESSBOT_TOKEN": TEST_TOKEN})
    return replace(settings, telegram=replace(settings.telegram, **telegram))


def captured_logs() -> tuple[io.StringIO, logging.Handler]:
    from bot.logs import TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    return stream, handler


async def healthz(app: App) -> tuple[int, dict]:
    assert app.metrics is not None
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{app.metrics.port}/healthz") as resp:
        return resp.status, await resp.json()


async def test_failing_getme_and_setmycommands_never_stop_start_up(tmp_path, fake_bot_api):
    fake_bot_api.fail_methods = {"getme": 2, "setmycommands": 2}
    stream, handler = captured_logs()
    app = App(settings_for(tmp_path, fake_bot_api.base))
    try:
        await app.start()  # returns: ingestion goes on while Telegram is retried
        assert await app.store.articles.count() == 5  # the seeds are in
        await wait_for(lambda: any(m == "getupdates" for m, _ in fake_bot_api.calls),
                       timeout=20)
        await wait_for(lambda: len(fake_bot_api.commands) >= 1, timeout=30)
        assert app.telegram.restarts >= 1
        fake_bot_api.push_message(5, "/help")
        await wait_for(lambda: fake_bot_api.messages_to(5), timeout=15)
        status, body = await healthz(app)
        assert status == 200 and body["telegram"] == "polling"
    finally:
        await app.stop()
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" not in text
    assert TEST_TOKEN not in text and TEST_TOKEN.split(":")[1] not in text
    assert "setMyCommands failed" in text and "reading them again" in text


async def test_unreachable_bot_api_is_reported_by_healthz_not_a_crash(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = App(settings_for(tmp_path, f"http://127.0.0.1:{port}"))
    try:
        await app.start()
        await wait_for(lambda: app.telegram.state.startswith("restarting"), timeout=20)
        status, body = await healthz(app)
        assert status == 503 and body["telegram"].startswith("restarting")
        assert TEST_TOKEN not in str(body)
        assert await app.store.articles.count() == 5
    finally:
        await app.stop()


async def test_a_second_run_on_one_database_exits_1_naming_the_holder(tmp_path, fake_bot_api):
    settings = settings_for(tmp_path, fake_bot_api.base)
    app = App(settings)
    await app.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--database", str(settings.database), "run",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PRESSBOT_TOKEN": TEST_TOKEN})
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await app.stop()
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, err.decode()
    assert f"pid {os.getpid()}" in lines[0] and socket.gethostname() in lines[0]
    # The lock went with the holder: a new run may start.
    again = App(settings)
    await again.start()
    await again.stop()


async def test_run_serves_the_archive_and_messages_link_to_story_pages(tmp_path, fake_bot_api,
                                                                       feed_server):
    from conftest import rss

    feed_server.add("/rss", rss([{"title": "Томский завод запустил линию кабеля для АЭС",
                                  "link": feed_server.url("/n/1"), "guid": "n1",
                                  "description": "Новая линия выпустит до 3 тыс. км кабеля в год."
                                                 " Инвестиции составили 420 млн рублей."}]))
    settings = settings_for(tmp_path, fake_bot_api.base)
    settings = replace(
        settings, web=replace(settings.web, port=0, base_url="https://news.example/archive"),
        fetch=replace(settings.fetch, fulltext_min_chars=0, allow_private_addresses=True),
        sources=(*settings.sources, replace(settings.sources[0], name="cable", kind="feed",
                                            url=feed_server.url("/rss"), path=None)))
    app = App(settings)
    await app.start()
    try:
        await app.store.chats.upsert(41)
        assert "archive on https://news.example/archive/" in app.banner()
        await app.poller.poll((await app.store.sources.find("cable")).id)
        app.sender.wake()
        await wait_for(lambda: fake_bot_api.messages_to(41), timeout=20)
        (message,) = fake_bot_api.messages_to(41)
        assert 'href="https://news.example/archive/story/' in message.text
        assert "все источники" in message.text
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{app.web.port}/") as resp:
            assert resp.status == 200 and "кабеля" in await resp.text()
    finally:
        await app.stop()


async def test_a_sent_story_is_edited_when_an_added_outlet_carries_it(tmp_path, feed_server,
                                                                     fake_bot_api):
    """The source-updates job edits the message of a story sent at once when a feed added
    later (by an admin, through /addsource) reprints it: one message, then one edit. The job
    runs with a clock of the test's (no waiting for the minute)."""
    from datetime import timedelta

    from test_delivery import parse

    from bot.storage.db import utcnow

    from conftest import rss

    body = ("<p>Губернатор Томской области Владимир Мазур предложил представителям Узбекистана "
            "совместно развивать химическую промышленность и кластер малотоннажной химии.</p>"
            "<p>Во главе региональной делегации губернатор работает на II Совете регионов "
            "России и Узбекистана, который проходит в Московской области. Участниками совета "
            "являются руководители территорий и бизнеса.</p><p>По словам губернатора, в "
            "регионе работают около 40 химических компаний, а инвестиции в новые производства "
            "составят 15,6 млрд рублей.</p>")
    feed_server.add("/rss", rss([{"title": "Мазур предложил Узбекистану химию",
                                  "link": feed_server.url("/news/1"), "guid": "1",
                                  "description": f"<![CDATA[{body}]]>"}]))
    other = feed_server.url("/copy.rss").replace("127.0.0.1", "localhost")  # another outlet
    feed_server.add("/copy.rss", rss([{
        "title": "Томск и Ташкент: химия", "link": other.replace("copy.rss", "copy/1"),
        "guid": "c1", "description": f"<![CDATA[<p>Как сообщили в пресс-службе,</p>{body}]]>"}]))
    settings = settings_for(tmp_path, fake_bot_api.base, admins=(9,), update_sources_quiet=1)
    settings = replace(
        settings, fetch=replace(settings.fetch, allow_private_addresses=True),
        sources=(replace(settings.sources[0], name="tomsk", kind="feed",
                         url=feed_server.url("/rss"), path=None),))
    app = App(settings, clock=lambda: utcnow() + timedelta(seconds=5))
    await app.start()
    try:
        await app.store.chats.upsert(700)
        await app.poller.poll((await app.store.sources.find("tomsk")).id)
        app.sender.wake()
        await wait_for(lambda: fake_bot_api.messages_to(700), timeout=20)
        fake_bot_api.push_message(9, f"/addsource {other}")
        await wait_for(lambda: fake_bot_api.messages_to(9), timeout=20)
        added = await app.store.sources.find("Тестовая лента")
        await wait_for(lambda: feed_server.hits("/copy.rss"), timeout=20)
        await app.poller.wait_idle(20)
        assert added is not None
        await app.run_job("source-updates")
        await wait_for(lambda: any(int(e["chat_id"]) == 700 for e in fake_bot_api.edits),
                       timeout=20)
    finally:
        await app.stop()
    (message,) = fake_bot_api.messages_to(700)  # the story once
    assert "Источник: tomsk" in parse(message.text)  # the source's name in the config
    (edit,) = [e for e in fake_bot_api.edits if int(e["chat_id"]) == 700]
    assert int(edit["message_id"]) == message.message_id
    shown = parse(str(edit["text"]))
    assert "Источники (2): tomsk, Тестовая лента" in shown  # the added feed's title
    assert "15,6 млрд рублей" in shown  # the same story, only its sources changed
