"""Sources the way admins expect: a site's address finds its feed, names come from the feed,
one source per feed, /renamesource, OPML out and in (Telegram and the command line), alerts
when a source breaks, a proxy for Telegram, poll --once beside a running bot."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from dataclasses import replace
from datetime import timedelta

from test_admin import ADMIN, start, stop
from test_bot_e2e import replies

from bot.ingest.opml import parse_opml
from bot.storage.lock import InstanceLock

from conftest import ROOT, rss, wait_for

SITE = """<!doctype html><html><head><title>Томский вестник</title>
<link rel="alternate" type="application/rss+xml" title="Новости" href="/feeds/news.xml">
</head><body><h1>Томский вестник</h1></body></html>"""
TWO = """<!doctype html><html><head><title>Два канала</title>
<link rel="alternate" type="application/rss+xml" title="Экономика" href="/economy.xml">
<link rel="alternate" type="application/atom+xml" title="Культура" href="/culture.xml">
</head><body></body></html>"""


def feed(title: str, base: str, prefix: str) -> str:
    return rss([{"title": f"{title}: новость {i}", "link": f"{base}/{prefix}/{i}",
                 "guid": f"{prefix}-{i}", "description": f"Текст новости {i} о Томске."}
                for i in range(3)], title=title)


async def test_addsource_finds_a_sites_feed_names_it_and_keeps_one_source_per_feed(
        store, tg_bot, fake_bot_api, feed_server):
    base = feed_server.url("")
    feed_server.add("/site", SITE, content_type="text/html; charset=utf-8")
    feed_server.add("/feeds/news.xml", feed("Вестник: все новости", base, "n"))
    feed_server.add("/two", TWO, content_type="text/html; charset=utf-8")
    feed_server.add("/economy.xml", feed("Экономика региона", base, "e"))
    feed_server.add("/culture.xml", feed("Культура региона", base, "c"))
    dp, task, scheduler, fetcher = await start(store, tg_bot, allow_private=True)
    try:
        fake_bot_api.push_message(ADMIN, f"/addsource {base}/site 30m")
        added = (await replies(fake_bot_api, ADMIN, 1))[0]
        assert "Вестник: все новости" in added and "30 мин" in added, added
        source = await store.sources.find("Вестник: все новости")
        assert source.location == f"{base}/feeds/news.xml" and source.interval == 1800
        # The same feed again, under another spelling of its address: refused.
        fake_bot_api.push_message(ADMIN, f"/addsource {base}/feeds/news.xml?utm_source=tg")
        assert "уже есть" in (await replies(fake_bot_api, ADMIN, 2))[1]
        # A site with two feeds: buttons to choose; the name given wins over the title.
        fake_bot_api.push_message(ADMIN, f"/addsource {base}/two Культура Томска")
        await replies(fake_bot_api, ADMIN, 3)
        choose = fake_bot_api.messages_to(ADMIN)[2]
        buttons = [b for row in choose.reply_markup["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == ["Экономика региона", "Культура региона"]
        fake_bot_api.push_callback(ADMIN, choose.message_id, buttons[1]["callback_data"])
        assert "Культура Томска" in (await replies(fake_bot_api, ADMIN, 4))[3]
        picked = await store.sources.find("Культура Томска")
        assert picked.location == f"{base}/culture.xml"
        assert scheduler.scheduler.get_job(f"source:{picked.id}") is not None
        # /renamesource
        fake_bot_api.push_message(ADMIN, f"/renamesource {picked.id} Культура")
        assert "называется Культура" in (await replies(fake_bot_api, ADMIN, 5))[4]
        fake_bot_api.push_message(ADMIN, f"/renamesource {picked.id} Вестник: все новости")
        assert "занято" in (await replies(fake_bot_api, ADMIN, 6))[5]
        # A page with no feed at all: said in Russian.
        feed_server.add("/empty", "<html><body>ничего</body></html>", content_type="text/html")
        fake_bot_api.push_message(ADMIN, f"/addsource {base}/empty")
        assert "не нашлось" in (await replies(fake_bot_api, ADMIN, 7))[6]
    finally:
        await stop(dp, task, fetcher)


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Мои ленты</title></head><body>
<outline text="Томск" title="Томск">
  <outline type="rss" text="Вестник" title="Вестник" xmlUrl="{base}/feeds/news.xml"/>
  <outline type="rss" text="Новый" title="Новый источник" xmlUrl="{base}/new.xml"/>
</outline>
<outline type="rss" text="Без адреса"/>
</body></opml>"""


async def test_export_and_import_opml_in_telegram(store, tg_bot, fake_bot_api, feed_server):
    base = feed_server.url("")
    await store.sources.add("Вестник", f"{base}/feeds/news.xml", 900)
    dp, task, _scheduler, fetcher = await start(store, tg_bot, allow_private=True)
    try:
        fake_bot_api.push_message(ADMIN, "/export")
        await wait_for(lambda: fake_bot_api.documents, timeout=15)
        (sent,) = fake_bot_api.documents
        exported = parse_opml(sent["document"])
        assert {f.name for f in exported.feeds} >= {"Вестник"}
        fake_bot_api.push_document(ADMIN, "feeds.opml", OPML.format(base=base).encode())
        report = (await replies(fake_bot_api, ADMIN, 1))[0]
        assert "добавлено — 1, уже были — 1, отклонено — 1" in report, report
        assert "нет адреса ленты" in report
        new = await store.sources.find("Новый источник")
        assert new is not None and new.category == "Томск" and new.managed_by == "admin"
        fake_bot_api.push_document(901, "feeds.opml", OPML.format(base=base).encode())
        assert "только для администраторов" in (await replies(fake_bot_api, 901, 1))[0]
    finally:
        await stop(dp, task, fetcher)


async def pressbot(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_sources_export_and_import_on_the_command_line(tmp_path, feed_server):
    base = feed_server.url("")
    db = tmp_path / "p.db"
    listing = tmp_path / "in.opml"
    listing.write_text(OPML.format(base=base), encoding="utf-8")
    code, out, err = await pressbot("--database", str(db), "sources", "import", str(listing))
    assert code == 0, err
    assert "2 added, 0 already there, 1 refused" in out
    code, out, err = await pressbot("--database", str(db), "sources", "import", str(listing))
    assert "0 added, 2 already there, 1 refused" in out
    target = tmp_path / "out.opml"
    code, out, err = await pressbot("--database", str(db), "sources", "export", str(target))
    assert code == 0, err
    names = {(f.name, f.category) for f in parse_opml(target.read_bytes()).feeds}
    assert {("Вестник", "Томск"), ("Новый источник", "Томск")} <= names
    (tmp_path / "bad.opml").write_text("<html>not opml</html>", encoding="utf-8")
    code, _, err = await pressbot("--database", str(db), "sources", "import",
                                  str(tmp_path / "bad.opml"))
    assert code == 1 and len(err.strip().splitlines()) == 1


async def test_poll_once_beside_a_running_bot_leaves_the_schedule_alone(tmp_path, feed_server):
    base = feed_server.url("")
    feed_server.add("/rss", feed("Лента", base, "r"))
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "p.db"}"\n[understanding]\n'
                      f'ner = false\n[fetch]\nfulltext_min_chars = 0\n'
                      f'[[sources]]\nname = "r"\nurl = "{base}/rss"\n', encoding="utf-8")
    code, _, err = await pressbot("--config", str(config), "sources", "--sync")
    assert code == 0, err
    lock = InstanceLock(tmp_path / "p.db")
    lock.acquire()  # as `pressbot run` holds it
    try:
        code, out, err = await pressbot("--config", str(config), "poll", "--once")
    finally:
        lock.release()
    assert code == 0 and "left to it" in out, (out, err)
    conn = sqlite3.connect(tmp_path / "p.db")
    checked, articles = conn.execute("SELECT (SELECT last_checked_at FROM sources),"
                                     " (SELECT COUNT(*) FROM articles)").fetchone()
    conn.close()
    assert checked is None and articles == 3


async def test_admins_get_one_alert_when_a_source_breaks_and_one_when_it_is_back(
        tmp_path, fake_bot_api, feed_server):
    from test_app import settings_for

    from bot.app import App

    base = feed_server.url("")
    feed_server.add("/ok", feed("Лента", base, "o"))
    feed_server.add("/broken", "oops", status=500)
    settings = settings_for(tmp_path, fake_bot_api.base, admins=(ADMIN,), alert_after=60)
    settings = replace(settings, fetch=replace(settings.fetch, allow_private_addresses=True,
                                               fulltext_min_chars=0),
                       sources=(replace(settings.sources[0], name="ok", kind="feed",
                                        url=f"{base}/ok", path=None),
                                replace(settings.sources[0], name="broken", kind="feed",
                                        url=f"{base}/broken", path=None)))
    now = [None]
    app = App(settings, clock=lambda: now[0])
    await app.start()
    try:
        for s in await app.store.sources.all():
            await app.poller.poll(s.id)
        from bot.storage.db import utcnow

        now[0] = utcnow() + timedelta(seconds=30)
        await app.run_job("alerts")
        assert await app.store.outbox.due(utcnow() + timedelta(days=1), set()) == []
        now[0] = utcnow() + timedelta(minutes=2)
        await app.run_job("alerts")
        await app.run_job("alerts")  # once, not at every tick
        await wait_for(lambda: fake_bot_api.messages_to(ADMIN), timeout=15)
        (alert,) = fake_bot_api.messages_to(ADMIN)
        assert "broken" in alert.text and "не работает" in alert.text
        feed_server.add("/broken", feed("Снова", base, "b"))
        await app.poller.poll((await app.store.sources.find("broken")).id)
        now[0] = utcnow() + timedelta(minutes=3)
        await app.run_job("alerts")
        await wait_for(lambda: len(fake_bot_api.messages_to(ADMIN)) == 2, timeout=15)
        assert "снова работает" in fake_bot_api.messages_to(ADMIN)[1].text
    finally:
        await app.stop()


async def test_the_bot_api_through_a_proxy(fake_bot_api, loopback_proxy):
    from bot.telegram.transport import make_bot

    from conftest import TEST_TOKEN

    bot = make_bot(TEST_TOKEN, fake_bot_api.base, proxy=loopback_proxy.url("http"))
    try:
        me = await bot.get_me()
        assert me.username == "pressbot_test_bot"
        await bot.send_message(5, "через прокси")
    finally:
        await bot.session.close()
    assert [s.text for s in fake_bot_api.messages_to(5)] == ["через прокси"]
    # both requests went through one tunnel the proxy opened to the Bot API
    assert [(p.kind, p.port) for p in loopback_proxy.passed] == [("connect", fake_bot_api.port)]
