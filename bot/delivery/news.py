"""Old news is not news: which of a poll's new entries may be delivered. Pure.

An entry is news when it was published (or, undated, first seen) within ``max_age``. A
source's baseline poll (its first success, or the first after failing for longer than
``max_age``) delivers at most ``first_max`` entries, the newest news among them; the rest is
stored as the source's baseline. Files sources (the seeds) are never news.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.models import Entry


def is_baseline(last_success: datetime | None, now: datetime, max_age: timedelta) -> bool:
    """Is this poll a source's first look (or its first after a long outage)?"""
    return last_success is None or now - last_success > max_age


def news_flags(entries: Sequence[Entry], now: datetime, max_age: timedelta, *,
               baseline: bool, first_max: int) -> list[bool]:
    """For each entry, whether it may be delivered."""
    fresh = [(e.published or now) >= now - max_age for e in entries]
    if not baseline:
        return fresh
    newest = sorted((i for i, ok in enumerate(fresh) if ok),
                    key=lambda i: entries[i].published or now, reverse=True)[:first_max]
    chosen = set(newest)
    return [i in chosen for i in range(len(entries))]
