"""Time zones as chats set them: an IANA name ('Asia/Tomsk') or a fixed offset ('UTC+07:00',
as /tz stores it). Pure."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(tz: str) -> tzinfo:
    """'Asia/Tomsk' or 'UTC+07:00' (as /tz stores it); UTC when unknown."""
    if tz.startswith("UTC") and len(tz) > 3:
        sign = -1 if tz[3] == "-" else 1
        hours, _, minutes = tz[4:].partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
