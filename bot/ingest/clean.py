"""Plain-text clean-up: the article alone, without the site chrome reprints carry.

Works on text already out of HTML (trafilatura, feed content) or typed files (seeds, Markdown).
Three kinds of rule, each named so that `bench/eval_extraction.py` can count what it removes:
a *cut* line starts the trailing chrome ("Последние новости", "Автор:", "Анализ ×",
"Данные о правообладателе ...") and ends the article; a *drop* line is chrome inside the article
(photo credits, share buttons, phone numbers); a *repeat* is a line the article already has (the
headline, a truncated teaser that the next paragraph repeats in full). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")


@dataclass(frozen=True)
class Rule:
    """One line pattern: ``cut:*`` ends the article at the line, ``drop:*`` removes the line."""

    name: str
    pattern: re.Pattern[str]

    def matches(self, line: str) -> bool:
        return self.pattern.match(line) is not None


# The rest of a line that is a label (a button, a heading, a credit), not a sentence: short and
# without a sentence end, so that "Комментариев не поступило." or "Share prices fell." stay.
_LABEL = r"[^.!?]{0,80}$"


def _rule(name: str, pattern: str) -> Rule:
    return Rule(name, re.compile(pattern, re.IGNORECASE))


CUT_RULES: tuple[Rule, ...] = (
    _rule("cut:news-list",
          r"(?:последние|главные|другие|популярные|свежие|лучшие|горячие|похожие)\s+"
          r"(?:новости|материалы|публикации|статьи)"),
    _rule("cut:read-also", r"(?:\*?\s*)?(?:также\s+)?читайте\s+(?:также|еще|ещё|нас|эксклюзивную)"),
    _rule("cut:on-topic",
          r"материалы\s+по\s+теме|(?:ещё|еще)\s+по\s+теме|по\s+теме\s*:?$|новости\s+по\s+теме"),
    _rule("cut:analysis", r"анализ\s*(?:×|x)?$"),
    _rule("cut:author", r"автор(?:ы)?\s*:"),
    _rule("cut:text-by", r"текст\s*:"),
    _rule("cut:share", r"поделиться\b" + _LABEL),
    _rule("cut:recommend", r"порекомендовать\s+текст"),
    _rule("cut:subscribe", r"подпис(?:ывайтесь|аться|ывайтесь)"),
    _rule("cut:rights-holder", r"данные\s+о\s+правообладателе"),
    _rule("cut:contact-editors", r"связаться\s+с\s+редакцией"),
    _rule("cut:found-error", r"нашли\s+ошибку"),
    _rule("cut:tags", r"теги\s*:|метки\s*:"),
    _rule("cut:comments", r"комментари(?:и|ев)\b" + _LABEL),
    _rule("cut:advert", r"реклама\s*$"),
    _rule("cut:send-news", r"хотите\s+сообщить\s+новость"),
    _rule("cut:join-us", r"присоединяйтесь\s+к\s+нам"),
)
DROP_RULES: tuple[Rule, ...] = (
    # "Фото: ...", "Источник фото: ...", "Фото из альбома"; not "Фотографии ..." nor a sentence.
    _rule("drop:photo-credit",
          r"(?:источник\s+)?фото(?:графия)?\b(?:\s+из\s+альбома)?(?:\s*[:.©]|" + _LABEL + ")"),
    _rule("drop:illustration", r"(?:источник\s+)?иллюстраци[яи]\s*:"),
    _rule("drop:emoji", r"👍|📷"),
    _rule("drop:share", r"(?:поделиться|share|tweet)\b" + _LABEL),
    _rule("drop:close-button", r"×$"),
    _rule("drop:phone", r"(?:тел\.?|телефон)\s*:?\s*[\d()+ -]{6,}$"),
    _rule("drop:no-words", r"[^\w]*$"),
)
# A page title's site name: "Headline | Site", "Headline - Site.com", "Headline :: News :: Site".
_SITE_SUFFIX = re.compile(r"(?:\s+(?:[|—–-]|::)\s+[^|—–:]+?)+$")
REPEAT_RULES = ("repeat:headline", "repeat:teaser", "repeat:paragraph")
RULE_NAMES: tuple[str, ...] = (*(r.name for r in CUT_RULES), *(r.name for r in DROP_RULES),
                               *REPEAT_RULES)

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


def _first(rules: tuple[Rule, ...], line: str, skip: Collection[str] = ()) -> str | None:
    for rule in rules:
        if rule.name not in skip and rule.matches(line):
            return rule.name
    return None


def is_chrome_line(line: str) -> bool:
    """Chrome inside an article: photo credits, share buttons, phone numbers."""
    return _first(DROP_RULES, line, ("drop:no-words",)) is not None


def is_chrome(line: str) -> bool:
    """Any site chrome: what is dropped inside an article or starts its trailing chrome."""
    return is_chrome_line(line) or _first(CUT_RULES, line) is not None


def trace_clean(text: str, *, title: str = "", markdown: bool = False,
                skip: Collection[str] = ()) -> list[tuple[str, str | None]]:
    """Every non-empty line of ``text`` with the rule that removes it (None: kept).

    ``skip`` names rules to leave out (the benchmark measures what each one is worth)."""
    lines = normalize_whitespace(text).split("\n")
    if markdown:
        lines = [strip_markdown(line) for line in lines]
    lines = [line for line in lines if line]
    verdicts: list[str | None] = [None] * len(lines)
    kept: list[int] = []
    for i, line in enumerate(lines):
        cut = _first(CUT_RULES, line, skip) if kept else None
        if cut:
            verdicts[i:] = [cut] * (len(lines) - i)
            break
        verdicts[i] = _first(DROP_RULES, line, skip)
        if verdicts[i] is None:
            kept.append(i)
    headlines = {_fold(title), _fold(_SITE_SUFFIX.sub("", title))} - {""}
    last = ""
    for n, i in enumerate(kept):
        folded = _fold(lines[i])
        nxt = _fold(lines[kept[n + 1]]) if n + 1 < len(kept) else ""
        if folded in headlines and "repeat:headline" not in skip:
            verdicts[i] = "repeat:headline"  # the headline repeated inside the body
        elif (len(folded) >= 40 and nxt.startswith(folded) and len(nxt) > len(folded)
              and "repeat:teaser" not in skip):
            verdicts[i] = "repeat:teaser"  # a teaser cut short, repeated in full next
        elif last and last == folded and "repeat:paragraph" not in skip:
            verdicts[i] = "repeat:paragraph"
        else:
            last = folded
    return list(zip(lines, verdicts, strict=True))


def clean_paragraphs(text: str, *, title: str = "", markdown: bool = False) -> list[str]:
    """The article's paragraphs, chrome removed."""
    return [line for line, rule in trace_clean(text, title=title, markdown=markdown)
            if rule is None]


def clean_text(text: str, *, title: str = "", markdown: bool = False) -> str:
    return "\n\n".join(clean_paragraphs(text, title=title, markdown=markdown))


def clean_title(title: str) -> str:
    line = normalize_whitespace(title).replace("\n", " ")
    return strip_markdown(line)
