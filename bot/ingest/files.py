"""Documents on disk: seed press releases (.txt/.md), saved pages (.html), feed files (.xml/.json).

Seed format: the first non-empty line is the title, optionally preceded on that line by
``date YYYY-MM-DD``; the rest is the body. A line holding only the date puts the title on the next
non-empty line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bot.ingest.charset import decode
from bot.ingest.extract import extract_page
from bot.ingest.parse import parse_feed
from bot.models import Entry

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".json", ".feed"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES
_DATE = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)


class FileReadError(Exception):
    """A document that cannot be read or understood; the message names the file."""


def parse_seed(text: str, origin: str) -> Entry:
    """A seed document as an Entry (title, optional date, raw body)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    published = None
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    title = ""
    if i < len(lines):
        first = lines[i].strip().lstrip("\ufeff")
        m = _DATE.match(first)
        if m:
            try:
                published = datetime.strptime(m.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                published = None
            first = first[m.end():].strip()
            if not first:
                i += 1
                while i < len(lines) and not lines[i].strip():
                    i += 1
                first = lines[i].strip() if i < len(lines) else ""
        title = first
        i += 1
    body = "\n".join(lines[i:])
    return Entry(title=title, text=body, published=published, origin=origin)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileReadError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_document(path: Path) -> list[Entry]:
    """The entries in one file, by its suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise FileReadError(f"cannot read {path}: unsupported file type {suffix or '(none)'}"
                            f" (use {', '.join(sorted(SUPPORTED))})")
    body = read_bytes(path)
    origin = str(path)
    if suffix in FEED_SUFFIXES:
        try:
            return parse_feed(body, origin=origin).entries
        except ValueError as exc:
            raise FileReadError(f"cannot read {path}: {exc}") from None
    text, _ = decode(body)
    if suffix in HTML_SUFFIXES:
        entry = extract_page(text, url=None, origin=origin)
        if entry is None:
            raise FileReadError(f"cannot read {path}: no article text found in the page")
        return [entry]
    return [parse_seed(text, origin)]


def list_documents(folder: Path) -> list[Path]:
    """Supported files directly in ``folder``, sorted by name."""
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        raise FileReadError(f"cannot read folder {folder}: {exc.strerror or exc}") from None
    return [p for p in children if p.is_file() and p.suffix.lower() in SUPPORTED
            and not p.name.startswith(".")]
