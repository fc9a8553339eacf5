"""Feed bytes to entries: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed with json.

feedparser 6 has no JSON Feed parser, so JSON Feed 1.0/1.1 (a small, plain JSON format) is read
here into the same Entry. feedparser is always handed bytes, never a string: a string that looks
like a URL or a path is fetched or opened by feedparser itself.
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
from bot.ingest.urls import canonical_url
from bot.models import Entry

# Dates further ahead than this are a feed's mistake, not news from the future.
_FUTURE_SLACK = timedelta(days=2)
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


class FeedError(ValueError):
    """The bytes are not a readable feed; the message says why in one line."""


@dataclass
class ParsedFeed:
    title: str
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    kind: str = ""


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _sane_date(value: datetime | None, now: datetime) -> datetime | None:
    if value is None or value < _EARLIEST or value > now + _FUTURE_SLACK:
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


def _finish(entries: list[Entry], warnings: list[str]) -> list[Entry]:
    """Drop repeated guids/URLs and entries with nothing in them; give title-less ones a title."""
    seen: set[str] = set()
    out = []
    for e in entries:
        key = e.guid or e.url
        if key and key in seen:
            warnings.append(f"repeated entry id {key!r} skipped")
            continue
        if key:
            seen.add(key)
        plain = html_to_text(e.text) if e.text_is_html else e.text
        if not e.title.strip() and not plain.strip():
            warnings.append(f"entry {key or len(out)} has neither title nor text; skipped")
            continue
        if not e.title.strip():
            e = Entry(title=_title_from_text(plain), text=e.text, url=e.url, guid=e.guid,
                      published=e.published, origin=e.origin, text_is_html=e.text_is_html)
        out.append(e)
    return out


def _parse_json_feed(body: bytes, origin: str, base_url: str | None) -> ParsedFeed:
    text, _ = decode(body, "utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
                        ) from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
            "https://jsonfeed.org/version/"):
        raise FeedError("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed has no items list")
    now = datetime.now(UTC)
    warnings: list[str] = []
    entries = []
    for item in items:
        if not isinstance(item, dict):
            warnings.append("JSON Feed item that is not an object skipped")
            continue
        html_body = item.get("content_html")
        body_text = html_body if isinstance(html_body, str) and html_body else None
        is_html = body_text is not None
        if body_text is None:
            for key in ("content_text", "summary"):
                if isinstance(item.get(key), str):
                    body_text = item[key]
                    break
        published = None
        for key in ("date_published", "date_modified"):
            raw = item.get(key)
            if isinstance(raw, str):
                try:
                    published = datetime.fromisoformat(raw.replace("Z", "+00:00"))
                except ValueError:
                    warnings.append(f"invalid date {raw[:40]!r} ignored")
                    continue
                if published.tzinfo is None:
                    published = published.replace(tzinfo=UTC)
                break
        url = canonical_url(str(item.get("url") or item.get("external_url") or ""), base_url)
        guid = item.get("id")
        entries.append(Entry(
            title=str(item.get("title") or ""), text=body_text or "", url=url,
            guid=str(guid) if guid is not None else None,
            published=_sane_date(published, now), origin=origin, text_is_html=is_html))
    return ParsedFeed(title=str(doc.get("title") or ""), entries=_finish(entries, warnings),
                      warnings=warnings, kind="json1")


def _entry_text(e) -> tuple[str, bool]:
    """The fullest text an entry offers (content over summary) and whether it is HTML."""
    best, best_html = "", False
    candidates = list(e.get("content") or [])
    if e.get("summary_detail"):
        candidates.append(e["summary_detail"])
    for c in candidates:
        value = c.get("value") or ""
        if len(value) > len(best):
            best = value
            best_html = "html" in (c.get("type") or "text/html")
    return best, best_html


def parse_feed(body: bytes, *, origin: str, charset: str | None = None,
               content_type: str | None = None, base_url: str | None = None) -> ParsedFeed:
    """Parse a feed document; raise FeedError when it holds no feed at all."""
    if not body or not body.strip():
        raise FeedError("empty body")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, origin, base_url)
    text, _ = decode(body, charset)
    headers = {"content-type": "application/xml; charset=utf-8"}
    if base_url:
        headers["content-location"] = base_url
    parsed = feedparser.parse(io.BytesIO(as_utf8_xml(text)), response_headers=headers,
                              sanitize_html=True, resolve_relative_uris=True)
    warnings: list[str] = []
    problem = parsed.get("bozo_exception")
    if not parsed.entries and not parsed.get("version"):
        head = text.lstrip()[:200].lower()
        if head.startswith("<!doctype html") or head.startswith("<html"):
            raise FeedError("got an HTML page, not a feed")
        reason = str(problem).splitlines()[0] if problem else "no RSS, Atom or JSON Feed found"
        raise FeedError(f"not a feed: {reason}")
    if problem is not None:
        warnings.append(f"feed is not well-formed, read leniently: {str(problem).splitlines()[0]}")
    now = datetime.now(UTC)
    entries = []
    for e in parsed.entries:
        content, is_html = _entry_text(e)
        # dict.get: feedparser's own get() maps updated<->published with a DeprecationWarning.
        published = _from_struct(dict.get(e, "published_parsed")) or _from_struct(
            dict.get(e, "updated_parsed"))
        raw_date = dict.get(e, "published") or dict.get(e, "updated")
        if published is None and raw_date:
            warnings.append(f"invalid date {raw_date[:40]!r} ignored")
        title = e.get("title") or ""
        if "html" in (e.get("title_detail") or {}).get("type", ""):
            title = html_to_text(title)
        entries.append(Entry(
            title=title, text=content, url=canonical_url(e.get("link"), base_url),
            guid=e.get("id") or None, published=_sane_date(published, now), origin=origin,
            text_is_html=is_html))
    usable = _finish(entries, warnings)
    if problem is not None and not usable:
        raise FeedError(f"malformed feed: {str(problem).splitlines()[0]}")
    return ParsedFeed(title=parsed.feed.get("title", ""), entries=usable, warnings=warnings,
                      kind=parsed.get("version") or "")
