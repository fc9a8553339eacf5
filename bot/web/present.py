"""How archive data is shown: text made safe to print, outlet names, local times. Pure.

Escaping itself is the templates' (autoescape) and the serialisers' (json, csv); what is done
here comes before: characters that no HTML, XML or spreadsheet should carry are removed.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dedup.outlets import outlet_name
from bot.dedup.outlets import outlet_of as url_outlet
from bot.storage.archive import Carrier

# C0 controls but tab and newline, DEL, C1 controls, surrogates, and the two non-characters
# XML 1.0 forbids: none is valid in an Atom document, none belongs in a title.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def printable(value: object) -> object:
    """Strings without the characters above; anything else as it is (Jinja's finalize)."""
    if isinstance(value, str):
        return _UNPRINTABLE.sub("", value)
    return value


def printable_text(value: str | None) -> str:
    return _UNPRINTABLE.sub("", value or "")


def spreadsheet_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a quote mark
    in front (OWASP's advice against CSV injection)."""
    text = printable_text(value).replace("\r", " ")
    return "'" + text if text.startswith(_FORMULA) else text


def outlet_of(carrier: Carrier) -> str:
    """'tomsk.gov.ru', 't.me/channel', or for a file the folder's name."""
    return outlet_name(url_outlet(carrier.url, carrier.origin))


def outlets(carriers: tuple[Carrier, ...]) -> list[str]:
    """Distinct outlets, in the order they carried the story."""
    return list(dict.fromkeys(outlet_of(c) for c in carriers))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are made clickable (a feed may carry javascript: or data: URLs)."""
    if url and url.startswith(("http://", "https://")) and len(url) <= 2000:
        return url
    return None


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def local_time(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d.%m.%Y %H:%M") if value else "—"


def utc_offset(tz: tzinfo, at: datetime) -> str:
    offset = at.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
