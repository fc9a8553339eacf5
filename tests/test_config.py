from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from bot.config import (
    DEFAULTS_PATH,
    TABLES,
    ConfigError,
    load_settings,
    parse_duration,
)

from conftest import ROOT

EXAMPLE = ROOT / "config.example.toml"
TOKEN = "123456789:AAF-abcdefghijklmnopqrstuvwxyz012345"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_is_the_embedded_default_and_loads():
    assert DEFAULTS_PATH.read_bytes() == EXAMPLE.read_bytes()
    settings = load_settings(EXAMPLE, env={})
    names = [s.name for s in settings.sources]
    assert "seeds" in names
    seeds = next(s for s in settings.sources if s.name == "seeds")
    assert seeds.kind == "files" and seeds.path == ROOT / "seeds"
    feeds = [s for s in settings.sources if s.kind == "feed"]
    assert len(feeds) >= 8
    assert all(s.url.startswith(("http://", "https://")) for s in feeds)
    assert settings.telegram.token is None


def test_every_config_key_is_documented_in_the_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    defaults = load_settings(EXAMPLE, env={})
    # The schema is declared once (bot/config.py TABLES): the example lists every key with
    # its default, and no key the schema does not know.
    for table, cls in TABLES.items():
        assert set(data[table]) == {f.name for f in dataclasses.fields(cls)}, table
        for f in dataclasses.fields(cls):
            if table == "database":
                continue
            assert getattr(getattr(defaults, table), f.name) == getattr(cls(), f.name), \
                f"{table}.{f.name}: the example's value is not the default"
            assert f.metadata["doc"], f"{table}.{f.name} has no doc"
    for key in ("name", "kind", "path", "interval", "enabled"):
        assert key in data["sources"][0]
    assert "url" in data["sources"][1]
    # Each key of a plain table carries a comment on the line above it; the keys of the
    # [[sources]] and [[topics]] arrays are documented once, in the comment before the first.
    table = ""
    for i, line in enumerate(text.splitlines()):
        if line.startswith("["):
            table = line.strip("[] ")
            continue
        if table in ("sources", "topics") or not line or line[0] in "# ":
            continue
        assert text.splitlines()[i - 1].startswith("#"), f"undocumented key: {line}"
    for key in ("id", "name_ru", "name_en", "terms", "exclude"):
        assert key in text.split("[[topics]]")[0].strip().rsplit("\n\n", 1)[-1], key
    assert "exclude" in data["topics"][7]


def test_embedded_defaults_without_a_file(monkeypatch):
    monkeypatch.delenv("PRESSBOT_CONFIG", raising=False)
    settings = load_settings(None, env={})
    assert settings.origin == "<embedded defaults>"
    assert settings.database == Path("pressbot.db")


def test_all_problems_are_reported_at_once_naming_keys(tmp_path):
    path = write(tmp_path, """
[fetch]
timeout = "soon"
max_redirects = 9
colour = "blue"

[scheduler]
max_backoff = "12h"

[[sources]]
name = "ftp feed"
url = "ftp://example.ru/feed.xml"

[[sources]]
name = "local file"
url = "file:///etc/passwd"

[[sources]]
kind = "files"

[[sources]]
name = "ok"
url = "https://example.ru/rss"
interval = "10s"
""")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    problems = info.value.problems
    joined = "\n".join(problems)
    assert "fetch.timeout: must be a number" in joined
    assert "fetch.max_redirects: must be at most 5" in joined
    assert "fetch.colour: unknown key" in joined
    assert "scheduler.max_backoff: must be at most 6h" in joined
    assert "sources[0].url: only http and https URLs are accepted, got ftp" in joined
    assert "sources[1].url: only http and https URLs are accepted, got file" in joined
    assert "sources[2].name: is required" in joined
    assert "sources[2].path: is required" in joined
    assert "sources[3].interval: must be at least 60 seconds" in joined
    assert len(problems) == 9


def test_toml_syntax_error_is_one_clear_problem(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[fetch\ntimeout = 3"), env={})
    assert info.value.problems[0].startswith("TOML syntax:")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", env={})
    assert "cannot read file" in info.value.problems[0]


def test_token_from_environment_and_never_in_repr(tmp_path):
    path = write(tmp_path, '[telegram]\ntoken = ""\napi_server = "http://127.0.0.1:8081"\n')
    settings = load_settings(path, env={"PRESSBOT_TOKEN": TOKEN})
    assert settings.telegram.token == TOKEN
    assert settings.telegram.api_server == "http://127.0.0.1:8081"
    assert TOKEN not in repr(settings)
    assert TOKEN.split(":")[1] not in str(settings)


def test_bad_token_is_rejected_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, '[telegram]\ntoken = "secret-but-wrong"\n'), env={})
    assert "telegram.token" in str(info.value)
    assert "secret-but-wrong" not in str(info.value)


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    path = write(tmp_path, '[database]\npath = "data/p.db"\n[[sources]]\nname = "docs"\n'
                           'kind = "files"\npath = "in"\n')
    settings = load_settings(path, env={})
    assert settings.database == tmp_path / "data" / "p.db"
    assert settings.sources[0].path == tmp_path / "in"
    assert load_settings(path, env={"PRESSBOT_DB": "/tmp/x.db"}).database == Path("/tmp/x.db")


@pytest.mark.parametrize("value,seconds", [(900, 900), ("15m", 900), ("1h", 3600), ("90s", 90),
                                           ("1.5h", 5400), ("0", None), (True, None),
                                           ("soon", None), (-5, None)])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


def test_channels_are_validated_with_their_keys(tmp_path):
    path = write(tmp_path, """
[[channels]]
chat_id = -1001
thread_id = 7
topics = ["trade"]
follow = ["Химград"]

[[channels]]
chat_id = 12
lang = "de"
topics = ["nosuch"]

channels_typo = 1
""")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    problems = "\n".join(err.value.problems)
    assert "channels[1].chat_id" in problems
    data = path.read_text(encoding="utf-8").split("[[channels]]\nchat_id = 12")[0]
    path.write_text(data, encoding="utf-8")
    (channel,) = load_settings(path, env={}).channels
    assert (channel.chat_id, channel.thread_id, channel.topics, channel.follow) == (
        -1001, 7, ("trade",), ("Химград",))


@pytest.mark.parametrize(("line", "problem"), [
    ("[fetch]\ntimeout = inf", "fetch.timeout: must be a finite number"),
    ("[fetch]\ntimeout = nan", "fetch.timeout: must be a finite number"),
    ("[fetch]\ntimeout = 1e300", "fetch.timeout: must be at most 600"),
    ("[scheduler]\njitter = 1000000000000000", "scheduler.jitter: must be at most 3600"),
    ("[telegram]\nrate = -1", "telegram.rate: must be at least 1"),
    ("[telegram]\nupdate_sources_quiet = 1e300", "telegram.update_sources_quiet: must be a"
     " positive duration"),
    ("[metrics]\nport = 70000", "metrics.port: must be at most 65535"),
    ("[[sources]]\nname = \"a\"\nurl = \"https://a.ru/rss\"\ninterval = \"1000d\"",
     "sources[0].interval: must be at most 7d"),
])
def test_numbers_must_be_finite_and_in_range(tmp_path, line, problem):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, line + "\n"), env={})
    assert info.value.problems == [info.value.problems[0]]
    assert info.value.problems[0].startswith(problem), info.value.problems
