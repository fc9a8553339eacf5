"""One language at a time: no English sentence in a Russian reply, no Russian in an English
one. The test walks every text key of both languages, and every error message the ingest
layer can raise (collected from the source, so a new ``raise`` is walked too), through
``error_text`` as the chat sees it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.telegram.texts import COMMANDS, TEXTS, error_text

ROOT = Path(__file__).resolve().parent.parent
INGEST = ROOT / "bot" / "ingest"

# Latin words a Russian reply may carry: names of formats and things, config values and
# examples the user types back.
ALLOWED_LATIN = {
    "rss", "atom", "json", "feed", "opml", "http", "https", "url", "telegram", "utc",
    "digest", "instant", "ru", "en", "asia", "tomsk", "novosibirsk", "tashkent", "almaty",
    "europe", "moscow", "pacific", "auckland", "etc", "xml", "csv", "png", "id", "ok",
    "html", "gmt", "america", "new_york", "africa", "australia", "nairobi", "sydney",
    "topics", "places", "words", "excluded", "outlets", "m", "h", "d", "s", "min",
}
PLACEHOLDER = re.compile(r"\{[a-z_]*(?::[^}]*)?\}")
# a command with the arguments a user types after it: "/quiet off", "/follow химия"
COMMAND = re.compile(r"/[a-z_]+(?: [a-z0-9:_-]+)*")
EXAMPLE = re.compile(r"/[a-z_]+ [^\n]*")
ADDRESS = re.compile(r"\S+\.(?:ru|com|org|example|xml|opml)\S*|https?://\S+|\S+@\S+")
TAG = re.compile(r"</?[a-z]+[^>]*>")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_'-]*")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def strings_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_of(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_of(v)]
    return []


def english_words(text: str) -> list[str]:
    text = TAG.sub(" ", ADDRESS.sub(" ", COMMAND.sub(" ", PLACEHOLDER.sub(" ", text))))
    return [w for w in LATIN_WORD.findall(text) if w.lower() not in ALLOWED_LATIN]


def test_both_languages_have_the_same_keys_and_placeholders():
    assert TEXTS["ru"].keys() == TEXTS["en"].keys()
    fields = string.Formatter()
    for key, ru in TEXTS["ru"].items():
        en = TEXTS["en"][key]
        assert type(ru) is type(en), key
        for r, e in zip(strings_of(ru), strings_of(en), strict=True):
            names = ({f for _, f, _, _ in fields.parse(r) if f},
                     {f for _, f, _, _ in fields.parse(e) if f})
            assert names[0] == names[1], (key, names)
    assert [c for c, _ in COMMANDS["ru"]] == [c for c, _ in COMMANDS["en"]]


@pytest.mark.parametrize("key", sorted(TEXTS["ru"]))
def test_no_english_in_a_russian_text(key):
    for text in strings_of(TEXTS["ru"][key]):
        assert not english_words(text), (key, text)


@pytest.mark.parametrize("key", sorted(TEXTS["en"]))
def test_no_russian_in_an_english_text(key):
    for text in strings_of(TEXTS["en"][key]):
        assert not CYRILLIC.search(EXAMPLE.sub("", PLACEHOLDER.sub("", text))), (key, text)


def test_command_descriptions_are_in_their_language():
    for _, description in COMMANDS["ru"]:
        assert not english_words(description), description
    for _, description in COMMANDS["en"]:
        assert not CYRILLIC.search(EXAMPLE.sub("", description)), description


def raised_messages() -> list[tuple[str, str]]:
    """(file:line, message) of every exception raised with a literal message in bot/ingest,
    formatted values replaced by a sample ('404')."""

    def render(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "404"
                           for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = render(node.left), render(node.right)
            return left + right if left is not None and right is not None else (left or right)
        return None

    found = []
    for path in sorted(INGEST.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and node.exc.args):
                continue
            name = getattr(node.exc.func, "id", getattr(node.exc.func, "attr", ""))
            if name not in {"FetchError", "FeedError", "RetryLaterError", "OpmlError"}:
                continue
            message = render(node.exc.args[0])
            if message:
                found.append((f"{path.name}:{node.lineno}", message))
    return found


MESSAGES = raised_messages()


def test_the_ingest_layer_raises_what_the_walk_expects():
    names = {where.split(":")[0] for where, _ in MESSAGES}
    assert {"fetch.py", "parse.py", "opml.py", "discover.py"} <= names
    assert len(MESSAGES) >= 30


@pytest.mark.parametrize(("where", "message"), MESSAGES, ids=[w for w, _ in MESSAGES])
def test_every_ingest_error_reads_in_the_chat_language(where, message):
    ru = error_text("ru", message)
    en = error_text("en", message)
    assert ru != TEXTS["ru"]["err_other"].format(detail=message[:200]), (where, message)
    assert not english_words(ru), (where, ru)
    assert not CYRILLIC.search(en), (where, en)
