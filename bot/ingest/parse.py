"""Feed bytes to entries: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed with json.

feedparser 6 has no JSON Feed parser, so JSON Feed 1.0/1.1 (a small, plain JSON format) is read
here into the same Entry. feedparser is always handed bytes, never a string: a string that looks
like a URL or a path is fetched or opened by feedparser itself.

Hostile input gets a FeedError (one line) or a feed whose bad parts are mended or left out, never
another exception: character references that name no character (surrogates such as
`&#55357;&#56832;`, NUL, numbers past U+10FFFF) are repaired before feedparser sees them (it
fails whole on them), control characters are stripped from titles and texts, impossible dates
become unknown, and `max_entries` bounds how many entries one poll hands on (a feed of more
is cut before feedparser reads it: bot/ingest/precut.py).
"""

from __future__ import annotations

import calendar
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import feedparser

from bot.ingest.charset import as_utf8_xml, decode
from bot.ingest.htmltext import html_to_text
from bot.ingest.limits import newest_indices
from bot.ingest.precut import precut, shorten_texts
from bot.ingest.urls import canonical_url
from bot.models import Entry
from bot.text.control import clean_text

# Dates further ahead than this are a feed's mistake, not news from the future; dates before
# this are a feed's mistake or a default (1970, 0001) standing for "unknown".
_FUTURE_SLACK = timedelta(days=1)
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A feed's own hint of how often to poll it is honoured up to this many seconds.
MAX_MIN_INTERVAL = 24 * 3600
_SY_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
               "yearly": 365 * 86400}
# Numeric character references; a high surrogate followed by a low one is one character.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_SURROGATE_PAIR = re.compile(r"&#(?:[xX](0*[dD][89abAB][0-9a-fA-F]{2})|(0*5[56][0-9]{3}));?"
                             r"&#(?:[xX](0*[dD][c-fC-F][0-9a-fA-F]{2})|(0*5[67][0-9]{3}));?")
# Raw C0 controls other than tab, newline and carriage return are not XML at all.
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class FeedError(ValueError):
    """The bytes are not a readable feed; the message says why in one line."""


@dataclass
class ParsedFeed:
    title: str
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    kind: str = ""
    # The feed's own lower bound on the polling interval, in seconds (RSS <ttl>, or
    # sy:updatePeriod / sy:updateFrequency), at most MAX_MIN_INTERVAL; None when it names none.
    min_interval: int | None = None
    # How many entries max_entries left out.
    left_out: int = 0


def _code_point(hex_digits: str | None, dec_digits: str | None) -> int | None:
    digits = (hex_digits or dec_digits or "").lstrip("0") or "0"
    if len(digits) > 8:
        return None
    return int(digits, 16 if hex_digits else 10)


def _allowed(cp: int | None) -> bool:
    return (cp is not None and cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF
            and (cp >= 0x20 or cp in (0x9, 0xA, 0xD)) and cp not in (0xFFFE, 0xFFFF))


def repair_char_refs(text: str) -> tuple[str, int]:
    """Character references that name no character, mended: a surrogate pair written as two
    references becomes the one character it encodes, a lone surrogate or a number past
    U+10FFFF becomes U+FFFD, a control character other than tab and line ends goes. Returns
    (text, how many were mended)."""
    if "&#" not in text:
        return text, 0
    mended = 0

    def pair(m: re.Match[str]) -> str:
        nonlocal mended
        high = _code_point(m.group(1), m.group(2))
        low = _code_point(m.group(3), m.group(4))
        if high is None or low is None or not (0xD800 <= high <= 0xDBFF
                                                 and 0xDC00 <= low <= 0xDFFF):
            return m.group(0)
        mended += 1
        return f"&#x{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):X};"

    def single(m: re.Match[str]) -> str:
        nonlocal mended
        cp = _code_point(m.group(1), m.group(2))
        if _allowed(cp):
            return m.group(0)
        mended += 1
        if cp is not None and cp < 0x20:
            return ""
        return "&#xFFFD;"

    text = _SURROGATE_PAIR.sub(pair, text)
    return _CHAR_REF.sub(single, text), mended


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _sane_date(value: datetime | None, now: datetime, raw: str | None = None,
               warnings: list[str] | None = None) -> datetime | None:
    """``value`` when it is a possible publication time: after 1990, at most a day ahead, and
    not read from a negative or truncated ISO year (feedparser turns "-0001-01-01" into
    2000-01-01 and "-2024-05-01" into a day of the current year). None otherwise."""
    if value is None:
        return None
    try:
        impossible = value < _EARLIEST or value > now + _FUTURE_SLACK
    except (OverflowError, TypeError):
        impossible = True
    if raw is not None and raw.strip().startswith(("-", "+")):
        impossible = True
    if impossible:
        if warnings is not None:
            warnings.append(f"impossible date {(raw or str(value))[:40]!r} ignored")
        return None
    return value


def _from_struct(st) -> datetime | None:
    if not st:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(st), UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _title_from_text(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    m = re.match(r"(.{20,160}?[.!?…])(\s|$)", first)
    if m:
        return m.group(1)
    return first[:120].rsplit(" ", 1)[0] + "…" if len(first) > 120 else first


def _clean(value: object) -> str:
    """A string field from a feed: text only (anything else counts as absent), surrogates
    mended, control characters gone."""
    return clean_text(value) if isinstance(value, str) else ""


def _finish(entries: list[Entry], warnings: list[str]) -> list[Entry]:
    """Drop repeated guids/URLs and entries with nothing in them; give title-less ones a
    title."""
    seen: set[str] = set()
    out = []
    for e in entries:
        key = e.guid or e.url
        if key and key in seen:
            warnings.append(f"repeated entry id {key[:100]!r} skipped")
            continue
        if key:
            seen.add(key)
        if not e.title.strip():
            plain = html_to_text(e.text) if e.text_is_html else e.text
            if not plain.strip():
                warnings.append(f"entry {(key or str(len(out)))[:100]} has neither title nor"
                                " text; skipped")
                continue
            e = Entry(title=clean_text(_title_from_text(plain)), text=e.text, url=e.url,
                      guid=e.guid, published=e.published, origin=e.origin,
                      text_is_html=e.text_is_html)
        out.append(e)
    return out


def _cap(items: list, dates: list[datetime | None], max_entries: int | None,
         warnings: list[str]) -> tuple[list, list[datetime | None], int]:
    """The newest ``max_entries`` of a feed's raw items (and their dates), before the work of
    turning each into an Entry; a warning says how many were left out."""
    if max_entries is None or len(items) <= max_entries:
        return items, dates, 0
    chosen = newest_indices(dates, max_entries)
    left_out = len(items) - len(chosen)
    warnings.append(f"feed has {len(items)} entries: kept the newest {len(chosen)}, left out "
                    f"{left_out} (max_entries)")
    return [items[i] for i in chosen], [dates[i] for i in chosen], left_out


def _json_date(item: dict, now: datetime, warnings: list[str]) -> datetime | None:
    for key in ("date_published", "date_modified"):
        raw = item.get(key)
        if not isinstance(raw, str):
            continue
        try:
            published = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            warnings.append(f"invalid date {_clean(raw)[:40]!r} ignored")
            continue
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return _sane_date(published, now, raw, warnings)
    return None


def _parse_json_feed(body: bytes, origin: str, base_url: str | None,
                     max_entries: int | None) -> ParsedFeed:
    text, _ = decode(body, "utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
                        ) from None
    except RecursionError:
        raise FeedError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise FeedError(f"invalid JSON: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(doc, dict) or not str(doc.get("version", ""))[:100].startswith(
            "https://jsonfeed.org/version/"):
        raise FeedError("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed has no items list")
    now = datetime.now(UTC)
    warnings: list[str] = []
    objects = [item for item in items if isinstance(item, dict)]
    if len(objects) < len(items):
        warnings.append(f"{len(items) - len(objects)} JSON Feed items that are not objects"
                        " skipped")
    dates = [_json_date(item, now, warnings) for item in objects]
    objects, dates, left_out = _cap(objects, dates, max_entries, warnings)
    entries = []
    for item, published in zip(objects, dates, strict=True):
        html_body = item.get("content_html")
        body_text = html_body if isinstance(html_body, str) and html_body else None
        is_html = body_text is not None
        if body_text is None:
            for key in ("content_text", "summary"):
                if isinstance(item.get(key), str):
                    body_text = item[key]
                    break
        link = _clean(item.get("url")) or _clean(item.get("external_url"))
        raw_id = item.get("id")
        guid = None
        if isinstance(raw_id, str | int | float) and not isinstance(raw_id, bool):
            guid = _clean(str(raw_id))[:2000] or None
        entries.append(Entry(
            title=_clean(item.get("title")), text=_clean(body_text),
            url=canonical_url(link or None, base_url), guid=guid, published=published,
            origin=origin, text_is_html=is_html))
    return ParsedFeed(title=_clean(doc.get("title")), entries=_finish(entries, warnings),
                      warnings=warnings, kind="json1", left_out=left_out)


def _entry_text(e) -> tuple[str, bool]:
    """The fullest text an entry offers (content over summary) and whether it is HTML."""
    best, best_html = "", False
    candidates = list(e.get("content") or [])
    if e.get("summary_detail"):
        candidates.append(e["summary_detail"])
    for c in candidates:
        value = c.get("value") or ""
        if isinstance(value, str) and len(value) > len(best):
            best = value
            best_html = "html" in (c.get("type") or "text/html")
    return best, best_html


def _number(value: object, limit: int = 10**6) -> int | None:
    """A small non-negative integer from a feed's text, or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 7:
        return None
    number = int(value)
    return number if number <= limit else None


def min_interval(feed: dict) -> int | None:
    """The feed's own lower bound on the polling interval in seconds: RSS <ttl> (minutes) and
    sy:updatePeriod / sy:updateFrequency (the larger of the two when both are given), at most
    MAX_MIN_INTERVAL. None when the feed names none (or only nonsense)."""
    found = []
    ttl = _number(dict.get(feed, "ttl"))
    if ttl:
        found.append(ttl * 60)
    period = dict.get(feed, "sy_updateperiod")
    if isinstance(period, str) and period.strip().lower() in _SY_PERIODS:
        frequency = _number(dict.get(feed, "sy_updatefrequency")) or 1
        found.append(_SY_PERIODS[period.strip().lower()] // frequency)
    if not found:
        return None
    return max(1, min(max(found), MAX_MIN_INTERVAL))


def _feedparser(data: bytes, headers: dict[str, str]):
    """feedparser.parse, any failure of it a FeedError (it is a big parser of strangers' text:
    what it cannot take must fail this feed alone, in one line)."""
    try:
        return feedparser.parse(io.BytesIO(data), response_headers=headers, sanitize_html=True,
                                resolve_relative_uris=True)
    except RecursionError:
        raise FeedError("feed nested too deeply") from None
    except Exception as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise FeedError(f"feed parser failed: {type(exc).__name__}: {first}".rstrip(": ")
                        ) from None


def parse_feed(body: bytes, *, origin: str, charset: str | None = None,
               content_type: str | None = None, base_url: str | None = None,
               max_entries: int | None = None, max_text_chars: int | None = None
               ) -> ParsedFeed:
    """Parse a feed document; raise FeedError when it holds no feed at all. ``max_entries``:
    keep at most that many entries, the newest (undated ones after dated ones, in feed order);
    the kept entries stay in feed order and a warning says how many were left out.
    ``max_text_chars``: a longer text in the document (an entry's content) is cut to it
    before feedparser reads it, with a warning."""
    if not body or not body.strip():
        raise FeedError("empty body")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, origin, base_url, max_entries)
    text, _ = decode(body, charset)
    warnings: list[str] = []
    text, mended = repair_char_refs(text)
    if mended:
        warnings.append(f"{mended} character references that name no character replaced")
    text, controls = _RAW_CONTROL.subn("", text)
    if controls:
        warnings.append(f"{controls} control characters removed")
    headers = {"content-type": "application/xml; charset=utf-8"}
    if base_url:
        headers["content-location"] = base_url
    if max_text_chars is not None:
        text, shortened = shorten_texts(text, max_text_chars)
        if shortened:
            warnings.append(f"{shortened} texts longer than {max_text_chars} characters cut"
                            " before parsing")
    now = datetime.now(UTC)
    cut = None
    if max_entries is not None:
        cut = precut(text, max_entries, lambda value, raw: _sane_date(value, now, raw))
    parsed = None
    if cut is not None:
        parsed = _feedparser(as_utf8_xml(cut.text), headers)
        if len(parsed.entries) != cut.kept:  # the scan misread the document: parse it all
            parsed, cut = None, None
    if parsed is None:
        parsed = _feedparser(as_utf8_xml(text), headers)
    problem = parsed.get("bozo_exception")
    if not parsed.entries and not parsed.get("version"):
        head = text.lstrip()[:200].lower()
        if head.startswith("<!doctype html") or head.startswith("<html"):
            raise FeedError("got an HTML page, not a feed")
        reason = _one_line(problem) if problem else "no RSS, Atom or JSON Feed found"
        raise FeedError(f"not a feed: {reason}")
    if problem is not None:
        warnings.append(f"feed is not well-formed, read leniently: {_one_line(problem)}")
    raw_entries = list(parsed.entries)
    dates = []
    for e in raw_entries:
        # dict.get: feedparser's own get() maps updated<->published with a DeprecationWarning.
        published = _from_struct(dict.get(e, "published_parsed")) or _from_struct(
            dict.get(e, "updated_parsed"))
        raw_date = _clean(dict.get(e, "published") or dict.get(e, "updated")) or None
        if published is None and raw_date:
            warnings.append(f"invalid date {raw_date[:40]!r} ignored")
        dates.append(_sane_date(published, now, raw_date, warnings))
    raw_entries, dates, left_out = _cap(raw_entries, dates, max_entries, warnings)
    if cut is not None:
        warnings.append(cut.warning())
        left_out += cut.left_out
    entries = []
    for e, published in zip(raw_entries, dates, strict=True):
        content, is_html = _entry_text(e)
        title = _clean(e.get("title"))
        if "html" in (e.get("title_detail") or {}).get("type", ""):
            title = clean_text(html_to_text(title))
        link = _clean(e.get("link")) or None
        entries.append(Entry(
            title=title, text=_clean(content), url=canonical_url(link, base_url),
            guid=_clean(e.get("id"))[:2000] or None, published=published, origin=origin,
            text_is_html=is_html))
    usable = _finish(entries, warnings)
    if problem is not None and not usable:
        raise FeedError(f"malformed feed: {_one_line(problem)}")
    return ParsedFeed(title=_clean(parsed.feed.get("title")), entries=usable,
                      warnings=warnings, kind=parsed.get("version") or "",
                      min_interval=min_interval(parsed.feed), left_out=left_out)


def _one_line(problem: object) -> str:
    text = str(problem).strip()
    return text.splitlines()[0][:300] if text else type(problem).__name__
