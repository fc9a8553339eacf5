"""Query parameters of the archive pages and feeds: parsed, bounded, checked. Pure.

Empty values count as absent (an HTML form sends every field). Anything out of bounds raises
``BadParameter`` with a one-line message naming the parameter, which the server answers with 400.
Unknown parameters are ignored (feed readers and mail clients add their own).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from bot.delivery.match import fts_query
from bot.storage.archive import ArchiveFilter

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_SEARCH = 200  # characters of a search
MAX_VALUE = 200  # characters of a place or an outlet
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
MAX_STORY_ID = 2**63 - 1

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FILTER_KEYS = ("q", "topic", "place", "outlet", "from", "to")


class BadParameter(ValueError):
    """A query parameter the archive cannot take; the message names it."""


@dataclass(frozen=True)
class Query:
    q: str | None = None
    topic: str | None = None
    place: str | None = None
    outlet: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @property
    def filtered(self) -> bool:
        return any(self.as_params().values())

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (page left out), for links."""
        values = {"q": self.q, "topic": self.topic, "place": self.place, "outlet": self.outlet,
                  "from": self.date_from.isoformat() if self.date_from else None,
                  "to": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in values.items() if v}

    def query_string(self, **extra: str | int | None) -> str:
        """``?a=b&...`` of the filters with ``extra`` changed (None removes), or ''."""
        params: dict[str, str | int] = dict(self.as_params())
        for key, value in extra.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return "?" + urlencode(params) if params else ""

    def with_(self, **change) -> Query:
        return replace(self, **change)

    def archive_filter(self, tz: tzinfo = UTC) -> ArchiveFilter:
        """The stories these parameters select; dates are whole days in ``tz``."""
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(0), tz).astimezone(UTC)

        match = None
        if self.q:
            # No word left (only punctuation): a query nothing matches, not everything.
            match = fts_query(self.q) or '""'
        return ArchiveFilter(
            topic=self.topic, place=self.place, outlet=self.outlet,
            since=midnight(self.date_from) if self.date_from else None,
            until=midnight(self.date_to + timedelta(days=1)) if self.date_to else None,
            match=match)


def _one(params: Mapping[str, Sequence[str]], key: str, limit: int) -> str | None:
    values = params.get(key) or []
    if len(values) > 1:
        raise BadParameter(f"{key}: given more than once")
    if not values:
        return None
    value = values[0].strip()
    if len(value) > limit:
        raise BadParameter(f"{key}: longer than {limit} characters")
    if _CONTROL.search(value):
        raise BadParameter(f"{key}: control characters are not allowed")
    return value or None


def _day(params: Mapping[str, Sequence[str]], key: str) -> date | None:
    value = _one(params, key, 10)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{key}: not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadParameter(f"{key}: outside {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_query(params: Mapping[str, Sequence[str]], topic_ids: Collection[str], *,
                max_page: int = MAX_PAGE) -> Query:
    """The archive query in ``params`` (each key to all its values, as a multidict gives)."""
    q = _one(params, "q", MAX_SEARCH)
    topic = _one(params, "topic", MAX_VALUE)
    if topic is not None and topic not in topic_ids:
        raise BadParameter(f"topic: no such topic {topic[:40]!r}")
    place = _one(params, "place", MAX_VALUE)
    outlet = _one(params, "outlet", MAX_VALUE)
    date_from, date_to = _day(params, "from"), _day(params, "to")
    if date_from and date_to and date_from > date_to:
        raise BadParameter("from: later than to")
    page_text = _one(params, "page", 12)
    page = 1
    if page_text is not None:
        if not page_text.isdigit() or not 1 <= int(page_text) <= max_page:
            raise BadParameter(f"page: must be a whole number from 1 to {max_page}")
        page = int(page_text)
    return Query(q=q, topic=topic, place=place, outlet=outlet, date_from=date_from,
                 date_to=date_to, page=page)


def multidict(query: Mapping[str, str] | object) -> dict[str, list[str]]:
    """aiohttp's MultiDictProxy (or any mapping with getall) as {key: [values]}."""
    out: dict[str, list[str]] = {}
    getall = getattr(query, "getall", None)
    for key in query:  # type: ignore[attr-defined]
        if key not in out:
            out[key] = list(getall(key)) if getall else [query[key]]  # type: ignore[index]
    return out


def story_id(text: str) -> int | None:
    """A story id from the path, or None when it cannot be one."""
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_STORY_ID else None
