"""Bytes to text: the HTTP header's charset, then the document's declaration, then detection.

Russian sites still serve windows-1251 without saying so; byte-level detectors that look at a
small window (trafilatura's, feedparser's fallback to windows-1252) read those as Latin. Detection
here compares the Cyrillic candidates by how much lower-case Cyrillic each yields, which is decisive
for Russian text, and falls back to charset-normalizer for everything else.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_CYRILLIC_CANDIDATES = ("cp1251", "koi8-r", "mac-cyrillic", "cp866")
_LOWER_CYR = re.compile(r"[а-яё]")


def codec_name(label: str | None) -> str | None:
    """Python's codec for a charset label, or None when unknown."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'").lower()).name
    except (LookupError, ValueError, TypeError):
        return None


def ascii_compatible(codec: str) -> bool:
    """Does ``codec`` write ASCII markup as ASCII bytes? (UTF-16/32 and EBCDIC do not.)"""
    try:
        return "<?xml encoding='x'>{}".encode(codec) == b"<?xml encoding='x'>{}"
    except (UnicodeError, LookupError):
        return False


def declared_charset(body: bytes) -> str | None:
    """The charset an XML declaration or an HTML meta tag names in the first bytes. A
    declaration readable as ASCII that names an ASCII-incompatible charset (utf-16 in a UTF-8
    file) contradicts itself and is ignored."""
    head = body[:4096]
    m = _XML_DECL.match(head) or _META_CHARSET.search(head)
    codec = codec_name(m.group(1).decode("ascii")) if m else None
    return codec if codec and ascii_compatible(codec) else None


def _strict(body: bytes, codec: str) -> str | None:
    """``body`` decoded with ``codec``, or None when it does not decode. A charset that is
    not ASCII-compatible (a ``charset=utf-16`` header) decodes almost any even-length bytes
    into nonsense; it is believed only when the result begins as a document does."""
    try:
        text = body.decode(codec)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    if not ascii_compatible(codec) and text.lstrip("\ufeff \t\r\n")[:1] not in ("<", "{"):
        return None
    return text


def detect(body: bytes) -> tuple[str, str]:
    """Guess the encoding of ``body``; return (text, codec)."""
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    sample = body[:65536]
    best_codec, best_score = None, 0
    for codec in _CYRILLIC_CANDIDATES:
        score = len(_LOWER_CYR.findall(sample.decode(codec, errors="replace")))
        if score > best_score:
            best_codec, best_score = codec, score
    if best_codec is not None and best_score >= max(8, len(sample) // 50):
        return body.decode(best_codec, errors="replace"), best_codec
    guess = from_bytes(sample).best()
    codec = codec_name(guess.encoding) if guess is not None else None
    codec = codec or "cp1252"
    return body.decode(codec, errors="replace"), codec


def decode(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode a fetched document; return (text, codec used)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace"), codec
    for codec in (codec_name(header_charset), declared_charset(body)):
        if codec:
            text = _strict(body, codec)
            if text is not None:
                return text, codec
    return detect(body)


def as_utf8_xml(text: str) -> bytes:
    """Re-encode decoded XML as UTF-8, its declaration saying so, for feedparser."""
    text = re.sub(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""", r"\1\2utf-8\2", text,
                  count=1)
    return text.lstrip("\ufeff").encode("utf-8")
