"""The container's entry command, run the way the image runs it: pressbot installed (not
editable) into a fresh virtual environment, started with the Dockerfile's ENTRYPOINT + CMD and
ENV, and checked with its HEALTHCHECK command. (No Docker engine here; hadolint lints the
Dockerfile in CI.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS, wait_for


def dockerfile() -> dict[str, object]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final = text.split("\nFROM ")[-1]  # the last stage is the image
    joined = re.sub(r"\\\n\s*", " ", final)
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", joined, re.M).group(1))
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", joined, re.M).group(1))
    health = json.loads(re.search(r"HEALTHCHECK .*? CMD (\[.*\])", joined).group(1))
    user = re.search(r"^USER (\S+)$", joined, re.M).group(1)
    return {"env": env, "entry": entry, "cmd": cmd, "health": health, "user": user}


def test_dockerfile_runs_unprivileged_with_data_volume():
    d = dockerfile()
    assert d["user"].split(":")[0] != "0" and d["user"] != "root"
    assert d["env"]["PRESSBOT_DB"].startswith("/data/")
    assert d["entry"] == ["pressbot"] and d["cmd"] == ["run"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    for path in (".git", ".venv", "*.db"):
        assert path in ignored


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new virtual environment with pressbot installed from the checkout as `pip install .`
    does in the image (not editable: only what the package ships is there)."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies: this environment's site-packages, after the new one's (its .pth files,
    # such as an editable pressbot's finder, are not processed from there).
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "parent-deps.pth").write_text(sysconfig.get_path("purelib") + "\n",
                                                 encoding="utf-8")
    build = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "config.example.toml"):
        shutil.copy(ROOT / name, build / name)
    shutil.copytree(ROOT / "bot", build / "bot", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    str(build)], check=True, timeout=600)
    return venv


async def test_image_entry_command_starts_and_health_check_passes(fresh_venv, tmp_path,
                                                                  feed_server):
    d = dockerfile()
    app = tmp_path / "app"
    data = tmp_path / "data"
    app.mkdir()
    data.mkdir()
    shutil.copytree(SEEDS, app / "seeds")
    # The image's config, with its internet feeds swapped for one on loopback.
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    head, _, rest = example.partition("[[sources]]")
    topics = rest[rest.index("[[topics]]"):]
    feed_server.add("/rss", "<rss version='2.0'><channel><title>t</title></channel></rss>")
    head = head.replace("jitter = 30", "jitter = 0")
    config = (f'{head}[[sources]]\nname = "seeds"\nkind = "files"\npath = "seeds"\n\n'
              f'[[sources]]\nname = "loopback"\nkind = "feed"\nurl = "{feed_server.url("/rss")}"'
              f'\n\n{topics}')
    (app / "config.toml").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRESSBOT", "PYTHONPATH"))}
    env.update({k: v.replace("/app", str(app)).replace("/data", str(data))
                for k, v in d["env"].items() if k.startswith("PRESSBOT")})
    env["PATH"] = f"{fresh_venv / 'bin'}:{env.get('PATH', '')}"
    command = [str(fresh_venv / "bin" / d["entry"][0]), *d["entry"][1:], *d["cmd"]]
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=app, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out = b""
    while b"Ctrl-C stops" not in out:
        chunk = await asyncio.wait_for(proc.stdout.read(4096), 120)
        assert chunk, (out + await proc.stderr.read()).decode()
        out += chunk
    await wait_for(lambda: len(feed_server.hits("/rss")) >= 1, timeout=60)
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert (data / "pressbot.db").exists()
    health = subprocess.run([str(fresh_venv / "bin" / d["health"][0]), *d["health"][1:]],
                            cwd=app, env=env, capture_output=True, text=True, timeout=120)
    assert health.returncode == 0, health.stderr
    assert "seeds" in health.stdout and "loopback" in health.stdout
