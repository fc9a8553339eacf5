"""The running pressbot: everything ``pressbot run`` starts, built from Settings.

    App(settings).start()   store -> sources synced -> indexes caught up -> fetcher, poller
                            -> the baseline corpus (files sources) stored -> scheduler with one
                            job per source and the jobs of JOBS -> sender -> Telegram (or the
                            console) -> metrics endpoint
    App.stop()              the reverse; messages in flight are finished

The jobs that run every minute are listed once, in JOBS; tests run one with ``run_job`` and a
clock of their own instead of waiting for the minute. aiogram stays inside bot/telegram/.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TextIO

from bot import __version__
from bot.config import Settings
from bot.delivery.digest import digest_tick
from bot.delivery.sender import Sender
from bot.delivery.updates import source_update_tick
from bot.ingest.fetch import Fetcher
from bot.memory import release_free_memory
from bot.models import CONSOLE_CHAT
from bot.pipeline import catch_up
from bot.poller import Poller
from bot.scheduler import SourceScheduler
from bot.storage.db import DatabaseError, utcnow
from bot.storage.lock import InstanceLock
from bot.storage.store import Store
from bot.understand.analyzer import Understanding

log = logging.getLogger(__name__)
STOP_POLLS_WAIT = 1.5  # seconds a poll in progress may take to finish at stop (Ctrl-C)


class App:
    def __init__(self, settings: Settings, *, console: bool = False,
                 clock: Callable[[], datetime] = utcnow,
                 console_in: TextIO | None = None, console_out: TextIO | None = None) -> None:
        self.console = console or not settings.telegram.token
        if self.console:  # the person at the terminal runs this pressbot: admin commands too
            settings = replace(settings, telegram=replace(
                settings.telegram, admins=(*settings.telegram.admins, CONSOLE_CHAT)))
        self.settings = settings
        self.clock = clock
        self.console_in = console_in
        self.console_out = console_out
        self.stopping = asyncio.Event()
        self.store: Store | None = None
        self.fetcher: Fetcher | None = None
        self.poller: Poller | None = None
        self.scheduler: SourceScheduler | None = None
        self.sender: Sender | None = None
        self.telegram = None  # bot.telegram.runtime.TelegramRuntime
        self.metrics = None  # bot.metrics.MetricsServer
        self.web = None  # bot.web.WebServer
        self.charts = None  # bot.web.charts.TrendCharts, for the web and Telegram /trends
        self.lock: InstanceLock | None = None
        self.understanding: Understanding | None = None  # built at start, after the lock
        self.sources = 0
        self._tasks: list[asyncio.Task] = []

    # ------------------------------------------------------------ jobs

    async def digest_job(self) -> None:
        assert self.store is not None and self.sender is not None
        if await digest_tick(self.store, self.settings.topics, self.clock()):
            self.sender.wake()

    async def source_update_job(self) -> None:
        assert self.store is not None and self.sender is not None
        quiet = timedelta(seconds=self.settings.telegram.update_sources_quiet)
        if self.settings.telegram.update_sources and await source_update_tick(
                self.store, self.clock(), quiet, self.page):
            self.sender.wake()

    def page(self, story_id: int) -> str | None:
        """A story's page in the web archive, when its public address is configured."""
        base = self.settings.web.base_url
        return f"{base.rstrip('/')}/story/{story_id}" if base and self.settings.web.enabled \
            else None

    async def teasers_job(self) -> None:
        """Teasers whose article page failed: tried again, stored once it came."""
        assert self.poller is not None and self.sender is not None
        if await self.poller.retry_teasers():
            self.sender.wake()

    async def alerts_job(self) -> None:
        """Tell the admins about sources that broke or work again (one message for a
        network that looks down), once each."""
        from bot.delivery.alerts import AlertState, SourceHealth, evaluate
        from bot.telegram.texts import alert_text

        assert self.store is not None and self.sender is not None
        admins = [a for a in self.settings.telegram.admins if a != CONSOLE_CHAT] \
            if not self.console else [CONSOLE_CHAT]
        if not admins:
            return
        health = [SourceHealth(s.name, s.enabled, s.failing_since, s.last_error,
                               s.last_success_at, s.last_checked_at)
                  for s in await self.store.sources.all()]
        state = AlertState.from_json(await self.store.state.get("alerts"))
        alerts, state = evaluate(health, state, self.clock(),
                                 timedelta(seconds=self.settings.telegram.alert_after))
        for alert in alerts:
            for admin in admins:
                chat = await self.store.chats.get(admin)
                await self.store.outbox.notify(admin,
                                               alert_text(chat.lang if chat else "ru", alert))
        await self.store.state.put("alerts", state.to_json())
        if alerts:
            self.sender.wake()

    async def release_memory_job(self) -> None:  # bursts of articles leave free pages behind
        await asyncio.to_thread(release_free_memory)

    JOBS: tuple[tuple[str, Callable[[App], Awaitable[None]]], ...] = (
        ("digest", digest_job),
        ("source-updates", source_update_job),
        ("teasers", teasers_job),
        ("alerts", alerts_job),
        ("release-memory", release_memory_job),
    )

    async def run_job(self, name: str) -> None:
        for job_name, job in self.JOBS:
            if job_name == name:
                await job(self)
                return
        raise KeyError(name)

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        settings = self.settings
        lock = InstanceLock(settings.database)
        lock.acquire()  # a second `pressbot run` on this database stops here, at once
        self.lock = lock
        self.understanding = Understanding.from_settings(settings)
        if settings.ner:  # load the NER models first: their loading peak sits on a small heap
            from bot.understand.entities import preload

            await asyncio.to_thread(preload)
        from bot.telegram.lazy_models import defer_aiogram_models

        defer_aiogram_models()  # before the first import of aiogram: ~100 MB less
        from bot.telegram.runtime import TelegramRuntime

        try:
            self.store = store = await Store.open(settings.database,
                                                      semantic=settings.dedup.semantic)
            check = await store.stats.integrity()
            if check != "ok":
                raise DatabaseError(f"database {settings.database} is damaged (quick_check:"
                                    f" {check[:120]}); `pressbot restore BACKUP` brings back a"
                                    " backup")
            released = await store.outbox.release_all_claims()
            if released:
                log.warning("%d messages were being sent when pressbot last stopped; they go"
                            " again", released)
            states = await store.sources.sync(settings.sources)
            await catch_up(store, self.understanding)
            self.fetcher = await Fetcher(settings.fetch).__aenter__()
            self.poller = Poller(store, self.fetcher, settings.fetch, settings.scheduler,
                                 understanding=self.understanding, delivery=settings.delivery,
                                 page=self.page)
            # The baseline corpus (files sources: the seeds) is stored before any feed is
            # polled, so that every feed article is compared against it.
            for state in states:
                if state.enabled and state.kind == "files":
                    result = await self.poller.poll(state.id)
                    log.info("source %s: %s, %d new", state.name, result.status, result.new)
            self.scheduler = SourceScheduler(self.poller, settings.scheduler)
            self.sources = self.scheduler.add_sources(await store.sources.all())
            from bot.web.charts import TrendCharts

            self.charts = TrendCharts(store.db, settings.topics)
            self.telegram = TelegramRuntime(
                settings, store, console=self.console, wake=self._wake,
                scheduler=self.scheduler, console_in=self.console_in,
                console_out=self.console_out, charts=self.charts)
            self.sender = Sender(store, self.telegram.transport,
                                 max_attempts=settings.telegram.max_attempts)
            await store.chats.sync_channels(settings.channels)
            for name, job in self.JOBS:
                self.scheduler.add_every_minute(name, partial(job, self))
            if settings.metrics.enabled:
                from bot.metrics import MetricsServer

                self.metrics = MetricsServer(store, lambda: self.telegram.pacer.too_many
                                             if self.telegram else 0, health=self.health)
                await self.metrics.start(settings.metrics.host, settings.metrics.port)
            if settings.web.enabled:
                await self._start_web()
            self._tasks.append(asyncio.create_task(self.sender.run(self.stopping),
                                                   name="sender"))
            await self.telegram.start(self.stopping)
            self.scheduler.start()
        except BaseException:
            await self.stop()
            raise

    async def _start_web(self) -> None:
        from bot.web import WebServer, WebServerError

        web = self.settings.web
        assert self.store is not None
        try:
            server = WebServer(self.store.db, host=web.host, port=web.port,
                               base_url=web.base_url or "", token=web.token,
                               topics=self.settings.topics)
            server.charts = self.charts or server.charts  # one cache for web and Telegram
            await server.start()
        except WebServerError as exc:  # a port in use: one warning, the rest runs
            log.warning("%s; pressbot runs without its web archive", exc)
            return
        self.web = server

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def banner(self) -> str:
        settings = self.settings
        where = ("console mode: type /start, then /help (no Telegram token set)"
                 if self.console else "Telegram bot running")
        served = (f"; metrics on http://{settings.metrics.host}:{self.metrics.port}/metrics"
                  if self.metrics else "")
        if self.web is not None:
            served += f"; archive on {self.web.address}"
        return (f"pressbot {__version__}: polling {self.sources} sources into"
                f" {settings.database} ({settings.origin}); {where}{served}. Ctrl-C stops.")

    async def stop(self) -> None:
        self.stopping.set()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.poller is not None and not await self.poller.wait_idle(STOP_POLLS_WAIT):
            cancelled = await self.poller.cancel_all()
            log.warning("stopped %d polls in progress; they run again at the next start",
                        cancelled)
        if self.telegram is not None:
            await self.telegram.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)  # the sender finishes in flight
        if self.metrics is not None:
            await self.metrics.stop()
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self.telegram is not None:
            await self.telegram.close()
        if self.fetcher is not None:
            await self.fetcher.__aexit__(None, None, None)
        if self.store is not None:
            await self.store.close()
        self.store = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def health(self) -> dict[str, object]:
        """What /healthz adds about the running parts."""
        out: dict[str, object] = {}
        if self.telegram is not None:
            out["telegram"] = self.telegram.state
            out["telegram_restarts"] = self.telegram.restarts
        if self.sender is not None:
            out["sending"] = ("paused: " + (self.sender.bot_down or self.sender.storage_error
                                            or "") if self.sender.bot_down
                              or self.sender.storage_error else "ok")
        return out

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, print the start line, run until ``stop`` is set, then stop."""
        await self.start()
        try:
            print(self.banner(), file=sys.stdout, flush=True)
            await stop.wait()
        finally:
            await self.stop()
