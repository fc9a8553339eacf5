"""The feeds of a site, from its address: what an admin gives /addsource is often a home page.

In order, as feed readers do it (miniflux's subscription finder, RSS-to-Telegram-Bot):
1. the address itself, when it already is a feed;
2. the page's ``<link rel="alternate">`` feeds (RSS, Atom, JSON Feed types), in page order, comment
   feeds last, resolved against ``<base href>`` or the page's final URL;
3. links in the page that look like feeds (``<a href="/rss/">RSS</a>``, common on Russian
   government and city sites that declare nothing in their head);
4. the usual paths (``/rss``, ``/feed``, ``/rss.xml``, ...), beside the page and at the root.
A stage that finds a feed ends the search. Every candidate is fetched and must parse as a feed
(``parse_feed``); the number of requests, their concurrency and the total time are bounded.

Network access goes through the ``fetch`` callable the caller passes (the real Fetcher, with its
limits, redirect checks and private-address refusal): url -> (final_url, content_type, body); it
raises on any failure, with a one-line message. Everything else here is pure.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from bot.ingest.charset import decode
from bot.ingest.parse import FeedError, ParsedFeed, parse_feed
from bot.ingest.urls import FeedIdentity, feed_identity, host_of, normalize_feed_url, same_feed

Fetch = Callable[[str], Awaitable[tuple[str, str | None, bytes]]]

MAX_REQUESTS = 12
CONCURRENCY = 4
TIMEOUT = 60.0
MAX_LINKS = 20
MAX_ANCHORS = 10
MAX_TITLE = 200

# Declared types of <link rel="alternate"> that name feeds, and the kind each announces.
FEED_TYPES = {
    "application/rss+xml": "rss", "application/x-rss+xml": "rss", "text/rss+xml": "rss",
    "application/rdf+xml": "rss", "application/atom+xml": "atom",
    "application/x-atom+xml": "atom", "text/atom+xml": "atom", "application/feed+json": "json",
    "application/json": "json", "application/xml": None, "text/xml": None,
}
USUAL_PATHS = ("rss", "feed", "rss.xml", "feed.xml", "atom.xml", "index.xml", "feed/", "rss/",
               "index.rss", "feed.atom", "rss.php")
_BESIDE_PAGE = ("rss", "feed", "rss.xml", "feed.xml", "atom.xml", "index.xml")
_ANCHOR_PATH = re.compile(
    r"(?:^|/)(?:rss|feeds?|atom)(?:[._-][\w.-]*)?/?$|\.(?:rss|atom|rdf)$", re.I)
_ANCHOR_QUERY = re.compile(r"(?:^|[&;])(?:rss|feed|format=(?:feed|rss|atom)|type=(?:rss|atom))"
                           r"(?:[=&;]|$)", re.I)
_ANCHOR_TEXT = re.compile(r"^\W*(?:rss|atom|rss[- ]?(?:лента|канал|feed))\W*$", re.I)
_COMMENTS = re.compile(r"comment|коммент", re.I)
_HTML_START = re.compile(rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html)\b",
                         re.I | re.S)
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf|channel)\b", re.I)
_HTML_TAG = re.compile(rb"<(?:html|head|body|meta|title)\b", re.I)


@dataclass(frozen=True)
class FeedLink:
    """A feed address a page points to, not yet checked. ``via``: "link" (rel=alternate),
    "anchor" (a feed-looking <a href>) or "guess" (a usual path)."""

    url: str
    title: str | None = None
    kind: str | None = None
    via: str = "link"


@dataclass(frozen=True)
class FoundFeed:
    """A feed that was fetched and parsed. ``kind``: "rss", "atom" or "json"; ``via``:
    "address" when the given address was the feed itself, else as in FeedLink."""

    url: str
    title: str
    kind: str
    entries: int
    via: str
    identity: FeedIdentity


@dataclass
class Discovery:
    """What a search found. ``error`` is set when the given address itself could not be
    fetched; ``tried`` holds each other address that was fetched and why it is no feed."""

    url: str
    feeds: list[FoundFeed] = field(default_factory=list)
    tried: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    requests: int = 0

    @property
    def reason(self) -> str | None:
        """One line for an empty result: why nothing was found."""
        if self.feeds:
            return None
        if self.error:
            return self.error
        if not self.tried:
            return "no feed found: the page names none and no other address was tried"
        return f"no feed found: the page names none that works, nor is one at the usual " \
               f"addresses ({len(self.tried)} tried)"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.I)
    return m.group(1) if m else None


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """A web page rather than a feed: by its first bytes; the Content-Type only when the body
    is not XML or JSON (some servers send feeds as text/html)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_START.match(head):
        return True
    if head[:1] in (b"{", b"[") or _FEED_ROOT.search(head):
        return False
    if content_type and "html" in content_type.lower():
        return True
    return bool(_HTML_TAG.search(head))


def _kind(parsed: ParsedFeed) -> str:
    v = (parsed.kind or "").lower()
    if v.startswith("atom"):
        return "atom"
    if v.startswith("json"):
        return "json"
    return "rss"


def _clean_title(text: str | None) -> str | None:
    if not text:
        return None
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_TITLE] or None


def _page_root(body: bytes | str, content_type: str | None):
    text = body if isinstance(body, str) else decode(body, _charset(content_type))[0]
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(
            text.encode("utf-8", "replace"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return None


def page_feed_links(body: bytes | str, base_url: str, content_type: str | None = None, *,
                    max_links: int = MAX_LINKS, max_anchors: int = MAX_ANCHORS) -> list[FeedLink]:
    """Feed addresses a page names: its rel="alternate" feeds (comment feeds last), then its
    feed-looking links (those on the page's own host first); absolute, normalised, each once."""
    root = _page_root(body, content_type)
    if root is None:
        return []
    base = base_url
    for el in root.iter("base"):
        href = normalize_feed_url(el.get("href"), base_url)
        if href:
            base = href
        break
    seen: set[str] = set()
    main: list[FeedLink] = []
    comments: list[FeedLink] = []
    for el in root.iter("link"):
        if len(main) + len(comments) >= max_links:
            break
        rel = (el.get("rel") or "").lower().split()
        mime = (el.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and mime in FEED_TYPES:
            kind = FEED_TYPES[mime]
        elif "feed" in rel and (not mime or mime in FEED_TYPES):
            kind = FEED_TYPES.get(mime)
        else:
            continue
        url = normalize_feed_url(el.get("href"), base)
        if url is None or url in seen:
            continue
        if mime == "application/json" and "wp-json" in url:
            continue  # WordPress's REST API, not a JSON Feed
        seen.add(url)
        title = _clean_title(el.get("title"))
        link = FeedLink(url, title, kind, "link")
        if _COMMENTS.search(title or "") or "/comments/" in urlsplit(url).path.lower():
            comments.append(link)
        else:
            main.append(link)
    own_host = host_of(base_url)
    near: list[FeedLink] = []
    far: list[FeedLink] = []
    for el in root.iter("a"):
        if len(near) + len(far) >= max_anchors:
            break
        href = el.get("href")
        url = normalize_feed_url(href, base)
        if url is None or url in seen:
            continue
        parts = urlsplit(url)
        text = _clean_title(el.text_content()) or ""
        if not (_ANCHOR_PATH.search(parts.path) or _ANCHOR_QUERY.search(parts.query)
                or _ANCHOR_TEXT.match(text)):
            continue
        seen.add(url)
        link = FeedLink(url, _clean_title(el.get("title")) or None, None, "anchor")
        (near if host_of(url) == own_host else far).append(link)
    return main + comments + near + far


def usual_feed_urls(url: str) -> list[str]:
    """The usual feed addresses of a site: beside the page (for https://site.ru/blog/: its
    /blog/feed ...) when it is not the root, then at the root."""
    norm = normalize_feed_url(url)
    if norm is None:
        return []
    parts = urlsplit(norm)
    root = f"{parts.scheme}://{parts.netloc}/"
    folder = urljoin(norm, "./")
    out: list[str] = []
    if urlsplit(folder).path not in ("", "/"):
        out += [urljoin(folder, p) for p in _BESIDE_PAGE]
    out += [urljoin(root, p) for p in USUAL_PATHS]
    return list(dict.fromkeys(out))


def feed_self_and_id(body: bytes, content_type: str | None = None) -> tuple[str | None,
                                                                             str | None]:
    """What a feed says it is: its rel="self" address and its Atom ``<id>`` (JSON Feed: its
    ``feed_url``). Read from the head of the document only; (None, None) when unsure."""
    start = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"[") or (content_type and "json" in content_type.lower()):
        try:
            doc = json.loads(decode(body, "utf-8")[0])
        except (json.JSONDecodeError, ValueError):
            return None, None
        feed_url = doc.get("feed_url") if isinstance(doc, dict) else None
        return (feed_url if isinstance(feed_url, str) else None), None
    cut = len(body)
    for marker in (b"<item", b"<entry", b"<atom:entry"):
        at = body.find(marker, 0, 65536)
        if at != -1:
            cut = min(cut, at)
    head = body[:min(cut, 65536)]
    if b"<!ENTITY" in head.upper():
        return None, None
    parser = etree.XMLPullParser(events=("start", "end"), recover=True, resolve_entities=False,
                                 no_network=True, huge_tree=False, load_dtd=False)
    self_url: str | None = None
    feed_id: str | None = None
    depth = 0
    root_name = ""
    try:
        parser.feed(head)
        for event, el in parser.read_events():
            name = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
            if event == "start":
                depth += 1
                if depth == 1:
                    root_name = name
                if name == "link" and (el.get("rel") or "").lower() == "self" and not self_url:
                    self_url = (el.get("href") or "").strip() or None
            else:
                if name == "id" and depth == 2 and root_name == "feed" and not feed_id:
                    feed_id = (el.text or "").strip() or None
                depth -= 1
    except (etree.LxmlError, ValueError):
        pass
    return self_url, feed_id


def identity_of(final_url: str, body: bytes, content_type: str | None,
                parsed: ParsedFeed) -> FeedIdentity:
    """The identity of a fetched, parsed feed (for ``same_feed``)."""
    self_url, feed_id = feed_self_and_id(body, content_type)
    return feed_identity(final_url, parsed.entries,
                         self_url=normalize_feed_url(self_url, final_url), feed_id=feed_id)


def _as_found(final_url: str, body: bytes, content_type: str | None, parsed: ParsedFeed,
              link_title: str | None, via: str) -> FoundFeed:
    title = _clean_title(parsed.title) or link_title or host_of(final_url) or final_url
    return FoundFeed(url=final_url, title=title, kind=_kind(parsed),
                     entries=len(parsed.entries), via=via,
                     identity=identity_of(final_url, body, content_type, parsed))


async def _read_feed(final_url: str, content_type: str | None, body: bytes) -> ParsedFeed:
    """parse_feed off the event loop (feedparser runs for seconds on large inputs)."""
    if looks_like_html(body, content_type):
        raise FeedError("an HTML page, not a feed")
    return await asyncio.to_thread(parse_feed, body, origin=final_url,
                                   charset=_charset(content_type), content_type=content_type,
                                   base_url=final_url)


def _start_addresses(text: str) -> list[str]:
    """What an admin typed: a URL, or a bare host ("tomsk.gov.ru"): https first, then http."""
    text = text.strip()
    if "://" not in text and not text.lower().startswith("feed:"):
        return [u for u in (normalize_feed_url("https://" + text),
                            normalize_feed_url("http://" + text)) if u]
    url = normalize_feed_url(text)
    return [url] if url else []


class _Search:
    def __init__(self, fetch: Fetch, max_requests: int, concurrency: int) -> None:
        self.fetch = fetch
        self.max_requests = max_requests
        self.concurrency = max(1, concurrency)
        self.sem = asyncio.Semaphore(self.concurrency)
        self.result = Discovery(url="")
        self.asked: set[str] = set()
        self.pending: list[FoundFeed | None] = []  # checked feeds of the batch under way

    def flush(self) -> None:
        """Add the feeds found so far in the order their links were given."""
        for feed in self.pending:
            if feed is not None:
                self.add(feed)
        self.pending = []

    def budget(self) -> int:
        return self.max_requests - self.result.requests

    async def get(self, url: str) -> tuple[str, str | None, bytes]:
        self.result.requests += 1
        self.asked.add(url)
        async with self.sem:
            return await self.fetch(url)

    def add(self, feed: FoundFeed) -> None:
        if not any(same_feed(feed.identity, f.identity) for f in self.result.feeds):
            self.result.feeds.append(feed)

    async def check(self, link: FeedLink, slot: int) -> None:
        self.pending[slot] = await self._check(link)

    async def _check(self, link: FeedLink) -> FoundFeed | None:
        try:
            final, content_type, body = await self.get(link.url)
        except Exception as exc:  # the fetch callable's failures, whatever their type
            self.result.tried.append((link.url, _one_line(exc)))
            return None
        try:
            parsed = await _read_feed(final, content_type, body)
        except FeedError as exc:
            self.result.tried.append((link.url, _one_line(exc)))
            return None
        return _as_found(final, body, content_type, parsed, link.title, link.via)

    async def check_all(self, links: list[FeedLink], *, stop_at_first: bool) -> bool:
        """Check links (as many as the request budget allows), ``concurrency`` at a time, and
        add the feeds in the links' order. With ``stop_at_first``, no batch starts after one
        that found a feed. True when a feed was found."""
        todo = [ln for ln in links if ln.url not in self.asked]
        before = len(self.result.feeds)
        step = self.concurrency if stop_at_first else len(todo)
        while todo and self.budget() > 0:
            size = min(step, self.budget())
            batch, todo = todo[:size], todo[size:]
            self.pending = [None] * len(batch)
            await asyncio.gather(*(self.check(ln, i) for i, ln in enumerate(batch)))
            self.flush()
            if stop_at_first and len(self.result.feeds) > before:
                break
        return len(self.result.feeds) > before


async def discover(url: str, fetch: Fetch, *, max_requests: int = MAX_REQUESTS,
                   concurrency: int = CONCURRENCY, timeout: float = TIMEOUT) -> Discovery:
    """Find the feeds of the site or feed at ``url``. Never raises for what the network or
    the site does: failures are in ``Discovery.error`` and ``Discovery.tried``."""
    search = _Search(fetch, max(1, max_requests), concurrency)
    result = search.result
    starts = _start_addresses(url)
    if not starts:
        result.url = url.strip()[:200]
        result.error = "not a web address (http or https)"
        return result
    result.url = starts[0]
    try:
        async with asyncio.timeout(timeout):
            await _run(search, starts)
    except TimeoutError:
        search.flush()
        note = f"gave up after {timeout:g}s"
        if result.requests <= len(starts) and not result.feeds and result.error is None:
            result.error = f"the page did not answer: {note}"
        else:
            result.tried.append((result.url, note))
    return result


async def _run(search: _Search, starts: list[str]) -> None:
    result = search.result
    page = None
    for start in starts:
        try:
            page = await search.get(start)
        except Exception as exc:  # the fetch callable's failures, whatever their type
            result.error = _one_line(exc)
            continue
        result.error = None
        result.url = start
        break
    if page is None:
        return
    final, content_type, body = page
    if not looks_like_html(body, content_type):
        try:
            parsed = await _read_feed(final, content_type, body)
        except FeedError as exc:
            result.error = f"neither a feed nor a web page: {_one_line(exc)}"
            return
        search.add(_as_found(final, body, content_type, parsed, None, "address"))
        return
    links = await asyncio.to_thread(page_feed_links, body, final, content_type)
    declared = [ln for ln in links if ln.via == "link"]
    anchors = [ln for ln in links if ln.via == "anchor"]
    if declared and await search.check_all(declared, stop_at_first=False):
        return
    if anchors and await search.check_all(anchors, stop_at_first=False):
        return
    guesses = [FeedLink(u, None, None, "guess") for u in usual_feed_urls(final)
               if u not in search.asked]
    await search.check_all(guesses, stop_at_first=True)
