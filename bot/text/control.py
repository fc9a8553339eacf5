"""Control characters and broken surrogates out of text from strangers.

Feeds carry NUL, BEL, ESC sequences and the like (in raw bytes or as character references);
they would reach Telegram messages and the operator's terminal (an ESC sequence can rewrite
what `pressbot articles` shows). Lone UTF-16 surrogates (from `&#55357;` or a JSON `\\ud83d`)
cannot be encoded as UTF-8 at all and make SQLite, lxml and aiogram fail.
"""

from __future__ import annotations

import re

# C0 except tab and newline, DEL, and C1 (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n?")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def fix_surrogates(text: str) -> str:
    """Join surrogate pairs into the character they encode; replace lone ones with U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def strip_control(text: str) -> str:
    """Drop C0 control characters (except tab and newline), DEL and C1 control characters.
    Carriage returns become newlines first (CRLF one newline), so old line ends survive."""
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    return _CONTROL.sub("", text)


def clean_text(text: str) -> str:
    """Both: what any string from a feed goes through before it is stored or shown."""
    return strip_control(fix_surrogates(text))
