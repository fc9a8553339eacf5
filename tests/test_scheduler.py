"""APScheduler jobs for sources: one per source, jitter, coalescing, backoff that moves the job."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.config import SchedulerConfig, SourceConfig
from bot.ingest.fetch import Fetcher
from bot.poller import Poller
from bot.scheduler import SourceScheduler, first_run, job_id

NOW = datetime(2025, 7, 16, 12, 0, tzinfo=UTC)


async def test_one_job_per_enabled_source_with_the_right_options(
        store, feed_server, fetch_config):
    states = await store.sources.sync((
        SourceConfig("a", "feed", url=feed_server.url("/a"), interval=600),
        SourceConfig("b", "feed", url=feed_server.url("/b"), interval=3600),
        SourceConfig("off", "feed", url=feed_server.url("/c"), enabled=False)))
    config = SchedulerConfig(jitter=30, misfire_grace=300)
    async with Fetcher(fetch_config) as fetcher:
        poller = Poller(store, fetcher, fetch_config, config)
        scheduler = SourceScheduler(poller, config, rng=random.Random(1))
        assert scheduler.add_sources(states, now=NOW) == 2
        scheduler.start(paused=True)
        try:
            jobs = {j.name: j for j in scheduler.scheduler.get_jobs()}
            assert set(jobs) == {"a", "b"}
            a = jobs["a"]
            assert a.coalesce is True and a.max_instances == 1 and a.misfire_grace_time == 300
            assert a.trigger.interval == timedelta(seconds=600) and a.trigger.jitter == 30
            assert NOW <= a.next_run_time <= NOW + timedelta(seconds=30)
            # Later fire times follow the interval, give or take the jitter.
            later = a.trigger.get_next_fire_time(NOW, NOW)
            assert NOW + timedelta(seconds=570) <= later <= NOW + timedelta(seconds=630)
        finally:
            scheduler.shutdown()


async def test_a_backed_off_source_keeps_its_backoff_after_restart(store, feed_server):
    (state,) = await store.sources.sync((SourceConfig("a", "feed", url=feed_server.url("/a")),))
    async with store.db.transaction() as tx:
        await tx.execute("UPDATE sources SET next_check_at = ?",
                           ((NOW + timedelta(hours=5)).isoformat(),))
    state = await store.sources.get(state.id)
    assert first_run(state, NOW, 30, random.Random(0)) == NOW + timedelta(hours=5)
    async with store.db.transaction() as tx:
        await tx.execute("UPDATE sources SET next_check_at = ?",
                           ((NOW - timedelta(hours=1)).isoformat(),))
    state = await store.sources.get(state.id)
    assert NOW <= first_run(state, NOW, 30, random.Random(0)) <= NOW + timedelta(seconds=30)


async def test_failure_moves_the_job_to_the_backoff_time(store, feed_server, fetch_config):
    feed_server.add("/down", "no", status=500)
    (state,) = await store.sources.sync((SourceConfig("down", "feed", url=feed_server.url("/down"),
                                                    interval=600),))
    config = SchedulerConfig(jitter=0)
    async with Fetcher(fetch_config) as fetcher:
        poller = Poller(store, fetcher, fetch_config, config)
        scheduler = SourceScheduler(poller, config)
        scheduler.add_sources([state])
        scheduler.start(paused=True)
        try:
            await scheduler._run(state.id)  # what the job runs
            job = scheduler.scheduler.get_job(job_id(state.id))
            stored = await store.sources.get(state.id)
            assert stored.error_count == 1
            assert job.next_run_time == stored.next_check_at
            delay = stored.next_check_at - stored.last_checked_at
            assert delay == timedelta(seconds=1200)
        finally:
            scheduler.shutdown()
