"""Trend charts: stories per topic and per place in each of the last 12 weeks, as PNG.

Drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, no display, safe in a
worker thread), made on request and kept for a few minutes. ``TrendCharts.png`` is what the web
pages serve and what the Telegram side sends with sendPhoto; ``trends_png`` is the same picture
without the cache.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.config import TopicConfig
from bot.storage import archive
from bot.storage.db import Database, utcnow

WEEKS = 12
TOP = 8  # lines per chart: the topics or places with most stories over the weeks
CACHE_SECONDS = 300
KINDS = ("topics", "places", "all")


@dataclass(frozen=True)
class Trend:
    """Weekly story counts of the top topics or places, most stories first."""

    kind: str  # "topic" | "place"
    weeks: tuple[date, ...]  # the Monday of each week, oldest first
    series: tuple[tuple[str, str, tuple[int, ...]], ...]  # (key, label, counts)


def week_start(now: datetime, tz: tzinfo, weeks: int = WEEKS) -> datetime:
    """Midnight (in ``tz``) of the Monday ``weeks - 1`` weeks before this week's: the window
    is the current week and the ``weeks - 1`` before it."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday()) - timedelta(weeks=weeks - 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz).astimezone(UTC)


async def load_trend(db: Database, kind: str, topics: Sequence[TopicConfig], now: datetime,
                     tz: tzinfo, weeks: int = WEEKS, top: int = TOP) -> Trend:
    start = week_start(now, tz, weeks)
    counts = await archive.weekly_counts(db, kind, start, weeks)
    names = {t.id: t.name_ru for t in topics}
    if kind == "topic":  # topics no longer configured are not shown
        counts = {k: v for k, v in counts.items() if k in names}
    ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:top]
    first = start.astimezone(tz).date()
    return Trend(kind, tuple(first + timedelta(weeks=i) for i in range(weeks)),
                 tuple((k, names.get(k, k), tuple(v)) for k, v in ranked))


TITLES = {"topic": "Сюжеты по темам за неделю", "place": "Сюжеты по местам за неделю"}


def _draw(ax, trend: Trend) -> None:
    x = list(range(len(trend.weeks)))
    ax.set_title(TITLES[trend.kind], fontsize=14, loc="left")
    ax.set_xticks(x, [d.strftime("%d.%m") for d in trend.weeks], fontsize=10)
    ax.tick_params(axis="y", labelsize=10)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_xlim(-0.3, len(x) - 0.7)
    if not trend.series:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "Нет сюжетов за эти недели", ha="center", va="center",
                transform=ax.transAxes, fontsize=11, color="#555555")
        return
    for _key, label, counts in trend.series:
        ax.plot(x, counts, marker="o", markersize=3, linewidth=2, label=label[:40])
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=10,
              frameon=False)


def render_png(trends: Sequence[Trend]) -> bytes:
    """One panel per trend, stacked; 800 pixels wide. CPU-bound: run it in a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.8 * len(trends)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for ax, trend in zip(fig.subplots(len(trends), 1, squeeze=False)[:, 0], trends,
                         strict=True):
        _draw(ax, trend)
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white")
    return out.getvalue()


def _kinds(kind: str) -> tuple[str, ...]:
    if kind not in KINDS:
        raise ValueError(f"unknown chart {kind!r}; one of {', '.join(KINDS)}")
    return ("topic", "place") if kind == "all" else (kind[:-1],)


async def trends_png(db: Database, topics: Sequence[TopicConfig], kind: str = "all", *,
                     now: datetime | None = None, tz: tzinfo = UTC) -> bytes:
    """The chart as PNG bytes: "topics", "places", or "all" (both, one above the other)."""
    now = now or utcnow()
    trends = [await load_trend(db, k, topics, now, tz) for k in _kinds(kind)]
    return await asyncio.to_thread(render_png, trends)


class TrendCharts:
    """Trends and their PNGs, each kept for ``ttl`` seconds."""

    def __init__(self, db: Database, topics: Sequence[TopicConfig], *, tz: tzinfo = UTC,
                 ttl: float = CACHE_SECONDS, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.topics, self.tz, self.ttl, self.clock = db, topics, tz, ttl, clock
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}
        # one lock per kind of value: a PNG's render (holding its lock) may load a trend
        self._locks = {"trend": asyncio.Lock(), "png": asyncio.Lock()}
        self.renders = 0  # PNGs drawn since start (the cache's misses)

    async def _cached(self, key: tuple[str, str], make):
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        async with self._locks[key[0]]:  # one render at a time; others wait, then hit
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            value = await make()
            self._cache[key] = (time.monotonic() + self.ttl, value)
            return value

    async def trend(self, kind: str) -> Trend:
        """kind "topic" or "place"."""
        async def make() -> Trend:
            return await load_trend(self.db, kind, self.topics, self.clock(), self.tz)
        return await self._cached(("trend", kind), make)

    async def png(self, kind: str = "all") -> bytes:
        kinds = _kinds(kind)

        async def make() -> bytes:
            trends = [await self.trend(k) for k in kinds]
            self.renders += 1
            return await asyncio.to_thread(render_png, trends)
        return await self._cached(("png", kind), make)
