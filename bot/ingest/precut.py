"""A feed of too many entries cut to its newest ``max_entries`` before feedparser reads it.

feedparser builds a dictionary of every entry (sanitised HTML, resolved links, parsed dates)
before anything can be left out: a 10 MB feed of 60,000 entries costs hundreds of MB and a
minute of CPU for the 500 entries pressbot keeps. Here the document's ``<item>`` / ``<entry>``
elements are found with one scan (CDATA sections and comments skipped, so markup quoted in a
text is never taken for an element), each one's date is read from its own date element with
feedparser's date parser, and the document is rebuilt with the newest ``max_entries`` in their
order, everything around them as it was. The choice is the one ``limits.newest_indices`` makes
after a full parse. Pure.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from feedparser.datetimes import _parse_date

from bot.ingest.limits import newest_indices

# One scan of the document: quoted text first (its markup is not markup), then item and entry
# tags, with a namespace prefix or none (RSS 1.0 and 2.0 <item>, Atom <entry>).
_TOKENS = re.compile(
    r"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)"
    r"|<(/?)(?:[A-Za-z_][\w.-]*:)?(item|entry)(?=[\s/>])[^>]*?(/?)>",
    re.S)
_QUOTED = re.compile(r"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)", re.S)
# The date elements feedparser reads, the publication date before the update.
_PUBLISHED = re.compile(
    r"<(?:[A-Za-z_][\w.-]*:)?(?:pubDate|published|issued|date|created)(?:\s[^>]*)?>"
    r"\s*([^<]{1,100}?)\s*<", re.I)
_UPDATED = re.compile(
    r"<(?:[A-Za-z_][\w.-]*:)?(?:updated|modified)(?:\s[^>]*)?>\s*([^<]{1,100}?)\s*<", re.I)


@dataclass(frozen=True)
class Precut:
    text: str  # the document with the kept entries only
    total: int  # entries the document had
    kept: int

    @property
    def left_out(self) -> int:
        return self.total - self.kept

    def warning(self) -> str:
        return (f"feed has {self.total} entries: kept the newest {self.kept}, left out "
                f"{self.left_out} (max_entries)")


def entry_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each outermost item or entry element, in document order. An element
    left open at the end of the document runs to its end."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for m in _TOKENS.finditer(text):
        if m.group(2) is None:  # CDATA or a comment
            continue
        closing, self_closing = m.group(1) == "/", m.group(3) == "/"
        if closing:
            if depth:
                depth -= 1
                if not depth:
                    spans.append((start, m.end()))
        elif self_closing:
            if not depth:
                spans.append((m.start(), m.end()))
        else:
            if not depth:
                start = m.start()
            depth += 1
    if depth:
        spans.append((start, len(text)))
    return spans


def _date(element: str, sane: Callable[[datetime | None, str], datetime | None]
          ) -> datetime | None:
    plain = _QUOTED.sub("", element) if "<!" in element else element
    for pattern in (_PUBLISHED, _UPDATED):
        m = pattern.search(plain)
        if m is None:
            continue
        raw = m.group(1)
        try:
            parsed = _parse_date(raw)
            value = datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None
        except (OverflowError, ValueError, TypeError, OSError):
            value = None
        return sane(value, raw)
    return None


def precut(text: str, max_entries: int,
           sane: Callable[[datetime | None, str], datetime | None]) -> Precut | None:
    """The document cut to its newest ``max_entries`` entries, or None when it has no more
    than that. ``sane`` judges a date as the full parse does (an impossible one is unknown)."""
    spans = entry_spans(text)
    if len(spans) <= max_entries:
        return None
    dates = [_date(text[a:b], sane) for a, b in spans]
    chosen = newest_indices(dates, max_entries)
    parts = [text[:spans[0][0]]]
    for i in chosen:
        a, b = spans[i]
        parts.append(text[a:b])
    last = spans[-1][1]
    # What lies between the entries (whitespace, as a rule; RSS 1.0 may put a <textinput>
    # there) is kept when it is more than whitespace.
    for (_, end), (start, _) in pairwise(spans):
        gap = text[end:start]
        if gap.strip():
            parts.append(gap)
    parts.append(text[last:])
    return Precut("".join(parts), len(spans), len(chosen))


# A CDATA section (kept whole by re.split).
_CDATA = re.compile(r"(<!\[CDATA\[.*?\]\]>)", re.S)
_ENTITY_TAIL = re.compile(r"&[#\w]{0,12}$")


def _shorten_markup(segment: str, limit: int) -> tuple[str, int]:
    """Text between tags longer than ``limit`` cut to it, never inside a reference."""
    parts = segment.split("<")
    cut = 0
    for n, part in enumerate(parts):
        if len(part) <= limit:
            continue
        start = part.find(">") + 1 if n else 0  # the first part holds no tag
        if len(part) - start > limit:
            parts[n] = part[:start] + _ENTITY_TAIL.sub("", part[start:start + limit])
            cut += 1
    return "<".join(parts), cut


def shorten_texts(text: str, limit: int) -> tuple[str, int]:
    """Every CDATA section and every text between two tags longer than ``limit`` characters
    cut to ``limit`` (never inside a character reference), before feedparser copies and
    translates it whole in single calls that hold the interpreter for a second per few MB
    (the stages after it read at most that much of an entry). Linear in the document.
    Returns (text, how many were cut)."""
    if len(text) <= limit:
        return text, 0
    cut = 0
    pieces = _CDATA.split(text) if "<![CDATA[" in text else [text]
    for n, piece in enumerate(pieces):
        if len(piece) <= limit:
            continue
        if n % 2:  # a CDATA section
            pieces[n] = f"<![CDATA[{piece[9:-3][:limit]}]]>"
            cut += 1
        else:
            pieces[n], more = _shorten_markup(piece, limit)
            cut += more
    return "".join(pieces), cut
