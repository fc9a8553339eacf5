"""APScheduler 3.11 jobs: one per source at its interval, with jitter, coalescing, one at a time.

A failing source's next run is moved to its backoff time (stored in ``next_check_at``), so the
schedule survives restarts: a source backed off for six hours stays backed off after a restart.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import SchedulerConfig
from bot.models import SourceState
from bot.poller import Poller
from bot.storage.db import utcnow

log = logging.getLogger(__name__)


def job_id(source_id: int) -> str:
    return f"source:{source_id}"


def first_run(source: SourceState, now: datetime, jitter: int, rng: random.Random) -> datetime:
    """When a source is first polled after start: at once (plus jitter) unless backed off."""
    start = now + timedelta(seconds=rng.uniform(0, jitter) if jitter else 0)
    if source.next_check_at is not None and source.next_check_at > start:
        return source.next_check_at
    return start


class SourceScheduler:
    def __init__(self, poller: Poller, config: SchedulerConfig, *,
                 scheduler: AsyncIOScheduler | None = None, rng: random.Random | None = None):
        self.poller = poller
        self.config = config
        self.scheduler = scheduler or AsyncIOScheduler(timezone="UTC")
        self.rng = rng or random.Random()

    def add_sources(self, sources: list[SourceState], now: datetime | None = None) -> int:
        now = now or utcnow()
        count = 0
        for source in sources:
            if not source.enabled:
                continue
            self.scheduler.add_job(
                self._run, IntervalTrigger(seconds=source.interval, jitter=self.config.jitter,
                                           timezone="UTC"),
                args=[source.id], id=job_id(source.id), name=source.name,
                next_run_time=first_run(source, now, self.config.jitter, self.rng),
                coalesce=True, max_instances=1, misfire_grace_time=self.config.misfire_grace,
                replace_existing=True)
            count += 1
        return count

    def remove_source(self, source_id: int) -> None:
        if self.scheduler.get_job(job_id(source_id)) is not None:
            self.scheduler.remove_job(job_id(source_id))

    def add_every_minute(self, name: str, func: Callable[[], Awaitable[object]]) -> None:
        """A job at the start of every minute (the digest tick)."""
        self.scheduler.add_job(func, CronTrigger(second=0, timezone="UTC"), id=name, name=name,
                               coalesce=True, max_instances=1, misfire_grace_time=50,
                               replace_existing=True)

    async def _run(self, source_id: int) -> None:
        result = await self.poller.poll(source_id)
        log.info("source %s: %s, %d new", result.source, result.status, result.new,
                 extra={"source": result.source})
        if result.status == "failed":
            state = await self.poller.store.sources.get(source_id)
            job = self.scheduler.get_job(job_id(source_id))
            if state is not None and state.next_check_at is not None and job is not None:
                job.modify(next_run_time=state.next_check_at)

    def start(self, *, paused: bool = False) -> None:
        """Start; must be called inside the running event loop."""
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
