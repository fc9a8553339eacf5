"""TOML configuration: parsed once at start, validated, turned into frozen settings.

Every problem in a file is collected and reported together, each naming its key, so that an
operator fixes a broken config in one pass. The embedded defaults (``bot/defaults.toml``, a link to
``config.example.toml``) are what ``pressbot run`` uses when no file is given.
"""

from __future__ import annotations

import os
import re
import tomllib
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


class ConfigError(Exception):
    """An invalid configuration; ``problems`` lists every problem found, one per line."""

    def __init__(self, origin: str, problems: list[str]):
        self.origin = origin
        self.problems = problems
        super().__init__(f"invalid config {origin}: " + "; ".join(problems))


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str  # "feed" | "files"
    url: str | None = None
    path: Path | None = None
    interval: int = 900
    enabled: bool = True

    @property
    def location(self) -> str:
        return self.url if self.url is not None else str(self.path)


@dataclass(frozen=True)
class TelegramConfig:
    token: str | None = None
    api_server: str | None = None
    admins: tuple[int, ...] = ()
    rate: float = 30.0  # messages a second in all (Telegram's limit; more with paid broadcasts)
    commands_per_minute: int = 20  # per chat; more gets one polite notice, then silence
    update_sources: bool = True  # edit a sent story's message when more outlets carry it
    update_sources_quiet: int = 600  # seconds a story's burst of reprints must be quiet first

    def __repr__(self) -> str:  # never print the token
        shown = "set" if self.token else "unset"
        return (f"TelegramConfig(token=<{shown}>, api_server={self.api_server!r},"
                f" admins={self.admins}, rate={self.rate},"
                f" commands_per_minute={self.commands_per_minute},"
                f" update_sources={self.update_sources},"
                f" update_sources_quiet={self.update_sources_quiet})")


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
class FetchConfig:
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 2
    concurrency: int = 20
    user_agent: str = "pressbot/0.1 (press-release monitor; +https://pypi.org/project/pressbot/)"
    fulltext_min_chars: int = 600
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class SchedulerConfig:
    jitter: int = 30
    max_backoff: int = MAX_BACKOFF_CAP
    misfire_grace: int = 300


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True)
class TopicConfig:
    id: str
    name_ru: str
    name_en: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    database: Path
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[TopicConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    summary_chars: int = 350
    ner: bool = True
    origin: str = "<defaults>"


def parse_duration(value: Any) -> int | None:
    """Seconds from an int or a string such as ``"90s"``, ``"15m"``, ``"6h"``; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value > 0 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = int(float(m.group(1)) * _UNITS[m.group(2)])
            return seconds if seconds > 0 else None
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


class _Checker:
    """Reads typed values out of a TOML table, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, why: str) -> None:
        self.problems.append(f"{key}: {why}")

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"must be a table, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: dict[str, Any], prefix: str, known: set[str]) -> None:
        for key in data:
            if key not in known:
                self.fail(f"{prefix}{key}", "unknown key")

    def number(self, data: dict[str, Any], key: str, default: float, *, prefix: str = "",
               minimum: float = 0, integer: bool = False) -> Any:
        if key not in data:
            return default
        value = data[key]
        ok_type = int if integer else int | float
        if isinstance(value, bool) or not isinstance(value, ok_type):
            kind = "an integer" if integer else "a number"
            self.fail(prefix + key, f"must be {kind}, got {value!r}")
            return default
        if value < minimum:
            self.fail(prefix + key, f"must be at least {minimum}, got {value}")
            return default
        return value

    def string(self, data: dict[str, Any], key: str, default: str | None, *,
               prefix: str = "") -> str | None:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str):
            self.fail(prefix + key, f"must be a string, got {value!r}")
            return default
        return value

    def tables(self, raw: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
        """The tables of an array of tables ([[key]]) with their key prefixes; anything else
        is reported and skipped."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(key, f"must be an array of tables ([[{key}]])")
            return []
        out = []
        for i, item in enumerate(raw):
            if isinstance(item, dict):
                out.append((f"{key}[{i}].", item))
            else:
                self.fail(f"{key}[{i}]", "must be a table")
        return out

    def boolean(self, data: dict[str, Any], key: str, default: bool, *, prefix: str = "") -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(prefix + key, f"must be true or false, got {value!r}")
            return default
        return value

    def duration(self, data: dict[str, Any], key: str, default: int, *, prefix: str = "") -> int:
        if key not in data:
            return default
        seconds = parse_duration(data[key])
        if seconds is None:
            self.fail(prefix + key, f"must be a positive duration such as 900, \"15m\" or \"1h\", "
                                    f"got {data[key]!r}")
            return default
        return seconds


def _load_sources(raw: Any, c: _Checker, base: Path) -> tuple[SourceConfig, ...]:
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for p, item in c.tables(raw, "sources"):
        c.unknown(item, p, {"name", "url", "path", "kind", "interval", "enabled"})
        name = c.string(item, "name", None, prefix=p)
        if name is None:
            if "name" not in item:
                c.fail(p + "name", "is required")
        elif not _NAME.match(name):
            c.fail(p + "name", f"must be 1-80 letters, digits or .:/()+- and spaces, got {name!r}")
        elif name in seen:
            c.fail(p + "name", f"duplicate source name {name!r}")
        else:
            seen.add(name)
        kind = c.string(item, "kind", "feed", prefix=p)
        if kind not in ("feed", "files"):
            c.fail(p + "kind", f"must be \"feed\" or \"files\", got {kind!r}")
        url = c.string(item, "url", None, prefix=p)
        path_s = c.string(item, "path", None, prefix=p)
        path: Path | None = None
        if kind == "feed":
            if url is None:
                c.fail(p + "url", "is required for kind = \"feed\"")
            else:
                why = check_http_url(url)
                if why:
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
        interval = c.duration(item, "interval", 900, prefix=p)
        if interval < 60:
            c.fail(p + "interval", f"must be at least 60 seconds, got {interval}")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            c.fail(p + "enabled", f"must be true or false, got {enabled!r}")
            enabled = True
        if name and kind in ("feed", "files"):
            sources.append(SourceConfig(name=name, kind=kind, url=url.strip() if url else None,
                                        path=path, interval=interval, enabled=enabled))
    return tuple(sources)


_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _string_list(item: dict[str, Any], key: str, c: _Checker, prefix: str,
                 required: bool) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        if required:
            c.fail(prefix + key, "is required")
        return ()
    if not isinstance(value, list) or (not value and required) or not all(
            isinstance(v, str) and v.strip() for v in value):
        c.fail(prefix + key, "must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _load_topics(raw: Any, c: _Checker) -> tuple[TopicConfig, ...]:
    topics: list[TopicConfig] = []
    seen: set[str] = set()
    for p, item in c.tables(raw, "topics"):
        c.unknown(item, p, {"id", "name_ru", "name_en", "terms", "exclude"})
        topic_id = c.string(item, "id", None, prefix=p)
        if topic_id is None:
            if "id" not in item:
                c.fail(p + "id", "is required")
        elif not _TOPIC_ID.match(topic_id):
            c.fail(p + "id", f"must be lower-case letters, digits and _, got {topic_id!r}")
        elif topic_id in seen:
            c.fail(p + "id", f"duplicate topic id {topic_id!r}")
        seen.add(topic_id or "")
        names = []
        for key in ("name_ru", "name_en"):
            name = c.string(item, key, None, prefix=p)
            if (not name or not name.strip()) and (key not in item or name is not None):
                c.fail(p + key, "is required")
            names.append((name or "").strip())
        terms = _string_list(item, "terms", c, p, required=True)
        exclude = _string_list(item, "exclude", c, p, required=False)
        if topic_id and _TOPIC_ID.match(topic_id) and all(names) and terms:
            topics.append(TopicConfig(topic_id, names[0], names[1], terms, exclude))
    return tuple(topics)


def _load_channels(raw: Any, c: _Checker, topic_ids: set[str]) -> tuple[ChannelConfig, ...]:
    out: list[ChannelConfig] = []
    seen: set[int] = set()
    for p, item in c.tables(raw, "channels"):
        c.unknown(item, p, {"chat_id", "thread_id", "lang", "topics", "places", "follow",
                            "exclude"})
        chat_id = item.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id >= 0:
            c.fail(p + "chat_id", "must be the channel's or group's negative numeric id "
                   "(-100...)")
            continue
        thread_id = item.get("thread_id")
        if thread_id is not None and (not isinstance(thread_id, int) or thread_id <= 0):
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
    c = _Checker()
    return _load_topics(data.get("topics"), c)


def parse_settings(data: dict[str, Any], *, origin: str, base: Path,
                   env: dict[str, str] | None = None, db_base: Path | None = None) -> Settings:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    c = _Checker()
    c.unknown(data, "", {"database", "telegram", "fetch", "scheduler", "sources", "topics",
                         "understanding", "channels", "metrics"})

    db = c.table(data, "database")
    c.unknown(db, "database.", {"path"})
    db_path = Path(c.string(db, "path", "pressbot.db", prefix="database.") or "pressbot.db")
    if db_base is not None and not db_path.expanduser().is_absolute():
        db_path = db_base / db_path
    if env.get(DB_ENV):
        db_path = Path(env[DB_ENV])
    db_path = db_path.expanduser()

    tg = c.table(data, "telegram")
    c.unknown(tg, "telegram.", {"token", "api_server", "admins", "rate",
                                "commands_per_minute", "update_sources", "update_sources_quiet"})
    token = c.string(tg, "token", None, prefix="telegram.") or None
    if env.get(TOKEN_ENV):
        token = env[TOKEN_ENV].strip()
    if token is not None and not re.fullmatch(r"\d{3,15}:[\w-]{20,}", token):
        c.fail("telegram.token", "does not look like a Bot API token (digits:secret)")
        token = None
    api_server = c.string(tg, "api_server", None, prefix="telegram.") or None
    if api_server is not None:
        why = check_http_url(api_server)
        if why:
            c.fail("telegram.api_server", why)
    admins_raw = tg.get("admins", [])
    admins: tuple[int, ...] = ()
    if not isinstance(admins_raw, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in admins_raw):
        c.fail("telegram.admins", "must be a list of integer chat ids")
    else:
        admins = tuple(admins_raw)
    rate = c.number(tg, "rate", 30.0, prefix="telegram.", minimum=1)
    per_minute = c.number(tg, "commands_per_minute", 20, prefix="telegram.", minimum=1,
                          integer=True)
    update_sources = c.boolean(tg, "update_sources", True, prefix="telegram.")
    update_quiet = c.duration(tg, "update_sources_quiet", TelegramConfig.update_sources_quiet,
                              prefix="telegram.")

    f = c.table(data, "fetch")
    p = "fetch."
    c.unknown(f, p, {"timeout", "connect_timeout", "max_body_bytes", "max_redirects", "per_host",
                     "concurrency", "user_agent", "fulltext_min_chars",
                     "allow_private_addresses"})
    d = FetchConfig()
    fetch = FetchConfig(
        timeout=c.number(f, "timeout", d.timeout, prefix=p, minimum=1),
        connect_timeout=c.number(f, "connect_timeout", d.connect_timeout, prefix=p, minimum=1),
        max_body_bytes=c.number(f, "max_body_bytes", d.max_body_bytes, prefix=p,
                                minimum=1024, integer=True),
        max_redirects=c.number(f, "max_redirects", d.max_redirects, prefix=p, integer=True),
        per_host=c.number(f, "per_host", d.per_host, prefix=p, minimum=1, integer=True),
        concurrency=c.number(f, "concurrency", d.concurrency, prefix=p, minimum=1, integer=True),
        user_agent=c.string(f, "user_agent", d.user_agent, prefix=p) or d.user_agent,
        fulltext_min_chars=c.number(f, "fulltext_min_chars", d.fulltext_min_chars, prefix=p,
                                    integer=True),
        allow_private_addresses=c.boolean(f, "allow_private_addresses",
                                          d.allow_private_addresses, prefix=p),
    )
    if fetch.max_redirects > 5:
        c.fail("fetch.max_redirects", f"must be at most 5, got {fetch.max_redirects}")

    s = c.table(data, "scheduler")
    p = "scheduler."
    c.unknown(s, p, {"jitter", "max_backoff", "misfire_grace"})
    sd = SchedulerConfig()
    scheduler = SchedulerConfig(
        jitter=c.number(s, "jitter", sd.jitter, prefix=p, integer=True),
        max_backoff=c.duration(s, "max_backoff", sd.max_backoff, prefix=p),
        misfire_grace=c.duration(s, "misfire_grace", sd.misfire_grace, prefix=p),
    )
    if scheduler.max_backoff > MAX_BACKOFF_CAP:
        c.fail("scheduler.max_backoff", f"must be at most 6h, got {scheduler.max_backoff}s")

    sources = _load_sources(data.get("sources"), c, base)
    topics = _load_topics(data.get("topics"), c) if "topics" in data else default_topics()
    u = c.table(data, "understanding")
    c.unknown(u, "understanding.", {"summary_chars", "ner"})
    summary_chars = c.number(u, "summary_chars", 350, prefix="understanding.", minimum=80,
                             integer=True)
    ner = c.boolean(u, "ner", True, prefix="understanding.")
    m = c.table(data, "metrics")
    c.unknown(m, "metrics.", {"enabled", "host", "port"})
    md = MetricsConfig()
    metrics = MetricsConfig(
        enabled=c.boolean(m, "enabled", md.enabled, prefix="metrics."),
        host=c.string(m, "host", md.host, prefix="metrics.") or md.host,
        port=c.number(m, "port", md.port, prefix="metrics.", minimum=0, integer=True))
    if metrics.port > 65535:
        c.fail("metrics.port", f"must be at most 65535, got {metrics.port}")
    channels = _load_channels(data.get("channels"), c, {t.id for t in topics})
    if c.problems:
        raise ConfigError(origin, c.problems)
    return Settings(database=db_path,
                    telegram=TelegramConfig(token, api_server, admins, rate, per_minute,
                                            update_sources, update_quiet),
                    fetch=fetch, scheduler=scheduler, sources=sources, topics=topics,
                    channels=channels, metrics=metrics, summary_chars=summary_chars, ner=ner,
                    origin=origin)


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
    # Relative paths are relative to the file that names them (the checkout for the defaults);
    # the defaults' database goes to the working directory.
    base = target.resolve().parent
    return parse_settings(data, origin=origin, base=base, env=env,
                          db_base=base if path is not None else None)
