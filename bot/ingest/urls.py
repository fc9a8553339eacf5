"""Canonical article URLs: one article, one URL, whatever tracking a feed appends."""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

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
