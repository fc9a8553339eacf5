"""Quiet hours: a window of local time ('22:00'-'08:00', across midnight or not) in which a
chat's stories arrive silently (disable_notification). Pure."""

from __future__ import annotations

from datetime import datetime, time

from bot.delivery.zones import zone
from bot.models import Chat


def _hm(value: str) -> time:
    hours, minutes = (int(x) for x in value.split(":"))
    return time(hours, minutes)


def in_quiet_hours(chat: Chat, now: datetime) -> bool:
    if not chat.quiet_start or not chat.quiet_end:
        return False
    start, end = _hm(chat.quiet_start), _hm(chat.quiet_end)
    local = now.astimezone(zone(chat.tz)).time().replace(second=0, microsecond=0)
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # across midnight
