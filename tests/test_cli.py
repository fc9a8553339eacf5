"""The pressbot command line, run as a real subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from bot.cli import ANALYZE_FIELDS, build_parser

from conftest import DATA, ROOT, SEEDS

COMMANDS = ("run", "poll", "ingest", "analyze", "sources", "articles", "backup", "restore",
            "reindex", "migrate")


async def pressbot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                   timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def write_config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "p.db"\n[scheduler]\njitter = 0\n{sources}',
                    encoding="utf-8")
    return path


async def test_help_lists_every_command_and_readme_documents_them():
    code, out, _ = await pressbot("--help")
    assert code == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert command in out
        assert f"`pressbot {command}" in readme, command
    parser_commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert parser_commands == set(COMMANDS)


async def test_poll_once_stores_articles_from_a_loopback_feed(tmp_path, feed_server):
    base = feed_server.url("")
    feed_server.add("/rss", (DATA / "rss20_tomsk.xml").read_text().replace("{base}", base))
    feed_server.add("/atom", (DATA / "atom10_tomsk.xml").read_text().replace("{base}", base),
                    content_type="application/atom+xml")
    feed_server.add("/news/clusters", (DATA / "clusters_page.html").read_bytes(),
                    content_type="text/html")
    config = write_config(tmp_path, f"""
[[sources]]
name = "rss"
url = "{base}/rss"
[[sources]]
name = "atom"
url = "{base}/atom"
[[sources]]
name = "broken"
url = "{base}/missing"
""")
    code, out, err = await pressbot("--config", str(config), "poll", "--once")
    assert code == 0, err
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["rss"][1:4] == ["ok", "3", "0"]
    assert lines["atom"][1:4] == ["ok", "2", "0"]
    assert lines["broken"][1] == "failed" and "HTTP 404 Not Found" in out
    assert "3 sources: 5 new articles, 1 failed" in out
    conn = sqlite3.connect(tmp_path / "p.db")
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5
    conn.close()
    code, out, _ = await pressbot("--config", str(config), "sources")
    assert code == 0 and "failing x1" in out and "HTTP 404" in out
    code, out, _ = await pressbot("--config", str(config), "articles", "--limit", "2")
    assert code == 0 and "2 of 5 articles" in out


async def test_ingest_seeds_then_analyze_against_the_archive(tmp_path):
    db = tmp_path / "archive.db"
    code, out, err = await pressbot("--database", str(db), "ingest", str(SEEDS))
    assert code == 0, err
    assert "5 new, 0 already stored; 5 articles" in out
    seed = SEEDS / "004_a6db5da73fcefd32.txt"
    copy = tmp_path / "reprint.txt"
    copy.write_bytes(seed.read_bytes())
    code, out, err = await pressbot("analyze", "--db", str(db), "--json", str(copy),
                                    str(DATA / "feed_tomsk.json"))
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [tuple(r) for r in records] == [ANALYZE_FIELDS] * 3
    first = records[0]
    assert first["source"] == str(copy)
    assert first["duplicate_of"] == str(seed)
    assert first["text"].startswith("Делегация от Томской области")
    assert first["text_chars"] == len(first["text"])
    assert {"Беларусь", "Томская область"} <= set(first["places"])
    assert "Владимир Мазур" in first["people"]
    assert {"trade", "microelectronics", "culture", "science_education"} <= set(first["topics"])
    # "{base}/..." is no http(s) URL: the entry is named by file and guid, its url is null.
    assert records[1]["source"] == f"{DATA / 'feed_tomsk.json'}#uz-council-2025"
    assert records[1]["url"] is None
    # It is an excerpt of seed 000 (same lede, published hours later): a reprint of it.
    assert records[1]["duplicate_of"] == str(SEEDS / "000_a76abe04a6259da9.txt")
    assert records[1]["story"] is not None and records[1]["similarity"] >= 0.8
    assert records[1]["published"].startswith("2025-10-22")
    assert records[2]["duplicate_of"] is None
    # analyze never writes to the archive.
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5
    conn.close()


async def test_analyze_without_db_compares_inputs_in_order(tmp_path):
    seed = SEEDS / "000_a76abe04a6259da9.txt"
    code, out, _ = await pressbot("analyze", "--json", str(seed), str(seed))
    a, b = (json.loads(line) for line in out.splitlines())
    assert code == 0 and a["duplicate_of"] is None and b["duplicate_of"] == str(seed)
    assert a["story"] == b["story"] is not None
    assert "chemistry" in a["topics"] and set(a["topic_evidence"]) == set(a["topics"])
    assert "химическая промышленность" in a["topic_evidence"]["chemistry"]
    assert a["summary"].startswith("Губернатор Томской области Владимир Мазур предложил")
    assert len(a["summary"]) <= 350 and a["summary"].endswith(".")
    assert isinstance(a["key_figures"], list)


async def test_bad_inputs_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<html><body>not a feed</body></html>")
    code, out, err = await pressbot("analyze", str(bad), str(tmp_path / "missing.txt"),
                                    str(SEEDS / "002_269e617f711a39a0.txt"))
    assert code == 1
    errors = err.strip().splitlines()
    assert errors == [f"pressbot: cannot read {bad}: got an HTML page, not a feed",
                      f"pressbot: cannot read {tmp_path / 'missing.txt'}: "
                      "No such file or directory"]
    assert "Четыре промышленных кластера" in out  # the good file still analysed
    code, _, err = await pressbot("analyze", "--db", str(tmp_path / "none.db"), str(bad))
    assert code == 2 and "no such database" in err


async def test_invalid_config_stops_with_every_problem(tmp_path):
    config = write_config(tmp_path, '[[sources]]\nname = "x"\nurl = "file:///etc/passwd"\n'
                                    '[fetch]\ntimeout = -1\n')
    code, _, err = await pressbot("--config", str(config), "sources")
    assert code == 2
    assert "sources[0].url: only http and https URLs are accepted, got file" in err
    assert "fetch.timeout: must be at least 1" in err


async def test_run_polls_on_schedule_and_stops_on_sigterm(tmp_path, feed_server):
    base = feed_server.url("")
    feed_server.add("/rss", (DATA / "rss20_tomsk.xml").read_text().replace("{base}", base))
    config = write_config(tmp_path, f'[[sources]]\nname = "rss"\nurl = "{base}/rss"\n'
                                    'interval = 60\n[[sources]]\nname = "seeds"\n'
                                    f'kind = "files"\npath = "{SEEDS}"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(200):
            if feed_server.hits("/rss"):
                break
            await asyncio.sleep(0.1)
        assert feed_server.hits("/rss"), "run did not poll the source"
        for _ in range(300):  # until the feed's three articles are stored
            conn = sqlite3.connect(tmp_path / "p.db")
            try:
                if conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] >= 8:
                    break
            except sqlite3.OperationalError:
                pass
            finally:
                conn.close()
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "polling 2 sources" in out.decode() and "pressbot stopped." in out.decode()
    conn = sqlite3.connect(tmp_path / "p.db")
    origins = [r[0] for r in conn.execute("SELECT origin FROM articles ORDER BY id")]
    conn.close()
    # The seeds (baseline corpus) are stored first, then the feed.
    assert len(origins) == 8
    assert all(o.startswith(str(SEEDS)) for o in origins[:5])
