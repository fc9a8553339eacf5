"""Telegram messages in HTML parse mode: every piece of article text escaped, at most 4096
UTF-16 code units (how Telegram counts: an emoji outside the BMP is two), split only between
items (never inside a tag or an entity). Pure."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.delivery.zones import zone
from bot.understand.places import place_name

LIMIT = 4096
SUMMARY_MAX = 1200  # characters of escaped summary in one item; an item stays under 2,600


@dataclass(frozen=True)
class StoryView:
    story_id: int
    title: str
    url: str | None
    summary: str | None
    key_figures: tuple[str, ...]
    outlets: tuple[str, ...]  # first the original's
    topics: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # place tags, most specific first
    at: datetime | None = None  # the first article's time
    page: str | None = None  # the story's page in the web archive ("все источники")


TEXTS = {
    "ru": {"source": "Источник", "sources": "Источники", "figures": "Цифры",
           "digest": "Дайджест", "other": "Другое", "places": "Места",
           "all_sources": "все источники"},
    "en": {"source": "Source", "sources": "Sources", "figures": "Figures",
           "digest": "Digest", "other": "Other", "places": "Places",
           "all_sources": "all sources"},
}
_MONTHS = {"ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                  "сентября", "октября", "ноября", "декабря"),
           "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")}


def when(at: datetime, lang: str, tz: str) -> str:
    """'1 декабря, 14:05' in the chat's zone ('1 Dec, 14:05')."""
    local = at.astimezone(zone(tz))
    month = _MONTHS.get(lang, _MONTHS["ru"])[local.month - 1]
    return f"{local.day} {month}, {local:%H:%M}"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _link(title: str, url: str | None) -> str:
    text = esc_clip(title, 600)
    if url and url.startswith(("http://", "https://")) and len(url) <= 1000:
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    return text


def esc_clip(text: str, budget: int) -> str:
    """Escaped text of at most ``budget`` UTF-16 units, cut between characters (never inside
    an entity such as &amp;, never inside a surrogate pair) and preferably at a space, with an
    ellipsis when cut."""
    out: list[str] = []
    size = 0
    for ch in text:
        piece = esc(ch)
        width = len(piece) if ch < "\U00010000" else 2
        if size + width > budget - 1:
            clipped = "".join(out)
            head, _, _tail = clipped.rpartition(" ")
            return (head if len(head) > budget // 2 else clipped) + "…"
        out.append(piece)
        size += width
    return "".join(out)


def story_item(story: StoryView, lang: str = "ru", *, figures: int = 3,
               tz: str | None = None) -> str:
    """One story: title (linked), summary, key figures, places, outlets with the time in the
    chat's zone (``tz``), and a link to its page listing every outlet."""
    t = TEXTS.get(lang, TEXTS["ru"])
    lines = [f"<b>{_link(story.title, story.url)}</b>"]
    if story.summary:
        lines.append(esc_clip(story.summary, SUMMARY_MAX))
    if story.key_figures and figures:
        lines.append(f"{t['figures']}: " + "; ".join(esc_clip(f, 120)
                                                    for f in story.key_figures[:figures]))
    if story.places:
        shown = ", ".join(place_name(p, lang) for p in story.places[:4])
        lines.append(f"{t['places']}: {esc_clip(shown, 200)}")
    if story.outlets:
        label = t["source"] if len(story.outlets) == 1 else f"{t['sources']} ({len(story.outlets)})"
        stamp = f" · {when(story.at, lang, tz)}" if story.at and tz else ""
        page = (f' · <a href="{html.escape(story.page, quote=True)}">{t["all_sources"]}</a>'
                if story.page and story.page.startswith(("http://", "https://"))
                and len(story.page) <= 500 else "")
        lines.append(f"<i>{label}: {esc_clip(', '.join(story.outlets[:5]), 300)}{stamp}</i>"
                     f"{page}")
    return "\n".join(lines)


def pack(blocks: Sequence[str], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Join blocks into messages of at most ``limit`` UTF-16 units, splitting only between
    blocks. Items are built with clipped, escaped parts, so no block exceeds the limit."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if units(block) > limit:
            raise ValueError(f"message block of {units(block)} UTF-16 units")
        candidate = f"{current}{sep}{block}" if current else block
        if units(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def digest_messages(groups: Sequence[tuple[str, Sequence[StoryView]]], lang: str = "ru",
                    tz: str | None = None) -> list[str]:
    """A digest: a heading per topic group, then its stories; split between items."""
    t = TEXTS.get(lang, TEXTS["ru"])
    blocks = [f"<b>{t['digest']}</b>"]
    for heading, stories in groups:
        items = [story_item(s, lang, figures=2, tz=tz) for s in stories]
        if not items:
            continue
        blocks.append(f"<b>— {esc(heading)} —</b>\n" + items[0])
        blocks.extend(items[1:])
    return pack(blocks)
