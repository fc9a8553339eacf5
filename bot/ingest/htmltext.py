"""HTML fragments (feed entry content) to plain text with paragraph breaks."""

from __future__ import annotations

import html as htmllib
import re

import lxml.html
from lxml import etree

_BLOCK = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
          "table", "tr", "section", "article", "header", "footer", "figure", "figcaption", "dd",
          "dt", "hr")
_DROP = "//script|//style|//noscript|//iframe|//object|//embed|//form|//template|//svg|//button"
_TAG = re.compile(r"<[a-zA-Z/!?]")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment; block elements become paragraph breaks."""
    if not markup or not markup.strip():
        return ""
    if not _TAG.search(markup):
        return htmllib.unescape(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return htmllib.unescape(re.sub(r"<[^>]*>", " ", markup))
    for el in root.xpath(_DROP):
        el.drop_tree()
    for el in root.iter("br"):
        el.tail = "\n" + (el.tail or "")
    for el in root.iter(*_BLOCK):
        el.text = "\n\n" + (el.text or "")
        el.tail = "\n\n" + (el.tail or "")
    for el in root.iter("td", "th"):
        el.tail = " " + (el.tail or "")
    return root.text_content().strip()
