"""TOML configuration: parsed once at start, validated, turned into frozen settings.

The schema is written once: each table is a dataclass whose fields are its keys, declared with
``key(default, doc, ...)`` (type from the annotation; bounds, units and choices in the
declaration). The loader reads any table from its dataclass, so the allowed keys, the types, the
defaults and the checks cannot drift apart; tests/test_config.py checks config.example.toml
against the same declarations. Arrays of tables ([[sources]], [[topics]], [[channels]]) take
their keys from their dataclasses too and add the rules that tie keys together.

Every problem in a file is collected and reported together, each naming its key, so that an
operator fixes a broken config in one pass. Numbers must be finite and within their bounds. The
embedded defaults (``bot/defaults.toml``, a link to ``config.example.toml``) are what
``pressbot run`` uses when no file is given.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
TOKEN_ENV = "PRESSBOT_TOKEN"
CONFIG_ENV = "PRESSBOT_CONFIG"
DB_ENV = "PRESSBOT_DB"

MAX_BACKOFF_CAP = 6 * 3600
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[\w][\w .:/()+-]{0,79}$")
_TOKEN = re.compile(r"\d{3,15}:[\w-]{20,}")


class ConfigError(Exception):
    """An invalid configuration; ``problems`` lists every problem found, one per line."""

    def __init__(self, origin: str, problems: list[str]):
        self.origin = origin
        self.problems = problems
        super().__init__(f"invalid config {origin}: " + "; ".join(problems))


def key(default: Any, doc: str, *, min: float | None = None, max: float | None = None,
        unit: str | None = None, choices: tuple[Any, ...] = (), check: str | None = None,
        secret: bool = False) -> Any:
    """A config key: its default and what it means, with its bounds. ``unit="duration"``
    takes seconds or "90s", "15m", "6h", "1d"; ``check="url"`` an http(s) URL; ``check=
    "proxy"`` an http(s) or socks5 URL. Strings that may be empty become None when empty."""
    meta = {"doc": doc, "min": min, "max": max, "unit": unit, "choices": choices,
            "check": check, "secret": secret}
    if isinstance(default, tuple | list):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------- the schema


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = key("pressbot.db", "SQLite file holding sources, articles, stories and chats")
    url: str | None = key(None, "a PostgreSQL server's database instead of the SQLite file "
                          "(postgresql://user:password@host:5432/name)", check="database",
                          secret=True)


@dataclass(frozen=True)
class TelegramConfig:
    token: str | None = key(None, "Bot API token from @BotFather (or $PRESSBOT_TOKEN)",
                            secret=True)
    api_server: str | None = key(None, "base URL of a self-hosted Bot API server", check="url")
    admins: tuple[int, ...] = key((), "chat ids allowed to run admin commands")
    rate: float = key(30.0, "messages a second to all chats together", min=1, max=1000)
    commands_per_minute: int = key(20, "commands (and button presses) one chat may send a "
                                   "minute", min=1, max=1000)
    update_sources: bool = key(True, "edit a sent story's message when more outlets carry it")
    update_sources_quiet: int = key(600, "how long a story's reprints must be quiet before "
                                    "its messages are edited", unit="duration", min=1,
                                    max=86400)
    max_attempts: int = key(10, "attempts at sending one message before it fails", min=1,
                            max=100)
    max_words: int = key(50, "words and names one chat may follow and exclude in all", min=1,
                         max=1000)
    alert_after: int = key(6 * 3600, "admins are told when a source has failed this long",
                           unit="duration", min=60, max=30 * 86400)
    proxy: str | None = key(None, "proxy for the Bot API (http://, socks5://)", check="proxy",
                            secret=True)

    def __repr__(self) -> str:  # never print the token
        shown = "set" if self.token else "unset"
        others = ", ".join(f"{f.name}={getattr(self, f.name)!r}"
                           for f in dataclasses.fields(self) if f.name != "token")
        return f"TelegramConfig(token=<{shown}>, {others})"


@dataclass(frozen=True)
class FetchConfig:
    timeout: float = key(30.0, "whole-request timeout in seconds", min=1, max=600)
    connect_timeout: float = key(10.0, "seconds to open the TCP/TLS connection", min=1,
                                 max=600)
    max_body_bytes: int = key(10 * 1024 * 1024, "largest body accepted, after gzip",
                              min=1024, max=1024 ** 3)
    max_redirects: int = key(5, "redirects followed at most", min=0, max=5)
    per_host: int = key(2, "requests open at once to one host", min=1, max=100)
    concurrency: int = key(20, "requests open at once in all", min=1, max=1000)
    user_agent: str = key("pressbot/0.1 (press-release monitor; "
                          "+https://pypi.org/project/pressbot/)", "sent with every request")
    fulltext_min_chars: int = key(600, "a feed entry shorter than this is a teaser whose "
                                  "page is fetched (0: never)", min=0, max=100_000)
    allow_private_addresses: bool = key(False, "whether feeds added from chat may be on "
                                        "private, loopback or link-local addresses")
    proxy: str | None = key(None, "proxy for every fetch (http://, socks5://); empty: the "
                            "environment's HTTPS_PROXY/ALL_PROXY", check="proxy", secret=True)
    max_entries: int = key(500, "entries of one poll taken at most, the newest", min=1,
                           max=100_000)
    max_article_chars: int = key(100_000, "longest article text kept (cut at a paragraph end)",
                                 min=1000, max=10_000_000)


@dataclass(frozen=True)
class SchedulerConfig:
    jitter: int = key(30, "up to this many seconds of random delay on each poll", min=0,
                      max=3600)
    max_backoff: int = key(MAX_BACKOFF_CAP, "cap of a failing source's backoff",
                           unit="duration", min=60, max=MAX_BACKOFF_CAP)
    misfire_grace: int = key(300, "how late a poll that could not start on time may start",
                             unit="duration", min=1, max=86400)


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool = key(False, "serve /healthz and Prometheus /metrics")
    host: str = key("127.0.0.1", "address to listen on")
    port: int = key(9464, "TCP port (0 picks a free one)", min=0, max=65535)


@dataclass(frozen=True)
class UnderstandingConfig:
    summary_chars: int = key(350, "longest summary, in characters", min=80, max=2000)
    ner: bool = key(True, "find people, organisations and places with natasha's NER")


@dataclass(frozen=True)
class DedupConfig:
    semantic: bool = key(True, "join reports of one event in other words with a sentence "
                         "encoder (multilingual-e5-small) where the words alone are unsure")


@dataclass(frozen=True)
class DeliveryConfig:
    max_age: int = key(48 * 3600, "an article older than this is stored and searchable but "
                       "never delivered", unit="duration", min=60, max=365 * 86400)
    first_poll_max: int = key(3, "entries a source's first poll delivers at most (the newest "
                              "within max_age); the rest is its baseline", min=0, max=100)


@dataclass(frozen=True)
class WebConfig:
    enabled: bool = key(True, "serve the web archive: stories, feeds out, charts")
    host: str = key("127.0.0.1", "address to listen on (127.0.0.1 keeps it to this host)")
    port: int = key(8080, "TCP port (0 picks a free one)", min=0, max=65535)
    base_url: str | None = key(None, "the archive's public address, for links in messages",
                               check="url")
    token: str | None = key(None, "required as ?token= or a cookie when set", secret=True)

    def __repr__(self) -> str:  # never print the token
        return (f"WebConfig(enabled={self.enabled}, host={self.host!r}, port={self.port},"
                f" base_url={self.base_url!r}, token=<{'set' if self.token else 'unset'}>)")


# Plain tables in file order: [name] -> the dataclass that declares its keys.
TABLES: dict[str, type] = {
    "database": DatabaseConfig,
    "telegram": TelegramConfig,
    "fetch": FetchConfig,
    "scheduler": SchedulerConfig,
    "metrics": MetricsConfig,
    "understanding": UnderstandingConfig,
    "dedup": DedupConfig,
    "delivery": DeliveryConfig,
    "web": WebConfig,
}


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str = "feed"  # "feed" | "files"
    url: str | None = None
    path: Path | None = None
    interval: int = 900
    enabled: bool = True

    @property
    def location(self) -> str:
        return self.url if self.url is not None else str(self.path)


@dataclass(frozen=True)
class TopicConfig:
    id: str
    name_ru: str
    name_en: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelConfig:
    """A channel or group (optionally one forum topic) that gets matching stories posted."""

    chat_id: int
    thread_id: int | None = None
    lang: str = "ru"
    topics: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    database: Path
    # A PostgreSQL database ([database] url, or $PRESSBOT_DB holding a URL) used instead of the
    # SQLite file; never printed (it may hold a password).
    database_url: str | None = field(default=None, repr=False)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    understanding: UnderstandingConfig = field(default_factory=UnderstandingConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    web: WebConfig = field(default_factory=WebConfig)
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[TopicConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    origin: str = "<defaults>"

    @property
    def store_location(self) -> str | Path:
        """What ``Store.open`` opens: the PostgreSQL URL when one is set, else the file."""
        return self.database_url or self.database

    @property
    def summary_chars(self) -> int:
        return self.understanding.summary_chars

    @property
    def ner(self) -> bool:
        return self.understanding.ner


# ---------------------------------------------------------------- values


def parse_duration(value: Any) -> int | None:
    """Seconds from an int or a string such as ``"90s"``, ``"15m"``, ``"6h"``; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) and 0 < value < 10 ** 9 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
            return int(seconds) if 1 <= seconds < 10 ** 9 else None
    return None


def check_http_url(url: str) -> str | None:
    """The reason ``url`` is not an acceptable http(s) URL, or None when it is."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "no scheme"
        return f"only http and https URLs are accepted, got {shown}"
    if not parts.hostname:
        return "URL has no host"
    return None


DATABASE_SCHEMES = ("postgresql", "postgres")


def is_database_url(value: str) -> bool:
    """Whether a database setting names a PostgreSQL server (else it is an SQLite file)."""
    return value.strip().lower().startswith(tuple(f"{s}://" for s in DATABASE_SCHEMES))


def check_database_url(url: str) -> str | None:
    if not is_database_url(url):
        return "must be a postgresql:// URL (an SQLite file goes in database.path)"
    try:
        _ = urlsplit(url.strip()).port  # a port that is not a number raises
    except ValueError as exc:
        return f"not a URL ({exc})"
    return None


def check_proxy_url(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https", "socks4", "socks5", "socks5h"):
        return f"must be an http://, https:// or socks5:// URL, got {parts.scheme or 'none'}"
    if not parts.hostname:
        return "URL has no host"
    return None


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, float) or math.isfinite(value) else str(value)


class _Reader:
    """Reads typed values out of TOML tables, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, why: str) -> None:
        self.problems.append(f"{key}: {why}")

    def table(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.fail(name, f"must be a table, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: dict[str, Any], prefix: str, known: set[str]) -> None:
        for name in data:
            if name not in known:
                self.fail(f"{prefix}{name}", "unknown key")

    def tables(self, raw: Any, name: str) -> list[tuple[str, dict[str, Any]]]:
        """The tables of an array of tables ([[name]]) with their key prefixes."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(name, f"must be an array of tables ([[{name}]])")
            return []
        out = []
        for i, item in enumerate(raw):
            if isinstance(item, dict):
                out.append((f"{name}[{i}].", item))
            else:
                self.fail(f"{name}[{i}]", "must be a table")
        return out

    def value(self, raw: Any, f: dataclasses.Field, kind: Any, name: str) -> Any:
        """One key's value checked against its declaration; the default when invalid."""
        meta = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
        base = next(a for a in typing.get_args(kind) if a is not type(None)) if optional \
            else kind
        if meta.get("unit") == "duration":
            seconds = parse_duration(raw)
            if seconds is None:
                shown = "<hidden>" if meta.get("secret") else _show(raw)
                self.fail(name, f"must be a positive duration such as 900, \"15m\" or \"1h\","
                                f" got {shown}")
                return default
            return self._bounded(seconds, meta, name, default, duration=True)
        if base is bool:
            if not isinstance(raw, bool):
                self.fail(name, f"must be true or false, got {_show(raw)}")
                return default
            return raw
        if base in (int, float):
            ok = int if base is int else int | float
            if isinstance(raw, bool) or not isinstance(raw, ok):
                what = "an integer" if base is int else "a number"
                self.fail(name, f"must be {what}, got {_show(raw)}")
                return default
            if not math.isfinite(raw):
                self.fail(name, f"must be a finite number, got {raw}")
                return default
            return self._bounded(base(raw), meta, name, default)
        if base is str:
            if not isinstance(raw, str):
                shown = "<hidden>" if meta.get("secret") else _show(raw)
                self.fail(name, f"must be a string, got {shown}")
                return default
            if optional and not raw.strip():
                return None
            checker = {"url": check_http_url, "proxy": check_proxy_url,
                       "database": check_database_url}.get(meta.get("check"))
            why = checker(raw) if checker else None
            if why:
                self.fail(name, why)
                return default
            if meta.get("choices") and raw not in meta["choices"]:
                self.fail(name, f"must be one of {', '.join(map(repr, meta['choices']))},"
                                f" got {raw!r}")
                return default
            return raw.strip() if checker else raw
        if typing.get_origin(base) is tuple:
            (item, _) = typing.get_args(base)
            if not isinstance(raw, list) or not all(
                    isinstance(v, item) and not isinstance(v, bool) for v in raw):
                self.fail(name, f"must be a list of {'integers' if item is int else 'strings'}")
                return default
            return tuple(raw)
        raise TypeError(f"config key {name} has an undeclared type {kind}")

    def _bounded(self, value: float, meta: dict, name: str, default: Any, *,
                 duration: bool = False) -> Any:
        low, high = meta.get("min"), meta.get("max")
        unit = " seconds" if duration else ""
        if low is not None and value < low:
            self.fail(name, f"must be at least {low:g}{unit}, got {value:g}")
            return default
        if high is not None and value > high:
            shown = _pretty(high) if duration else f"{high:g}"
            self.fail(name, f"must be at most {shown}, got {value:g}{unit and 's'}")
            return default
        return value

    def section(self, data: dict[str, Any], name: str, cls: type) -> Any:
        raw = self.table(data, name)
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        self.unknown(raw, f"{name}.", set(fields))
        values = {k: self.value(raw[k], f, hints[k], f"{name}.{k}")
                  for k, f in fields.items() if k in raw}
        return cls(**values)


def _pretty(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# ---------------------------------------------------------------- arrays of tables


_SOURCE_KEYS = {f.name for f in dataclasses.fields(SourceConfig)}
_TOPIC_KEYS = {f.name for f in dataclasses.fields(TopicConfig)}
_CHANNEL_KEYS = {f.name for f in dataclasses.fields(ChannelConfig)}


def _load_sources(raw: Any, c: _Reader, base: Path) -> tuple[SourceConfig, ...]:
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for p, item in c.tables(raw, "sources"):
        c.unknown(item, p, _SOURCE_KEYS)
        name = item.get("name")
        if name is None:
            c.fail(p + "name", "is required")
        elif not isinstance(name, str):
            c.fail(p + "name", f"must be a string, got {name!r}")
            name = None
        elif not _NAME.match(name):
            c.fail(p + "name", f"must be 1-80 letters, digits or .:/()+- and spaces, got {name!r}")
        elif name in seen:
            c.fail(p + "name", f"duplicate source name {name!r}")
        else:
            seen.add(name)
        kind = item.get("kind", "feed")
        if kind not in ("feed", "files"):
            c.fail(p + "kind", f"must be \"feed\" or \"files\", got {kind!r}")
        url, path_s = item.get("url"), item.get("path")
        for k, v in (("url", url), ("path", path_s)):
            if v is not None and not isinstance(v, str):
                c.fail(p + k, f"must be a string, got {v!r}")
        url = url if isinstance(url, str) else None
        path_s = path_s if isinstance(path_s, str) else None
        path: Path | None = None
        if kind == "feed":
            if url is None:
                c.fail(p + "url", "is required for kind = \"feed\"")
            elif why := check_http_url(url):
                c.fail(p + "url", f"{why} ({url!r})")
            if path_s is not None:
                c.fail(p + "path", "only goes with kind = \"files\"")
        elif kind == "files":
            if path_s is None:
                c.fail(p + "path", "is required for kind = \"files\"")
            else:
                path = Path(path_s).expanduser()
                if not path.is_absolute():
                    path = base / path
            if url is not None:
                c.fail(p + "url", "only goes with kind = \"feed\"")
        interval = 900
        if "interval" in item:
            parsed = parse_duration(item["interval"])
            if parsed is None:
                c.fail(p + "interval", f"must be a positive duration such as 900, \"15m\" or"
                                       f" \"1h\", got {_show(item['interval'])}")
            elif parsed < 60:
                c.fail(p + "interval", f"must be at least 60 seconds, got {parsed}")
            elif parsed > 7 * 86400:
                c.fail(p + "interval", f"must be at most 7d, got {parsed}s")
            else:
                interval = parsed
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            c.fail(p + "enabled", f"must be true or false, got {enabled!r}")
            enabled = True
        if name and kind in ("feed", "files"):
            sources.append(SourceConfig(name=name, kind=kind, url=url.strip() if url else None,
                                        path=path, interval=interval, enabled=enabled))
    return tuple(sources)


_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _string_list(item: dict[str, Any], name: str, c: _Reader, prefix: str,
                 required: bool) -> tuple[str, ...]:
    value = item.get(name)
    if value is None:
        if required:
            c.fail(prefix + name, "is required")
        return ()
    if not isinstance(value, list) or (not value and required) or not all(
            isinstance(v, str) and v.strip() for v in value):
        c.fail(prefix + name, "must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _load_topics(raw: Any, c: _Reader) -> tuple[TopicConfig, ...]:
    topics: list[TopicConfig] = []
    seen: set[str] = set()
    for p, item in c.tables(raw, "topics"):
        c.unknown(item, p, _TOPIC_KEYS)
        topic_id = item.get("id")
        if topic_id is None:
            c.fail(p + "id", "is required")
        elif not isinstance(topic_id, str) or not _TOPIC_ID.match(topic_id):
            c.fail(p + "id", f"must be lower-case letters, digits and _, got {topic_id!r}")
            topic_id = None
        elif topic_id in seen:
            c.fail(p + "id", f"duplicate topic id {topic_id!r}")
        seen.add(topic_id or "")
        names = []
        for k in ("name_ru", "name_en"):
            name = item.get(k)
            if not isinstance(name, str) or not name.strip():
                c.fail(p + k, "is required")
                name = ""
            names.append(name.strip())
        terms = _string_list(item, "terms", c, p, required=True)
        exclude = _string_list(item, "exclude", c, p, required=False)
        if topic_id and all(names) and terms:
            topics.append(TopicConfig(topic_id, names[0], names[1], terms, exclude))
    return tuple(topics)


def _load_channels(raw: Any, c: _Reader, topic_ids: set[str]) -> tuple[ChannelConfig, ...]:
    out: list[ChannelConfig] = []
    seen: set[int] = set()
    for p, item in c.tables(raw, "channels"):
        c.unknown(item, p, _CHANNEL_KEYS)
        chat_id = item.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id >= 0:
            c.fail(p + "chat_id", "must be the channel's or group's negative numeric id "
                   "(-100...)")
            continue
        thread_id = item.get("thread_id")
        if thread_id is not None and (not isinstance(thread_id, int) or isinstance(
                thread_id, bool) or thread_id <= 0):
            c.fail(p + "thread_id", "must be a forum topic's positive message_thread_id")
            thread_id = None
        lang = item.get("lang", "ru")
        if lang not in ("ru", "en"):
            c.fail(p + "lang", f'must be "ru" or "en", got {lang!r}')
            lang = "ru"
        lists = {k: _string_list(item, k, c, p, False) for k in ("topics", "places", "follow",
                                                          "exclude")}
        for topic in lists["topics"]:
            if topic not in topic_ids:
                c.fail(p + "topics", f"unknown topic id {topic!r}")
        if chat_id in seen:  # one chat, one set of filters (and at most one forum topic)
            c.fail(p + "chat_id", f"{chat_id} is listed twice")
        seen.add(chat_id)
        out.append(ChannelConfig(chat_id, thread_id, lang, **lists))
    return tuple(out)


def default_topics() -> tuple[TopicConfig, ...]:
    """The taxonomy of the embedded defaults, for configs that define no [[topics]]."""
    data = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
    return _load_topics(data.get("topics"), _Reader())


ARRAYS = ("sources", "topics", "channels")


def parse_settings(data: dict[str, Any], *, origin: str, base: Path,
                   env: dict[str, str] | None = None, db_base: Path | None = None) -> Settings:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    c = _Reader()
    c.unknown(data, "", set(TABLES) | set(ARRAYS))
    tables = {name: c.section(data, name, cls) for name, cls in TABLES.items()}

    telegram: TelegramConfig = tables["telegram"]
    token = telegram.token
    if env.get(TOKEN_ENV):
        token = env[TOKEN_ENV].strip()
    if token is not None and not _TOKEN.fullmatch(token):
        c.fail("telegram.token", "does not look like a Bot API token (digits:secret)")
        token = None
    telegram = dataclasses.replace(telegram, token=token)

    db_path = Path(tables["database"].path or "pressbot.db")
    if db_base is not None and not db_path.expanduser().is_absolute():
        db_path = db_base / db_path
    db_url = tables["database"].url
    if env.get(DB_ENV):
        if is_database_url(env[DB_ENV]):
            db_url = env[DB_ENV].strip()
        else:
            db_path, db_url = Path(env[DB_ENV]), None

    sources = _load_sources(data.get("sources"), c, base)
    topics = _load_topics(data.get("topics"), c) if "topics" in data else default_topics()
    channels = _load_channels(data.get("channels"), c, {t.id for t in topics})
    if c.problems:
        raise ConfigError(origin, c.problems)
    return Settings(database=db_path.expanduser(), database_url=db_url, telegram=telegram,
                    fetch=tables["fetch"],
                    scheduler=tables["scheduler"], metrics=tables["metrics"],
                    understanding=tables["understanding"], dedup=tables["dedup"],
                    delivery=tables["delivery"],
                    web=tables["web"],
                    sources=sources, topics=topics,
                    channels=channels, origin=origin)


def load_settings(path: Path | None = None, *, env: dict[str, str] | None = None) -> Settings:
    """Load ``path``, or ``$PRESSBOT_CONFIG``, or the embedded defaults."""
    env = dict(os.environ) if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    target = path if path is not None else DEFAULTS_PATH
    origin = str(path) if path is not None else "<embedded defaults>"
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise ConfigError(origin, [f"cannot read file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(origin, ["file is not UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(origin, [f"TOML syntax: {exc}"]) from None
    except RecursionError:
        raise ConfigError(origin, ["TOML nested too deeply"]) from None
    # Relative paths are relative to the file that names them (the checkout for the defaults);
    # the defaults' database goes to the working directory.
    base = target.resolve().parent
    return parse_settings(data, origin=origin, base=base, env=env,
                          db_base=base if path is not None else None)
