"""Admin commands against the fake Bot API: refusal for others, /stats, /addsource (probed,
private addresses refused unless allowed), /pausesource, /removesource."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from test_bot_e2e import replies
from test_digest_search import store_seeds

from bot.config import load_settings
from bot.ingest.addresses import private_address
from bot.ingest.fetch import Fetcher
from bot.poller import Poller
from bot.scheduler import SourceScheduler, job_id
from bot.telegram.app import build_dispatcher

from conftest import rss

ADMIN = 900


async def start(store, tg_bot, *, allow_private: bool):
    settings = load_settings(None, env={})
    settings = replace(settings, telegram=replace(settings.telegram, admins=(ADMIN,)),
                       fetch=replace(settings.fetch, allow_private_addresses=allow_private),
                       sources=settings.sources[:2])
    await store.sources.sync(settings.sources)
    fetcher = await Fetcher(settings.fetch).__aenter__()
    scheduler = SourceScheduler(Poller(store, fetcher, settings.fetch, settings.scheduler),
                                settings.scheduler)
    dp = build_dispatcher(store, settings, scheduler=scheduler)
    task = asyncio.create_task(dp.start_polling(tg_bot, handle_signals=False,
                                                polling_timeout=1))
    return dp, task, scheduler, fetcher


async def stop(dp, task, fetcher):
    await dp.stop_polling()
    await asyncio.wait_for(task, 10)
    await fetcher.__aexit__(None, None, None)


async def test_admin_commands(store, tg_bot, fake_bot_api, feed_server):
    await store_seeds(store)
    feed_server.add("/feeds/tomsk.rss", rss([{"title": "Новость", "link": feed_server.url("/n/1"),
                                  "description": "Текст новости."}]))
    # a page that names no feed, on a site with no feed at the usual addresses
    feed_server.add("/page", "<html><body>not a feed</body></html>",
                    content_type="text/html")
    dp, task, scheduler, fetcher = await start(store, tg_bot, allow_private=True)
    try:
        fake_bot_api.push_message(901, "/stats")
        assert "только для администраторов" in (await replies(fake_bot_api, 901, 1))[0]
        fake_bot_api.push_message(901, "/addsource " + feed_server.url("/feeds/tomsk.rss"))
        assert "только для администраторов" in (await replies(fake_bot_api, 901, 2))[1]

        fake_bot_api.push_message(ADMIN, "/stats")
        shown = (await replies(fake_bot_api, ADMIN, 1))[0]
        assert "Статей: 5, сюжетов: 5, перепечаток: 0" in shown and "Источников: 2" in shown

        fake_bot_api.push_message(ADMIN, "/addsource " + feed_server.url("/page"))
        assert "Не могу добавить" in (await replies(fake_bot_api, ADMIN, 2))[1]
        fake_bot_api.push_message(ADMIN, "/addsource file:///etc/passwd")
        assert "это не адрес http или https" in (await replies(fake_bot_api, ADMIN, 3))[2]
        fake_bot_api.push_message(ADMIN, "/addsource http://x/" + "a" * 10_000)
        assert "Напишите адрес ленты" in (await replies(fake_bot_api, ADMIN, 4))[3]
        fake_bot_api.push_message(ADMIN, "/addsource " + feed_server.url("/feeds/tomsk.rss"))
        added = (await replies(fake_bot_api, ADMIN, 5))[4]
        assert "Добавлен источник" in added and "записей в ленте — 1" in added
        source = await store.sources.find("Тестовая лента")  # named by the feed's title
        assert source is not None and source.managed_by == "admin"
        assert scheduler.scheduler.get_job(job_id(source.id)) is not None
        fake_bot_api.push_message(ADMIN, "/addsource " + feed_server.url("/feeds/tomsk.rss"))
        assert "уже есть" in (await replies(fake_bot_api, ADMIN, 6))[5]

        fake_bot_api.push_message(ADMIN, f"/pausesource {source.id}")
        assert "приостановлен" in (await replies(fake_bot_api, ADMIN, 7))[6]
        assert scheduler.scheduler.get_job(job_id(source.id)) is None
        assert not (await store.sources.find(str(source.id))).enabled
        fake_bot_api.push_message(ADMIN, f"/pausesource #{source.id}")
        assert "снова опрашивается" in (await replies(fake_bot_api, ADMIN, 8))[7]
        assert scheduler.scheduler.get_job(job_id(source.id)) is not None

        config_source = (await store.sources.all())[0]
        fake_bot_api.push_message(ADMIN, f"/removesource {config_source.name}")
        assert "задан в файле настроек" in (await replies(fake_bot_api, ADMIN, 9))[8]
        fake_bot_api.push_message(ADMIN, f"/removesource {source.id}")
        assert "удалён" in (await replies(fake_bot_api, ADMIN, 10))[9]
        assert await store.sources.find(str(source.id)) is None
        assert scheduler.scheduler.get_job(job_id(source.id)) is None
        fake_bot_api.push_message(ADMIN, "/removesource 999")
        assert "Нет такого источника" in (await replies(fake_bot_api, ADMIN, 11))[10]
        fake_bot_api.push_message(ADMIN, "/help")
        assert "/addsource" in (await replies(fake_bot_api, ADMIN, 12))[11]
        fake_bot_api.push_message(901, "/help")
        assert "/addsource" not in (await replies(fake_bot_api, 901, 3))[2]
    finally:
        await stop(dp, task, fetcher)


async def test_addsource_refuses_private_addresses_by_default(store, tg_bot, fake_bot_api,
                                                              feed_server):
    feed_server.add("/rss", rss([{"title": "Новость", "link": feed_server.url("/n/1"),
                                  "description": "Текст."}]))
    dp, task, _scheduler, fetcher = await start(store, tg_bot, allow_private=False)
    try:
        for n, url in enumerate([feed_server.url("/rss"), "http://localhost:9/rss",
                                 "http://10.1.2.3/rss", "http://169.254.169.254/latest/",
                                 "http://[::1]/rss", "http://[::ffff:127.0.0.1]/rss"], 1):
            fake_bot_api.push_message(ADMIN, f"/addsource {url}")
            answer = (await replies(fake_bot_api, ADMIN, n))[n - 1]
            assert "во внутреннюю сеть" in answer, (url, answer)
        assert len(hits := feed_server.hits("/rss")) == 0, hits
    finally:
        await stop(dp, task, fetcher)


async def test_private_address_check():
    assert await private_address("http://127.0.0.1:8080/") == "127.0.0.1"
    assert await private_address("https://192.168.0.10/") == "192.168.0.10"
    assert await private_address("http://8.8.8.8/") is None
