"""Canonical article URLs: one article, one URL, whatever tracking a feed appends; and feed
addresses and feed identities: one source per feed."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    from bot.models import Entry

_TRACKING = {"fbclid", "gclid", "yclid", "ysclid", "_openstat", "from", "utm", "mc_cid", "mc_eid",
             "rss", "ref"}


def is_tracking_param(name: str) -> bool:
    low = name.lower()
    return low.startswith("utm_") or low in _TRACKING


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment, tracking parameters or default port; else None."""
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    else:
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not is_tracking_param(k)])
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, query, ""))


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


# --- One source per feed -------------------------------------------------------------------
# Feed addresses are compared after normalisation, and two fetched feeds by what they say about
# themselves. Article URLs above drop more parameters ("from", "rss", "ref"), which in a feed's
# own address may select the feed (index.php?rss=1), so feeds have their own, shorter list.

_FEED_TRACKING = {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
                  "_openstat", "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "utm"}
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HOST = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
MAX_URL_LENGTH = 2048
NEWEST_ENTRIES = 10


def is_feed_tracking_param(name: str) -> bool:
    low = unquote(name).lower()
    return low.startswith("utm_") or low in _FEED_TRACKING


def _pct_normal(text: str, safe: str) -> str:
    """Percent-escapes in upper case, unreserved characters unescaped, the rest escaped."""
    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()
    return quote(_PCT.sub(fix, text), safe=safe)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def normalize_feed_url(url: str | None, base: str | None = None) -> str | None:
    """A feed address in one spelling, still fetchable; None when it is no http(s) URL.

    Scheme and host in lower case (international hosts in punycode), no default port, no
    fragment, no tracking parameters (utm_*, yclid, fbclid, gclid, _openstat ...), dot segments
    resolved, percent-escapes in one case. ``feed://`` and ``feed:https://`` (old browser
    subscription links) become http(s). Other query parameters are kept as they were, in their
    order: they may select the feed. The path's trailing slash is kept (``/rss`` and ``/rss/``
    may be different resources); ``feed_url_key`` is the looser key for identity.
    """
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_URL_LENGTH or any(c in url for c in "\r\n\t\x00"):
        return None
    low = url.lower()
    if low.startswith("feed://"):
        url = "http://" + url[7:]
    elif low.startswith(("feed:http://", "feed:https://")):
        url = url[5:]
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not hostname:
        return None
    host = hostname.rstrip(".")
    if not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            if not host.isascii():
                return None
        if not _HOST.match(host):
            return None
    if port == 0:
        return None
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _remove_dot_segments(_pct_normal(parts.path or "/", _PATH_SAFE))
    kept = [_pct_normal(item, _QUERY_SAFE) for item in parts.query.split("&")
            if item and not is_feed_tracking_param(item.split("=", 1)[0])]
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


def feed_url_key(url: str | None) -> str | None:
    """The identity of a feed address: two addresses with one key are one feed.

    Looser than ``normalize_feed_url``: http and https, ``www.`` and the bare host, a trailing
    slash and the order of query parameters make no difference. Not for fetching.
    """
    norm = normalize_feed_url(url)
    if norm is None:
        return None
    parts = urlsplit(norm)
    netloc = parts.netloc
    userinfo, _, host = netloc.rpartition("@")
    host = host.removeprefix("www.")
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = parts.path.rstrip("/")
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return f"//{netloc}{path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class FeedIdentity:
    """What tells one feed from another: where it was fetched, what it calls itself (its
    rel="self" link or JSON Feed ``feed_url``, its Atom ``<id>``), and its newest entries.
    Plain strings, so that a store can keep it (``as_dict``/``from_dict``)."""

    url_key: str | None = None
    self_key: str | None = None
    feed_id: str | None = None
    entry_keys: tuple[str, ...] = ()
    entry_count: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"url_key": self.url_key, "self_key": self.self_key, "feed_id": self.feed_id,
                "entry_keys": list(self.entry_keys), "entry_count": self.entry_count}

    @classmethod
    def from_dict(cls, data: object) -> FeedIdentity:
        """Tolerant: anything unreadable becomes an empty identity (which matches nothing)."""
        if not isinstance(data, dict):
            return cls()

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        keys = data.get("entry_keys")
        entry_keys = tuple(k for k in keys if isinstance(k, str))[:NEWEST_ENTRIES] \
            if isinstance(keys, list) else ()
        count = data.get("entry_count")
        return cls(text("url_key"), text("self_key"), text("feed_id"), entry_keys,
                   count if isinstance(count, int) and count >= 0 else len(entry_keys))


def feed_identity(url: str | None, entries: Iterable[Entry], *, self_url: str | None = None,
                  feed_id: str | None = None) -> FeedIdentity:
    """The identity of a feed fetched from ``url`` (its final URL after redirects) with these
    entries (as parse_feed returns them, in document order)."""
    keys: list[str] = []
    count = 0
    for e in entries:
        count += 1
        key = (e.guid or "").strip() or (e.url or "")
        if key and key not in keys and len(keys) < NEWEST_ENTRIES:
            keys.append(key)
    fid = (feed_id or "").strip()[:MAX_URL_LENGTH] or None
    return FeedIdentity(feed_url_key(url), feed_url_key(self_url), fid, tuple(keys), count)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return 1.0
    return len(set(a) & set(b)) / min(len(a), len(b))


def same_feed(a: FeedIdentity, b: FeedIdentity) -> bool:
    """Are these one feed under two addresses? Compare identities read at about the same time.

    - the same address (``feed_url_key``);
    - one's rel="self" address is the other's address or self address, or the same Atom id,
      unless their newest entries disagree: less than half of the newest entries in common
      means different feeds (Blogger gives a blog's label feeds the blog's id; some templates
      write the main feed's address as every category feed's self link);
    - the same newest entries: at least 3 each, the same set of the newest ``NEWEST_ENTRIES``,
      and when a feed has fewer than that, the same number of entries (a small category feed
      whose few entries are also the newest of the main feed is another feed).
    """
    if a.url_key and a.url_key == b.url_key:
        return True
    agree = _overlap(a.entry_keys, b.entry_keys) >= 0.5
    a_urls = {k for k in (a.url_key, a.self_key) if k}
    b_urls = {k for k in (b.url_key, b.self_key) if k}
    if a_urls & b_urls and agree:
        return True
    if a.feed_id and a.feed_id == b.feed_id and agree:
        return True
    n = min(len(a.entry_keys), len(b.entry_keys))
    if n < 3:
        return False
    if n < NEWEST_ENTRIES and (a.entry_count != b.entry_count
                               or len(a.entry_keys) != len(b.entry_keys)):
        return False
    return set(a.entry_keys[:n]) == set(b.entry_keys[:n])
