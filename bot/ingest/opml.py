"""OPML subscription lists in and out: what feed readers export, and what pressbot exports.

Reading takes OPML 1.0, 1.1 and 2.0 as miniflux, Feedly, Inoreader, NetNewsWire, RSSOwl,
RSS-to-Telegram-Bot and flowerss-bot write them: an outline with an ``xmlUrl`` is a feed, named
by its ``title``, else its ``text``; an outline without one that holds outlines is a folder,
whose name becomes the category of the feeds inside (the innermost named folder; else the feed's
own ``category`` attribute). Each outline that cannot become a source is reported with the reason
(``OpmlProblem``), so that an import can say what was refused and why; the file as a whole is
refused (``OpmlError``) only when it is no OPML at all, too large, or hostile.

Hostile XML: the document is parsed by defusedxml, which refuses entity declarations (billion
laughs, external entities reading local files or URLs) before anything is expanded and never
touches the network. lxml with ``resolve_entities=False`` is not enough: libxml2 still expands
internal entities inside attribute values, which is where OPML keeps everything.

Reader-specific settings (miniflux:disabled, scraper rules, ...) are not read: an import makes
enabled sources.

Writing produces OPML 2.0 (UTF-8, one folder outline per category) that reads back to the same
feeds.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from bot.ingest.charset import as_utf8_xml, decode
from bot.ingest.htmltext import html_to_text
from bot.ingest.urls import (
    MAX_URL_LENGTH,
    canonical_url,
    feed_url_key,
    host_of,
    normalize_feed_url,
)

MAX_OPML_BYTES = 2_000_000
MAX_OUTLINES = 5_000
MAX_DEPTH = 12
MAX_NAME = 200
MAX_CATEGORY = 100

# Problem codes, for the caller to word the reply in the user's language.
NO_URL = "no_url"  # a feed-like outline without xmlUrl
BAD_URL = "bad_url"  # xmlUrl is no absolute http(s) URL
REPEATED = "repeated"  # the same feed earlier in this file
NOT_A_FEED = "not_a_feed"  # a link or include outline: a web page or another list
TOO_DEEP = "too_deep"  # nested deeper than MAX_DEPTH
TOO_MANY = "too_many"  # past MAX_OUTLINES outlines

_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_STRAY_AMP = re.compile(r"&(?!(?:#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});)")
_NAMED_REF = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_NAMED = {"amp", "lt", "gt", "quot", "apos"}
_MARKUP = re.compile(r"<[A-Za-z/!]")
_SPACE = re.compile(r"\s+")
_FEED_TYPES = {"rss", "atom", "feed", "rdf", "json", "jsonfeed"}


class OpmlError(ValueError):
    """The file is not an OPML list that can be read; the message says why in one line."""


@dataclass(frozen=True)
class OpmlFeed:
    """One feed of a list: how it is named, where it is, and its category (folder)."""

    name: str
    url: str
    html_url: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class OpmlProblem:
    """An outline that did not become a feed: a code (NO_URL, BAD_URL, ...), one line of
    English saying why, and what the outline called itself."""

    code: str
    reason: str
    name: str | None = None
    url: str | None = None


@dataclass
class OpmlDocument:
    title: str | None
    feeds: list[OpmlFeed]
    problems: list[OpmlProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _clean(text: str | None, limit: int) -> str:
    if not text:
        return ""
    text = _XML_CHARS.sub("", text)
    if _MARKUP.search(text):  # OPML allows encoded HTML in text: "<b>Томск</b>"
        text = html_to_text(text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _attrs(el: ET.Element) -> dict[str, str]:
    """Attributes by lower-case local name (xmlURL, xmlurl and xmlUrl are all seen); namespaced
    ones (miniflux:, rssowl:) only when no plain one has the name."""
    out: dict[str, str] = {}
    for key, value in el.attrib.items():
        name = _local(key)
        if "}" not in key or name not in out:
            out[name] = value
    return out


def _repair(text: str) -> str:
    """Hand-made lists: HTML entities (&laquo;, &nbsp;) and stray '&' in URLs made XML."""
    def named(m: re.Match[str]) -> str:
        if m.group(1) in _XML_NAMED:
            return m.group(0)
        char = html.unescape(m.group(0))
        if char == m.group(0):
            return "&amp;" + m.group(0)[1:]
        return html.escape(char)
    return _NAMED_REF.sub(named, _STRAY_AMP.sub("&amp;", text))


def _parse_xml(data: bytes, warnings: list[str]) -> ET.Element:
    text, _ = decode(data)
    text = text.lstrip("\ufeff \t\r\n")
    if not text:
        raise OpmlError("the file is empty")
    body = as_utf8_xml(text)
    try:
        return DET.fromstring(body, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: the file declares XML entities or external references "
                        f"({type(exc).__name__})") from None
    except ET.ParseError as exc:
        first = exc
    repaired = as_utf8_xml(_repair(text))
    if repaired != body:
        try:
            root = DET.fromstring(repaired, forbid_dtd=False, forbid_entities=True,
                                  forbid_external=True)
        except (ET.ParseError, DefusedXmlException):
            pass
        else:
            warnings.append("the file is not well-formed XML (stray '&' or HTML entities); "
                            "read after escaping them")
            return root
    line, column = getattr(first, "position", (0, 0))
    raise OpmlError(f"not well-formed XML at line {line}, column {column}: "
                    f"{str(first).split(':')[0]}")


def _category_attr(value: str | None) -> str | None:
    """OPML 2.0 ``category``: comma-separated, slash-delimited paths ("/Сибирь/Томск")."""
    if not value:
        return None
    for item in value.split(","):
        parts = [p.strip() for p in item.split("/") if p.strip()]
        if parts:
            return _clean("/".join(parts), MAX_CATEGORY) or None
    return None


def _why_bad(raw: str) -> str:
    low = raw.strip().lower()
    scheme = low.split(":", 1)[0] if ":" in low else ""
    if len(raw) > MAX_URL_LENGTH:
        return f"xmlUrl is longer than {MAX_URL_LENGTH} characters"
    if scheme and scheme not in ("http", "https", "feed") and "/" not in scheme:
        return f"only http and https feeds are accepted, got {scheme}:"
    if not scheme or low.startswith(("/", ".")):
        return "xmlUrl is not an absolute http(s) address"
    return "xmlUrl is not a valid URL"


def parse_opml(data: bytes | str, *, max_bytes: int = MAX_OPML_BYTES,
               max_outlines: int = MAX_OUTLINES, max_depth: int = MAX_DEPTH) -> OpmlDocument:
    """Read an OPML subscription list; raise OpmlError when the file cannot be read at all."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise OpmlError(f"the file is {len(data)} bytes, over the {max_bytes}-byte limit")
    warnings: list[str] = []
    root = _parse_xml(data, warnings)
    if _local(root.tag) != "opml":
        raise OpmlError(f"not an OPML file: the document is <{_local(root.tag) or '?'}>, "
                        f"not <opml>")
    head = next((c for c in root if _local(c.tag) == "head"), None)
    body = next((c for c in root if _local(c.tag) == "body"), None)
    if body is None:
        raise OpmlError("not an OPML file: it has no <body>")
    title = None
    if head is not None:
        el = next((c for c in head if _local(c.tag) == "title"), None)
        if el is not None:
            title = _clean(el.text, MAX_NAME) or None

    feeds: list[OpmlFeed] = []
    problems: list[OpmlProblem] = []
    seen: dict[str, str] = {}
    count = 0
    # (element, depth, category of the innermost named folder above it)
    stack: list[tuple[ET.Element, int, str | None]] = [
        (c, 1, None) for c in reversed(list(body)) if _local(c.tag) == "outline"]
    while stack:
        el, depth, category = stack.pop()
        count += 1
        if count > max_outlines:
            problems.append(OpmlProblem(TOO_MANY, f"more than {max_outlines} outlines; the "
                                                  f"rest of the file was not read"))
            break
        a = _attrs(el)
        label = _clean(a.get("title"), MAX_NAME) or _clean(a.get("text"), MAX_NAME)
        children = [c for c in el if _local(c.tag) == "outline"]
        raw_url = (a.get("xmlurl") or "").strip()
        kind = (a.get("type") or "").strip().lower()
        if children:
            if depth >= max_depth:
                problems.append(OpmlProblem(TOO_DEEP, f"folder nested deeper than {max_depth} "
                                                      f"levels; its outlines were not read",
                                            label or None))
            else:
                inner = label or category
                stack.extend((c, depth + 1, inner) for c in reversed(children))
        if not raw_url:
            if kind in ("link", "include", "redirect"):
                problems.append(OpmlProblem(NOT_A_FEED, f"an outline of type {kind!r}, not a feed",
                                            label or None, (a.get("url") or "")[:200] or None))
            elif not children and (kind in _FEED_TYPES or "xmlurl" in a or a.get("htmlurl")):
                problems.append(OpmlProblem(NO_URL, "the outline has no xmlUrl (feed address)",
                                            label or None, None))
            continue
        url = normalize_feed_url(raw_url)
        if url is None:
            problems.append(OpmlProblem(BAD_URL, _why_bad(raw_url), label or None,
                                        raw_url[:200]))
            continue
        key = feed_url_key(url) or url
        if key in seen:
            problems.append(OpmlProblem(REPEATED, f"the same feed is listed earlier in this "
                                                  f"file as {seen[key]!r}", label or None, url))
            continue
        html_url = canonical_url(a.get("htmlurl")) if a.get("htmlurl") else None
        name = label or host_of(html_url) or host_of(url) or url
        feeds.append(OpmlFeed(name=name, url=url, html_url=html_url,
                              category=category or _category_attr(a.get("category"))))
        seen[key] = name
    return OpmlDocument(title=title, feeds=feeds, problems=problems, warnings=warnings)


@dataclass
class ImportPlan:
    """An OPML list against the sources there are: what to add, what is already there (with
    the name of the source it is), and what is refused and why."""

    add: list[OpmlFeed]
    known: list[tuple[OpmlFeed, str]]
    refused: list[OpmlProblem]


def plan_import(doc: OpmlDocument, existing: Mapping[str, str]) -> ImportPlan:
    """Split a list's feeds by the existing sources (address -> name), comparing addresses by
    ``feed_url_key`` (http/https, www., trailing slash and tracking parameters aside). Feeds that
    are one feed under another address are found only by fetching them (``same_feed``)."""
    by_key: dict[str, str] = {}
    for url, name in existing.items():
        key = feed_url_key(url)
        if key is not None:
            by_key.setdefault(key, name)
    add: list[OpmlFeed] = []
    known: list[tuple[OpmlFeed, str]] = []
    for f in doc.feeds:
        name = by_key.get(feed_url_key(f.url) or f.url)
        if name is None:
            add.append(f)
        else:
            known.append((f, name))
    return ImportPlan(add, known, list(doc.problems))


def _xml_text(value: str) -> str:
    return _XML_CHARS.sub("", value)


def write_opml(feeds: Iterable[OpmlFeed], *, title: str = "pressbot sources",
               created: datetime | None = None) -> bytes:
    """OPML 2.0 for a list of feeds, in their order; the feeds of a category are gathered in
    one folder outline where the category first appears. UTF-8 bytes with an XML
    declaration."""
    created = created or datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml_text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(created.astimezone(UTC),
                                                              usegmt=True)
    ET.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for f in feeds:
        parent = body
        category = _xml_text(f.category or "").strip()
        if category:
            if category not in folders:
                folders[category] = ET.SubElement(body, "outline",
                                                  {"text": category, "title": category})
            parent = folders[category]
        name = _xml_text(f.name).strip() or f.url
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": _xml_text(f.url)}
        if f.html_url:
            attrs["htmlUrl"] = _xml_text(f.html_url)
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root, space="  ")
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n")
