"""The running pressbot: everything ``pressbot run`` starts, built from Settings.

    App(settings).start()   store -> sources synced -> indexes caught up -> fetcher, poller
                            -> the baseline corpus (files sources) stored -> scheduler with one
                            job per source and the jobs of JOBS -> sender -> Telegram (or the
                            console) -> metrics endpoint
    App.stop()              the reverse; messages in flight are finished

The jobs that run every minute are listed once, in JOBS; tests run one with ``run_job`` and a
clock of their own instead of waiting for the minute. aiogram stays inside bot/telegram/.

Several processes on one PostgreSQL database (``pressbot run --role``):


- ``all`` (the default) ingests and delivers; ``ingest`` only polls the sources and stores what
  they bring (placement queues the messages); ``deliver`` only talks to Telegram.
- Polling is divided by a lease per source (bot/storage/leases.py): a source whose lease another
  process holds is passed over, and one another process polled within the last half of its
  interval (or that is backed off after failures) is not polled again.
- Of the processes that deliver, one at a time is the *leader*: it alone reads Telegram's
  updates, sends the outbox and runs the every-minute jobs (digests, source updates, alerts), so
  Telegram's overall rate is one pacer's, whatever the number of processes. The others try to
  take the leadership every LEADER_TRY seconds; a leader that dies (its lease connection closes
  with it) is replaced within that time. A new leader first puts back what the last one was
  sending (claims are only the leader's: at most one repeat per chat). A leader whose lease
  connection stops answering steps down by stopping its process (a supervisor restarts it),
  since another process may already lead.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from bot.models import CONSOLE_CHAT, PollResult, SourceState
from bot.pipeline import catch_up
from bot.poller import Poller
from bot.scheduler import SourceScheduler
from bot.storage.db import DatabaseError, utcnow
from bot.storage.leases import LEADER, SOURCE, STARTUP, LeaseError, Leases
from bot.storage.lock import InstanceLock
from bot.storage.store import Store
from bot.understand.analyzer import Understanding

log = logging.getLogger(__name__)
STOP_POLLS_WAIT = 1.5  # seconds a poll in progress may take to finish at stop (Ctrl-C)

ROLES = ("all", "ingest", "deliver")
LEADER_TRY = 5.0  # seconds between a standby's tries to lead, and a leader's checks


def polled_elsewhere(source: SourceState, now: datetime) -> bool:
    """Did another process poll this source so recently (or back it off) that polling it now
    would poll it twice? Pure."""
    if source.error_count and source.next_check_at is not None and source.next_check_at > now:
        return True
    return source.last_checked_at is not None and \
        source.last_checked_at > now - timedelta(seconds=source.interval / 2)


class LeasedPoller(Poller):
    """A Poller that polls a source only while it holds the source's lease."""

    def __init__(self, *args, leases: Leases, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.leases = leases
        self.passed = 0  # polls left to another process

    async def _poll(self, source_id: int) -> PollResult:
        # Inside the poller's slot: a lease is taken only when this process can poll at once
        # (taken before, a process could hold the leases of every due source while it works
        # through them a few at a time, and the others would idle).
        try:
            taken = await self.leases.take(SOURCE, source_id)
        except LeaseError as exc:
            log.warning("source #%d not polled: %s", source_id, exc)
            return PollResult(source=f"#{source_id}", status="failed", error=str(exc))
        if not taken:
            self.passed += 1
            return PollResult(source=f"#{source_id}", status="unchanged")
        try:
            source = await self.store.sources.get(source_id)
            if source is not None and polled_elsewhere(source, self.clock()):
                self.passed += 1
                return PollResult(source=source.name, status="unchanged")
            return await super()._poll(source_id)
        finally:
            await self.leases.give_back(SOURCE, source_id)


class Leadership:
    """Tries to lead; ``on_lead`` runs once when it does, ``on_lost`` when the lease is lost."""

    def __init__(self, leases: Leases, on_lead: Callable[[], Awaitable[None]],
                 on_lost: Callable[[], None], *, every: float = LEADER_TRY) -> None:
        self.leases = leases
        self.on_lead = on_lead
        self.on_lost = on_lost
        self.every = every
        self.leading = False
        self.state = "standby"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self.leading:
                try:
                    self.leading = await self.leases.take(LEADER)
                except LeaseError as exc:
                    self.state = f"standby: {exc}"
                else:
                    if self.leading:
                        self.state = "leader"
                        log.info("this process leads: it reads Telegram's updates and sends")
                        await self.on_lead()
            elif not await self.leases.alive():
                self.state = "lost the leadership"
                log.error("the database connection holding the leadership broke; stopping"
                          " (another process may lead now)")
                self.leading = False
                self.on_lost()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)


class App:
    def __init__(self, settings: Settings, *, console: bool = False,
                 clock: Callable[[], datetime] = utcnow,
                 console_in: TextIO | None = None, console_out: TextIO | None = None,
                 role: str = "all") -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if role != "all" and settings.database_url is None:
            raise ValueError(f"--role {role} needs a PostgreSQL database ([database] url or"
                             " PRESSBOT_DB = postgresql://...): on SQLite one process does all")
        self.role = role
        self.ingests = role in ("all", "ingest")
        self.delivers = role in ("all", "deliver")
        self.console = (console or not settings.telegram.token) and self.delivers
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
        # PostgreSQL: leases between processes (one connection for the sources' leases, one
        # for the leadership), and who leads the delivery
        self.leases: Leases | None = None
        self.leader_leases: Leases | None = None
        self.leadership: Leadership | None = None
        self.lost = asyncio.Event()  # the leadership was lost: the process stops
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
        assert self.poller is not None
        if await self.poller.retry_teasers() and self.sender is not None:
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

    async def new_sources_job(self) -> None:
        """Sources added or removed by an admin through another process get their job here
        (or lose it)."""
        if self.scheduler is None or not isinstance(self.poller, LeasedPoller):
            return
        sources = await self.poller.store.sources.all()
        wanted = {s.id for s in sources if s.enabled}
        have = {int(j.id.split(":", 1)[1]) for j in self.scheduler.scheduler.get_jobs()
                if j.id.startswith("source:")}
        for gone in have - wanted:
            self.scheduler.remove_source(gone)
        added = [s for s in sources if s.id in wanted - have]
        if added:
            self.sources += self.scheduler.add_sources(added)

    async def release_memory_job(self) -> None:  # bursts of articles leave free pages behind
        await asyncio.to_thread(release_free_memory)

    JOBS: tuple[tuple[str, Callable[[App], Awaitable[None]]], ...] = (
        ("digest", digest_job),
        ("source-updates", source_update_job),
        ("teasers", teasers_job),
        ("alerts", alerts_job),
        ("release-memory", release_memory_job),
        ("new-sources", new_sources_job),
    )

    # Jobs that queue messages: on a shared database, the leader's alone (run by two processes
    # at once they would queue a digest twice).
    LEADER_JOBS = ("digest", "source-updates", "alerts")
    INGEST_JOBS = ("teasers", "new-sources")

    def _wanted(self, name: str) -> bool:
        if name in self.INGEST_JOBS:
            return self.ingests
        if name in self.LEADER_JOBS:
            return self.delivers
        return True

    async def _job(self, job: Callable[[App], Awaitable[None]], name: str) -> None:
        if name in self.LEADER_JOBS and self.leadership is not None \
                and not self.leadership.leading:
            return
        await job(self)

    async def run_job(self, name: str) -> None:
        for job_name, job in self.JOBS:
            if job_name == name:
                await job(self)
                return
        raise KeyError(name)

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        settings = self.settings
        shared = settings.database_url is not None
        if not shared:  # PostgreSQL: several processes share the database
            lock = InstanceLock(settings.database)
            lock.acquire()  # a second `pressbot run` on this file stops here, at once
            self.lock = lock
        if self.ingests:
            self.understanding = Understanding.from_settings(settings)
        if settings.ner and self.ingests:  # the NER models first: their peak on a small heap
            from bot.understand.entities import preload

            await asyncio.to_thread(preload)
        from bot.telegram.lazy_models import defer_aiogram_models

        defer_aiogram_models()  # before the first import of aiogram: ~100 MB less
        from bot.telegram.runtime import TelegramRuntime

        try:
            self.store = store = await Store.open(settings.store_location,
                                                  semantic=settings.dedup.semantic)
            check = await store.stats.integrity()
            if check != "ok":
                raise DatabaseError(f"database {store.path} is damaged (quick_check:"
                                    f" {check[:120]}); `pressbot restore BACKUP` brings back a"
                                    " backup")
            if shared:
                self.leases = await Leases.open(store.db)
                async with self.leases.hold(STARTUP):  # one process at a time
                    await self._prepare(store)
            else:
                # Alone on the file, whatever was in flight goes again.
                await self._release_claims()
                await self._prepare(store)
            self.scheduler = SourceScheduler(self.poller, settings.scheduler)  # type: ignore
            if self.ingests:
                self.sources = self.scheduler.add_sources(await store.sources.all())
            from bot.web.charts import TrendCharts

            self.charts = TrendCharts(store.db, settings.topics)
            if self.delivers:
                self.telegram = TelegramRuntime(
                    settings, store, console=self.console, wake=self._wake,
                    scheduler=self.scheduler if self.ingests else None,
                    console_in=self.console_in, console_out=self.console_out,
                    charts=self.charts)
                self.sender = Sender(store, self.telegram.transport,
                                     max_attempts=settings.telegram.max_attempts)
            for name, job in self.JOBS:
                if self._wanted(name):
                    self.scheduler.add_every_minute(name, partial(self._job, job, name))
            if settings.metrics.enabled:
                from bot.metrics import MetricsServer

                self.metrics = MetricsServer(store, lambda: self.telegram.pacer.too_many
                                             if self.telegram else 0, health=self.health)
                await self.metrics.start(settings.metrics.host, settings.metrics.port)
            if settings.web.enabled:
                await self._start_web()
            if self.delivers and shared and not self.console:
                self.leader_leases = await Leases.open(store.db)
                self.leadership = Leadership(self.leader_leases, self._lead, self.lost.set)
                self._tasks.append(asyncio.create_task(self.leadership.run(self.stopping),
                                                       name="leadership"))
            elif self.delivers:
                await self._lead()
            self.scheduler.start()
        except BaseException:
            await self.stop()
            raise

    async def _release_claims(self) -> None:
        """What was being sent when the last sender stopped goes again (at most one repeat
        per chat): at start when alone on the file, or when this process takes the lead."""
        assert self.store is not None
        released = await self.store.outbox.release_all_claims()
        if released:
            log.warning("%d messages were being sent when pressbot last stopped; they go"
                        " again", released)

    async def _prepare(self, store: Store) -> None:
        """Sources synced with the config, indexes caught up, the baseline corpus stored."""
        settings = self.settings
        states = await store.sources.sync(settings.sources)
        if self.delivers:
            await store.chats.sync_channels(settings.channels)
        if not self.ingests:
            return
        assert self.understanding is not None
        await catch_up(store, self.understanding)
        self.fetcher = await Fetcher(settings.fetch).__aenter__()
        kwargs = dict(understanding=self.understanding, delivery=settings.delivery,
                      page=self.page)
        self.poller = (LeasedPoller(store, self.fetcher, settings.fetch, settings.scheduler,
                                    leases=self.leases, **kwargs)
                       if self.leases is not None else
                       Poller(store, self.fetcher, settings.fetch, settings.scheduler,
                              **kwargs))
        # The baseline corpus (files sources: the seeds) is stored before any feed is
        # polled, so that every feed article is compared against it.
        for state in states:
            if state.enabled and state.kind == "files":
                result = await self.poller.poll(state.id)
                log.info("source %s: %s, %d new", state.name, result.status, result.new)

    async def _lead(self) -> None:
        """Start sending and reading Telegram's updates (the one process that does)."""
        assert self.sender is not None and self.telegram is not None
        if self.leadership is not None:  # claims are the leader's only: the last one's go
            await self._release_claims()
        self._tasks.append(asyncio.create_task(self.sender.run(self.stopping),
                                               name="sender"))
        await self.telegram.start(self.stopping)

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
        if not self.delivers:
            where = "role ingest: nothing sent from here"
        elif self.leadership is not None:
            where = (f"role {self.role}: {where} when this process leads (one of those sharing"
                     " the database does)")
        polling = f"polling {self.sources} sources into" if self.ingests else "delivering from"
        served = (f"; metrics on http://{settings.metrics.host}:{self.metrics.port}/metrics"
                  if self.metrics else "")
        if self.web is not None:
            served += f"; archive on {self.web.address}"
        return (f"pressbot {__version__}: {polling}"
                f" {self.store.path if self.store else settings.database}"
                f" ({settings.origin}); {where}{served}. Ctrl-C stops.")

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
        for leases in (self.leader_leases, self.leases):  # after the last send and poll
            if leases is not None:
                await leases.close()
        self.leases = self.leader_leases = None
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
        if self.leadership is not None:
            out["role"] = f"{self.role}, {self.leadership.state}"
        elif self.role != "all":
            out["role"] = self.role
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
            stopped = asyncio.create_task(stop.wait())
            lost = asyncio.create_task(self.lost.wait())
            await asyncio.wait({stopped, lost}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            lost.cancel()
            if self.lost.is_set():
                raise DatabaseError(f"database {self.store.path if self.store else ''}: the"
                                    " connection holding the leadership broke; stopped so"
                                    " that another process leads")
        finally:
            await self.stop()
