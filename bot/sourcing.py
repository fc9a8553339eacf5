"""Sources the way admins manage them, for the command line and for Telegram alike:

- ``find_feeds``: a site's address or a feed's, to the feeds there are (discovery:
  bot/ingest/discover.py), through the real Fetcher with its limits and address checks;
- ``add_feed``: one of them becomes a source, named by the admin or by the feed's title, at
  most once per feed (the address normalised, and the feed recognised under another address by
  its identity);
- ``import_opml`` / ``export_opml``: subscription lists as every feed reader writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.config import Settings
from bot.ingest.discover import Discovery, FoundFeed, discover
from bot.ingest.fetch import ACCEPT_FEED, Fetcher
from bot.ingest.opml import OpmlFeed, OpmlProblem, parse_opml, plan_import, write_opml
from bot.ingest.urls import FeedIdentity, feed_url_key, host_of, normalize_feed_url, same_feed
from bot.models import SourceState
from bot.storage.store import Store

DEFAULT_INTERVAL = 900
MIN_INTERVAL = 60
MAX_INTERVAL = 7 * 86400
MAX_NAME = 80


async def find_feeds(url: str, settings: Settings) -> Discovery:
    """The feeds at ``url`` (a feed, or a site's page naming its feeds). Sources added this
    way may not reach private addresses, unless the config allows them."""
    public_only = not settings.fetch.allow_private_addresses
    async with Fetcher(settings.fetch) as fetcher:

        async def fetch(address: str) -> tuple[str, str | None, bytes]:
            got = await fetcher.fetch(address, accept=ACCEPT_FEED, public_only=public_only)
            kind = got.content_type or ""
            if got.charset:
                kind += f"; charset={got.charset}"
            return got.url, kind or None, got.body

        return await discover(url, fetch)


def source_name(found: FoundFeed, given: str | None) -> str:
    """The admin's name, else the feed's title, else its host; at most 80 characters."""
    name = " ".join((given or found.title or host_of(found.url) or "feed").split())
    return name[:MAX_NAME] or "feed"


@dataclass(frozen=True)
class Added:
    source: SourceState | None  # None: the feed was there already
    existing: SourceState | None = None
    entries: int = 0


def _identity(source: SourceState, raw: str | None) -> FeedIdentity | None:
    if not raw:
        return None
    try:
        return FeedIdentity.from_dict(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        return None


async def existing_source(store: Store, url: str, identity: FeedIdentity | None
                          ) -> SourceState | None:
    """The source that already is this feed: the same address (normalised), or the same feed
    under another address (its identity)."""
    key = feed_url_key(url)
    identities = await store.sources.identities()
    for source in await store.sources.all():
        if source.kind != "feed":
            continue
        if key is not None and feed_url_key(source.location) == key:
            return source
        theirs = _identity(source, identities.get(source.id))
        if identity is not None and theirs is not None and same_feed(identity, theirs):
            return source
    return None


async def add_feed(store: Store, found: FoundFeed, *, name: str | None = None,
                   interval: int = DEFAULT_INTERVAL, category: str | None = None) -> Added:
    """Make ``found`` a source (admin-managed), unless it is one already."""
    url = normalize_feed_url(found.url) or found.url
    existing = await existing_source(store, url, found.identity)
    if existing is not None:
        return Added(None, existing, found.entries)
    source = await store.sources.add(source_name(found, name), url, interval,
                                     category=category,
                                     identity=json.dumps(found.identity.as_dict(),
                                                         ensure_ascii=False))
    return Added(source, None, found.entries)


@dataclass
class ImportReport:
    added: list[SourceState] = field(default_factory=list)
    known: list[tuple[OpmlFeed, str]] = field(default_factory=list)
    refused: list[OpmlProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


async def import_opml(store: Store, data: bytes, *, interval: int = DEFAULT_INTERVAL
                      ) -> ImportReport:
    """Add the feeds of an OPML list (no network: each is checked when it is first polled,
    with the address checks of chat-added feeds). Raises OpmlError for a file that cannot be
    read at all."""
    doc = parse_opml(data)
    existing = {s.location: s.name for s in await store.sources.all() if s.kind == "feed"}
    plan = plan_import(doc, existing)
    report = ImportReport(known=plan.known, refused=plan.refused, warnings=doc.warnings)
    for feed in plan.add:
        url = normalize_feed_url(feed.url) or feed.url
        name = " ".join(feed.name.split())[:MAX_NAME] or (host_of(url) or "feed")
        report.added.append(await store.sources.add(name, url, interval,
                                                    category=feed.category))
    return report


async def export_opml(store: Store) -> bytes:
    """Every feed source (enabled or not) as OPML 2.0, with its category."""
    feeds = [OpmlFeed(name=s.name, url=s.location, category=s.category)
             for s in await store.sources.all() if s.kind == "feed"]
    return write_opml(feeds, title="pressbot sources")
