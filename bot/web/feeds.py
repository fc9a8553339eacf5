"""Stories out: the entries of the Atom feed, the JSON Feed 1.1 document and the CSV export.
Pure: they take listed stories and return documents (the Atom XML itself is a template).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.storage.archive import StoryItem
from bot.web.present import (
    outlets,
    printable_text,
    safe_url,
    spreadsheet_cell,
)

FEED_ITEMS = 50
EXPORT_MAX = 10_000
EXPORT_CHUNK = 500  # stories read and written at a time: the loop is not held for long
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def iso(value: datetime | None) -> str:
    """RFC 3339 in UTC, as Atom and JSON Feed want."""
    return (value or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FeedEntry:
    id: str
    link: str  # the story's page
    related: str | None  # the original article
    title: str
    summary: str
    published: str
    updated: str
    topics: tuple[tuple[str, str], ...]  # (id, name)
    places: tuple[str, ...]
    outlets: tuple[str, ...]


def entries(stories: Sequence[StoryItem], base: str,
            topic_names: Mapping[str, str]) -> list[FeedEntry]:
    out = []
    for s in stories:
        page = f"{base}/story/{s.story_id}"
        summary = s.summary or ""
        if s.key_figures:
            summary += "\n\nЦифры: " + "; ".join(s.key_figures[:5])
        out.append(FeedEntry(
            id=page, link=page, related=safe_url(s.url), title=s.title, summary=summary,
            published=iso(s.at), updated=iso(s.updated or s.at),
            topics=tuple((t, topic_names.get(t, t)) for t in s.topics), places=s.places,
            outlets=tuple(outlets(s.carriers))))
    return out


def feed_updated(items: Sequence[FeedEntry]) -> str:
    return max((e.updated for e in items), default=iso(None))


def json_feed(items: Sequence[FeedEntry], *, title: str, home: str, feed_url: str) -> dict:
    """A JSON Feed 1.1 document (serialise it with json.dumps: it escapes what JSON must)."""
    def item(e: FeedEntry) -> dict:
        text = printable_text(e.summary)
        if e.outlets:
            text += "\n\nИсточники: " + ", ".join(e.outlets)
        out = {"id": e.id, "url": e.link, "title": printable_text(e.title),
               "content_text": printable_text(text), "summary": printable_text(e.summary),
               "date_published": e.published, "date_modified": e.updated,
               "tags": [printable_text(name) for _, name in e.topics]
               + [printable_text(p) for p in e.places]}
        if e.related:
            out["external_url"] = e.related
        return out

    return {"version": JSON_FEED_VERSION, "title": title, "home_page_url": home,
            "feed_url": feed_url, "language": "ru", "authors": [{"name": "pressbot"}],
            "items": [item(e) for e in items]}


CSV_COLUMNS = ("date", "title", "outlets", "topics", "places", "link", "page")


def export_csv(stories: Sequence[StoryItem], base: str, topic_names: Mapping[str, str],
               tz: tzinfo, *, header: bool = True) -> str:
    """One row per story: its time (in ``tz``), title, outlets, topics, places, the original's
    link and the story's page. Cells that look like formulas are defused. Without ``header``,
    the rows only (the next part of a streamed export)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for s in stories:
        writer.writerow([
            s.at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if s.at else "",
            spreadsheet_cell(s.title),
            spreadsheet_cell(", ".join(outlets(s.carriers))),
            spreadsheet_cell(", ".join(topic_names.get(t, t) for t in s.topics)),
            spreadsheet_cell(", ".join(s.places)), spreadsheet_cell(s.url or ""),
            f"{base}/story/{s.story_id}"])
    return out.getvalue()
