"""Plain-text clean-up: the article alone, without the site chrome reprints carry.

Works on text already out of HTML (trafilatura, feed content) or typed files (seeds, Markdown).
Two kinds of rule: a *cut* line starts the trailing chrome ("Последние новости", "Автор:",
"Анализ ×", "Данные о правообладателе ...") and ends the article; a *drop* line is chrome inside
the article (photo credits, share buttons, a repeated headline, a truncated teaser that the next
paragraph repeats in full). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")

_CUT = re.compile(
    r"^(?:"
    r"(?:последние|главные|другие|популярные|свежие|лучшие|горячие|похожие)\s+"
    r"(?:новости|материалы|публикации|статьи)"
    r"|(?:\*?\s*)?(?:также\s+)?читайте\s+(?:также|еще|ещё|нас|эксклюзивную)"
    r"|материалы\s+по\s+теме|(?:ещё|еще)\s+по\s+теме|по\s+теме\s*:?$|новости\s+по\s+теме"
    r"|анализ\s*(?:×|x)?$|автор(?:ы)?\s*:|текст\s*:|поделиться|порекомендовать\s+текст"
    r"|подпис(?:ывайтесь|аться|ывайтесь)|данные\s+о\s+правообладателе"
    r"|связаться\s+с\s+редакцией|нашли\s+ошибку|теги\s*:|метки\s*:|комментари(?:и|ев)\b"
    r"|реклама\s*$|хотите\s+сообщить\s+новость|присоединяйтесь\s+к\s+нам"
    r")",
    re.IGNORECASE)
_DROP = re.compile(
    r"^(?:"
    r"(?:источник\s+)?фото(?:графия)?(?:\s+из\s+альбома)?\s*[:.©]?"
    r"|(?:источник\s+)?иллюстраци[яи]\s*:|©|copyright\b|\(c\)\s"
    r"|👍|📷|поделиться|share\b|tweet\b|×$"
    r")",
    re.IGNORECASE)
_CONTACT = re.compile(r"^(?:[\w.+-]+@[\w-]+\.[\w.-]+|(?:тел\.?|телефон)\s*:?\s*[\d()+ -]{6,})$",
                      re.IGNORECASE)
# Markdown as typed files and some feeds carry it.
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_BULLET = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,2}[.)])\s+")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*\)")
_MD_EMPH = re.compile(r"(\*\*|__)(.+?)\1")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def normalize_whitespace(text: str) -> str:
    """NFC, no invisible characters, single spaces, lines trimmed, at most one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_markdown(line: str) -> str:
    if _MD_RULE.match(line):
        return ""
    line = _MD_HEADING.sub("", line)
    line = _MD_BULLET.sub("", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_EMPH.sub(r"\2", line)
    line = _MD_ESCAPE.sub(r"\1", line)
    if len(line) > 2 and line[0] == line[-1] == "*" and line[1] != "*":
        line = line[1:-1]
    return line.strip()


def _fold(line: str) -> str:
    return re.sub(r"[^\w]+", " ", line.casefold().replace("ё", "е")).strip()


def is_chrome_line(line: str) -> bool:
    """Chrome inside an article: photo credits, share buttons, contacts."""
    return bool(_DROP.match(line) or _CONTACT.match(line))


def is_chrome(line: str) -> bool:
    """Any site chrome: what is dropped inside an article or starts its trailing chrome."""
    return is_chrome_line(line) or bool(_CUT.match(line))


def clean_paragraphs(text: str, *, title: str = "", markdown: bool = False) -> list[str]:
    """The article's paragraphs, chrome removed."""
    lines = normalize_whitespace(text).split("\n")
    if markdown:
        lines = [strip_markdown(line) for line in lines]
    lines = [line for line in lines if line]
    kept: list[str] = []
    for line in lines:
        if kept and _CUT.match(line):
            break
        if is_chrome_line(line) or not re.search(r"\w", line):
            continue
        kept.append(line)
    folded_title = _fold(title)
    out: list[str] = []
    for i, line in enumerate(kept):
        folded = _fold(line)
        if folded_title and folded == folded_title:
            continue  # the headline repeated inside the body
        nxt = _fold(kept[i + 1]) if i + 1 < len(kept) else ""
        if len(folded) >= 40 and nxt.startswith(folded) and len(nxt) > len(folded):
            continue  # a teaser cut short, repeated in full by the next paragraph
        if out and _fold(out[-1]) == folded:
            continue
        out.append(line)
    return out


def clean_text(text: str, *, title: str = "", markdown: bool = False) -> str:
    return "\n\n".join(clean_paragraphs(text, title=title, markdown=markdown))


def clean_title(title: str) -> str:
    line = normalize_whitespace(title).replace("\n", " ")
    return strip_markdown(line)
