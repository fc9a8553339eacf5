"""Main text of an article page with trafilatura, always from a decoded string."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import trafilatura

from bot.models import Entry

log = logging.getLogger(__name__)


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_main_text(html: str, url: str | None = None) -> str | None:
    """The article body of a page, or None when trafilatura finds none."""
    entry = extract_page(html, url=url, origin=url or "")
    return entry.text if entry else None


def extract_page(html: str, *, url: str | None, origin: str) -> Entry | None:
    """Title, date and main text of a page as an Entry (text still to be cleaned)."""
    if not html or not html.strip():
        return None
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False,
            include_images=False, favor_precision=True, deduplicate=False)
    except Exception as exc:  # trafilatura raises assorted lxml and parsing errors
        log.warning("text extraction failed for %s: %s", origin, exc)
        return None
    if doc is None or not (doc.text or "").strip():
        return None
    return Entry(title=(doc.title or "").strip(), text=doc.text, url=url,
                 published=_page_date(doc.date), origin=origin)
