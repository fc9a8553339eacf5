"""Main text of an article page with trafilatura, always from a decoded string.

Tables that lay out the page (menu, article and banners in cells) become blocks first. Then
trafilatura runs twice, with tables on: once with ``favor_precision`` (less site chrome) and once
with its default balance. Precision costs text on some pages: a closing paragraph or a company
background in a bordered or "bottom" block, a paragraph that starts with an empty <b> or <em>,
or most of a page whose article it mistakes for chrome. So the precise text is the base and the
default run's paragraphs come back where precision dropped prose inside the article or just after
it; when the precise text holds less than half of the default run's distinct words, the default
run is taken whole. Pages are passed as str: trafilatura misreads windows-1251 bytes without a
meta tag, so the fetcher decodes them.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from bot.models import Entry

log = logging.getLogger(__name__)

MIN_PRECISE_SHARE = 0.5  # precise text below this share of the default's distinct words: cut
MIN_PROSE_WORDS = 6  # a restored paragraph is a sentence of at least this many words

LAYOUT_CELL_CHARS = 300  # a table cell with this much text is page layout, not data
_BLOCKS = frozenset({"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "article", "section"})
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*$")


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fold(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _is_prose(line: str) -> bool:
    """A sentence, not a heading, a list item, a link label or a button."""
    return (bool(_SENTENCE_END.search(line)) and not line.startswith("- ")
            and len(_WORD.findall(line)) >= MIN_PROSE_WORDS)


def _distinct_words(lines: list[str]) -> int:
    return sum(len(folded.split()) for folded in {_fold(line) for line in lines})


def _covered(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of [start, end) spans, sorted."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def merge_runs(precise: str, default: str) -> str:
    """The precise text with the prose that the default run has and precision dropped.

    A paragraph of the default run comes back when it is prose and lies between paragraphs that
    the precise text has, or in the run of prose right after its last one (a closing paragraph,
    a company background); headings, lists and the page's head stay out. Pure function, linear
    in the texts' length but for the search of each precise paragraph in the default run."""
    precise_lines = [line for line in precise.split("\n") if line.strip()]
    default_lines = [line for line in default.split("\n") if line.strip()]
    if not precise_lines:
        return default
    if _distinct_words(precise_lines) < MIN_PRECISE_SHARE * _distinct_words(default_lines):
        return default  # precision cut the article itself, not chrome around it
    # Each default line's place in the default run's folded text.
    folded_default = [_fold(line) for line in default_lines]
    starts, pos = [], 0
    for folded in folded_default:
        starts.append(pos)
        pos += len(folded) + 1
    whole = " ".join(folded_default)
    # Each precise line placed in the default run, in order; give up on any that is not there.
    placed: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for line in precise_lines:
        folded = _fold(line)
        at = whole.find(folded, cursor) if folded else cursor
        if at < 0:
            at = whole.find(folded)
            if at < 0:
                return precise  # text the default run lacks: nothing to align with
        elif folded:
            cursor = at + len(folded)
        placed.append((at, line))
        if folded:
            spans.append((at, at + len(folded)))
    if not spans:
        return precise
    covered = _covered(spans)
    first, last = covered[0][0], covered[-1][1]
    kept = {_fold(line) for line in precise_lines}
    restored: list[tuple[int, str]] = []
    tail, k = True, 0
    for start, folded, line in zip(starts, folded_default, default_lines, strict=True):
        end = start + len(folded)
        while k < len(covered) and covered[k][1] <= start:
            k += 1
        overlap, j = 0, k
        while j < len(covered) and covered[j][0] < end:
            overlap += max(0, min(end, covered[j][1]) - max(start, covered[j][0]))
            j += 1
        if start < first or not folded or folded in kept or 2 * overlap >= len(folded):
            continue  # the page's head, no words, or a paragraph the precise text has
        if end <= last:
            if _is_prose(line):
                restored.append((start, line))
        elif tail and _is_prose(line):
            restored.append((start, line))
        else:
            tail = False  # the article ends at the first line after it that is not prose
    if not restored:
        return precise
    merged = sorted(placed + restored, key=lambda item: item[0])
    return "\n".join(line for _, line in merged)


def _is_layout(table: lxml.html.HtmlElement) -> bool:
    """A table that lays out a page (menu, article, banners), not one of data."""
    if table.xpath("./caption|./thead|.//th"):
        return False
    for cell in table.xpath("./tr/td|./tbody/tr/td"):
        if (cell.xpath(".//table") or sum(c.tag in _BLOCKS for c in cell) >= 2
                or len(cell.text_content()) >= LAYOUT_CELL_CHARS):
            return True
    return False


def unwrap_layout_tables(html: str) -> str:
    """The page with its layout tables turned into blocks (the page itself when it has none).

    trafilatura reads a layout table as data: the menu joins the article in one row and the
    article's paragraphs run together in one cell."""
    if "<table" not in html.lower():
        return html
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return html  # trafilatura has its own ways with pages lxml refuses
    layout = [t for t in tree.iter("table") if _is_layout(t)]
    if not layout:
        return html
    for table in layout:
        for el in (table, *table.xpath("./tbody|./thead|./tfoot|./tr|./tbody/tr|./tr/td"
                                       "|./tbody/tr/td")):
            el.tag = "div"
            for name in ("width", "height", "valign", "align", "colspan", "rowspan"):
                el.attrib.pop(name, None)
    return lxml.html.tostring(tree, encoding="unicode")


def _run(html: str, url: str | None, *, precise: bool) -> Any:
    return trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        include_images=False, favor_precision=precise, deduplicate=False)


def extract_main_text(html: str, url: str | None = None) -> str | None:
    """The article body of a page, or None when trafilatura finds none."""
    entry = extract_page(html, url=url, origin=url or "")
    return entry.text if entry else None


def extract_page(html: str, *, url: str | None, origin: str) -> Entry | None:
    """Title, date and main text of a page as an Entry (text still to be cleaned)."""
    if not html or not html.strip():
        return None
    try:
        html = unwrap_layout_tables(html)
        precise = _run(html, url, precise=True)
        default = _run(html, url, precise=False)
    except Exception as exc:  # trafilatura raises assorted lxml and parsing errors
        log.warning("text extraction failed for %s: %s", origin, exc)
        return None
    text = merge_runs(precise.text or "" if precise else "", default.text or "" if default else "")
    if not text.strip():
        return None
    doc = precise if precise is not None else default
    return Entry(title=(doc.title or "").strip(), text=text, url=url,
                 published=_page_date(doc.date), origin=origin)
