"""Plain data passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

CONSOLE_CHAT = 1  # the one chat of console mode: the person at the terminal


@dataclass(frozen=True)
class Entry:
    """One item as read from a feed, a page or a file, before cleaning and storage."""

    title: str
    text: str
    url: str | None = None  # canonical http(s) URL, or None (seed files, entries without link)
    guid: str | None = None
    published: datetime | None = None  # timezone-aware
    origin: str = ""  # where it was read: feed URL, page URL or file path
    text_is_html: bool = False


@dataclass(frozen=True)
class Article:
    """A cleaned article ready to store: the unit that later stages work on."""

    title: str
    text: str
    url: str | None
    guid: str | None
    published: datetime | None
    origin: str
    content_hash: str
    id: int | None = None
    source_id: int | None = None
    fetched_at: datetime | None = None
    story_id: int | None = None
    reprint_of: int | None = None

    @property
    def label(self) -> str:
        """How the article is named to people: its URL, or its file (and entry id)."""
        if self.url:
            return self.url
        return f"{self.origin}#{self.guid}" if self.guid else self.origin


@dataclass(frozen=True)
class SourceState:
    """A source as stored, with its health."""

    id: int
    name: str
    kind: str
    location: str
    interval: int
    enabled: bool
    managed_by: str
    etag: str | None
    last_modified: str | None
    error_count: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    failing_since: datetime | None = None  # the first failure after the last success
    min_interval: int | None = None  # the feed's own lower bound on polling, seconds
    category: str | None = None  # the folder of an imported OPML list


@dataclass
class PollResult:
    """What one poll of one source did."""

    source: str
    status: str  # "ok" | "unchanged" | "failed"
    new: int = 0
    known: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Chat:
    """A subscriber, group or channel, with its delivery settings."""

    chat_id: int
    kind: str  # "private" | "group" | "supergroup" | "channel"
    lang: str
    mode: str  # "instant" | "digest"
    digest_time: str  # "HH:MM", local
    tz: str  # "Asia/Tomsk" or "UTC+07:00"
    thread_id: int | None  # a forum topic
    status: str  # "active" | "paused" | "blocked" | "dead"
    last_digest_at: datetime | None
    quiet_start: str | None = None  # "HH:MM" local: stories sent silently from here ...
    quiet_end: str | None = None  # ... to here


# The values a chat chose, by filter kind: "topic" -> topic ids, "place" -> place tags,
# "follow" and "exclude" -> words or phrases as typed (lower case).
FilterValues = dict[str, list[str]]
