"""An optional HTTP endpoint for operators: /healthz and Prometheus /metrics.

Totals (articles, reprints, stories, messages sent) and states (failing sources, outbox
depth, last good poll per source, subscribers) are read from the database at each scrape, so
they survive restarts; 429s received are counted by the running sender.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from bot import __version__
from bot.storage.stats import Counts
from bot.storage.store import Store

log = logging.getLogger(__name__)


class _Snapshot:
    """A collector over figures gathered (asynchronously) just before the scrape."""

    def __init__(self, s: Counts, sources, too_many: int) -> None:
        self.s, self.sources, self.too_many = s, sources, too_many

    def collect(self):
        s = self.s
        for name, value, about in (
                ("pressbot_articles", s.articles, "Articles stored."),
                ("pressbot_reprints", s.reprints, "Articles recognised as reprints."),
                ("pressbot_stories", s.stories, "Stories (groups of articles on one event)."),
                ("pressbot_messages_sent", s.sent_total, "Messages Telegram accepted."),
                ("pressbot_messages_failed", s.failed,
                 "Messages given up: rejected by Telegram or out of attempts."),
                ("pressbot_telegram_429", self.too_many,
                 "Telegram 429 answers since start.")):
            yield CounterMetricFamily(name, about, value=value)
        yield GaugeMetricFamily("pressbot_outbox_depth", "Messages waiting to be sent.",
                                value=s.outbox)
        yield GaugeMetricFamily("pressbot_sources_failing",
                                "Enabled sources whose last poll failed.", value=s.failing)
        yield GaugeMetricFamily("pressbot_sources", "Enabled sources.", value=s.sources)
        chats = GaugeMetricFamily("pressbot_chats", "Chats by status.", labels=["status"])
        for status, value in (("active", s.active), ("paused", s.paused), ("gone", s.gone)):
            chats.add_metric([status], value)
        yield chats
        last = GaugeMetricFamily("pressbot_source_last_success_timestamp_seconds",
                                 "Unix time of each source's last successful poll.",
                                 labels=["source"])
        errors = GaugeMetricFamily("pressbot_source_errors",
                                   "Consecutive failed polls of each source.", labels=["source"])
        for name, enabled, error_count, success in self.sources:
            if not enabled:
                continue
            errors.add_metric([name], error_count)
            if success is not None:
                last.add_metric([name], success.timestamp())
        yield last
        yield errors
        info = GaugeMetricFamily("pressbot_info", "Version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info


class MetricsServer:
    def __init__(self, store: Store, too_many: Callable[[], int] = lambda: 0, *,
                 health: Callable[[], dict[str, object]] = dict) -> None:
        self.store = store
        self.health = health
        self.too_many = too_many
        self.started = time.time()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            check = await self.store.stats.integrity()
            s = await self.store.stats.collect()
        except Exception as exc:  # the database does not answer: unhealthy, say why
            return web.json_response({"status": "error", "error": str(exc)[:200]}, status=503)
        parts = self.health()
        telegram = str(parts.get("telegram", "polling"))
        ok = check == "ok" and not telegram.startswith("restarting")
        return web.json_response(
            {"status": "ok" if ok else "error", "database": check, "version": __version__,
             "uptime_seconds": round(time.time() - self.started), "outbox_depth": s.outbox,
             "failing_sources": s.failing, "sources": s.sources, "failed_messages": s.failed,
             **parts}, status=200 if ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        registry = CollectorRegistry()
        registry.register(_Snapshot(await self.store.stats.collect(),
                                    await self.store.sources.health(), self.too_many()))
        return web.Response(body=generate_latest(registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("metrics on http://%s:%s/metrics and /healthz", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
