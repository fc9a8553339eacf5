"""Shared loaders for benchmarks: the labelled corpora in ../shared/eval."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RIA = SHARED / "eval" / "ria_news_topics" / "ria_news_topics_9.csv"


@dataclass(frozen=True)
class RiaArticle:
    id: str
    url: str
    title: str
    subtitle: str
    content: str
    published: str
    topic: str


def load_ria() -> list[RiaArticle]:
    if not RIA.exists():
        sys.exit(f"bench: {RIA} not found (the shared eval data sits beside the checkout)")
    csv.field_size_limit(10**8)
    with RIA.open(encoding="utf-8", newline="") as fh:
        return [RiaArticle(r["id"], r["url"], r["title"], r["subtitle"], r["content"],
                           r["datetime"], r["topic"]) for r in csv.DictReader(fh)]


def print_table(rows: list[tuple], headers: tuple[str, ...]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if n and i else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


async def serve_loopback(app):
    """Start an aiohttp ``app`` on 127.0.0.1 at a free port; returns (runner, port). The
    caller ends it with ``await runner.cleanup()``."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
