"""Which outlet an article came from: the host of its URL (a channel of its own on Telegram and
VK), or the folder of its file. Two reports of one outlet are never joined as one story by
similarity alone. Pure."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit

# Platforms where every channel or community is an outlet of its own (fed through RSS bridges).
_TELEGRAM = frozenset({"t.me", "telegram.me"})
_VK = frozenset({"vk.com", "m.vk.com", "vk.ru"})
_VK_POST = re.compile(r"^wall(-?\d+)_\d+$")


def url_host(url: str | None) -> str | None:
    """The lower-case host of a URL without 'www.', or None."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


@lru_cache(maxsize=65_536)
def outlet_of(url: str | None, origin: str) -> str:
    """The outlet an article came from: its URL's host (with the channel on Telegram and VK:
    't.me/tomsk_news'), else 'file:' and the folder of its file."""
    host = url_host(url)
    if host:
        return _channel(host, url or "") or host
    return "file:" + str(PurePath(origin.split("#", 1)[0]).parent)


def _channel(host: str, url: str) -> str:
    """'t.me/name' or 'vk.com/name' for a post of a channel or community, else ''."""
    if host not in _TELEGRAM and host not in _VK:
        return ""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if host in _TELEGRAM and parts[:1] == ["s"]:
        parts = parts[1:]  # t.me/s/channel/123: the web preview
    if not parts:
        return ""
    name = parts[0]
    if host in _VK:
        post = _VK_POST.match(name)  # vk.com/wall-123_45: community -123
        name = post.group(1) if post else name
    return ("t.me/" if host in _TELEGRAM else "vk.com/") + name.lower()


def outlet_name(outlet: str) -> str:
    """How an outlet is shown: 'tomsk.gov.ru', or for files the folder's name ('seeds')."""
    return PurePath(outlet.removeprefix("file:")).name if outlet.startswith("file:") else outlet
