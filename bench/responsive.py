"""Does the bot keep answering while a hostile feed is processed? `pressbot run` as a Telegram
bot (the fake Bot API of tests/fakebot.py on loopback, NER on as by default) polls one of:

- idle: nothing to poll (the yardstick: how fast /help is answered with no load),
- 60k: a 9.8 MB feed of 60,000 entries,
- 3mb: a feed whose one entry holds 3 MB of text,

while a user sends /help every 0.1 s. Prints the reply latency p50/p99 from the moment the
update is queued to the moment the reply reaches the fake, how long the poll took, and the
process's peak memory. Targets: p99 <= 1 s, peak <= 400 MB with NER.

    python bench/responsive.py [--cases idle,60k,3mb] [--ner-off-too]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aiohttp import web  # noqa: E402
from fakebot import FakeBotAPI  # noqa: E402

from bench._data import print_table, serve_loopback  # noqa: E402

TOKEN = "123456789:AAF-bench-token-for-the-fake-api-0123456"
PARAGRAPH = ("Губернатор Томской области Владимир Мазур предложил представителям Узбекистана "
             "совместно развивать химическую промышленность и производство удобрений; "
             "товарооборот между регионами за полгода вырос на 60 процентов. ")


def feed_60k() -> bytes:
    items = "".join(
        f"<item><title>Новость номер {i} о Томской области</title>"
        f"<link>https://big.example/n/{i}</link><guid>big-{i}</guid>"
        f"<description>Короткая заметка {i}: в Томске прошло событие.</description></item>"
        for i in range(60_000))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Большая лента</title><link>https://big.example/</link>"
            f"<description>d</description>{items}</channel></rss>").encode()


def feed_3mb() -> bytes:
    text = "\n\n".join(PARAGRAPH * 3 for _ in range(3_000_000 // (len(PARAGRAPH) * 3)))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Огромная запись</title><link>https://huge.example/</link>"
            f"<description>d</description><item><title>Стенограмма заседания</title>"
            f"<link>https://huge.example/n/1</link><guid>huge-1</guid>"
            f"<description><![CDATA[{text}]]></description></item></channel></rss>").encode()


def peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run_case(case: str, ner: bool) -> tuple:
    fake = FakeBotAPI(enforce=False)
    await fake.start()
    bodies = {"60k": feed_60k, "3mb": feed_3mb}
    app = web.Application()
    body = bodies[case]() if case in bodies else b""
    app.router.add_get("/feed", lambda request: web.Response(
        body=body, content_type="application/rss+xml"))
    runner, port = await serve_loopback(app)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "r.db"
        source = (f'[[sources]]\nname = "{case}"\nurl = "http://127.0.0.1:{port}/feed"\n'
                  f"interval = 3600\n" if case in bodies else "")
        config = Path(tmp) / "c.toml"
        config.write_text(
            f'[database]\npath = "{db}"\n[telegram]\napi_server = "{fake.base}"\n'
            f'[scheduler]\njitter = 0\n[web]\nenabled = false\n'
            f'[fetch]\nfulltext_min_chars = 0\nallow_private_addresses = true\n'
            f'max_body_bytes = 20000000\n[understanding]\nner = {"true" if ner else "false"}\n'
            f"{source}", encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "run",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PRESSBOT_TOKEN": TOKEN})
        await asyncio.wait_for(proc.stdout.readline(), 120)  # the start line
        started = time.monotonic()
        pushed: dict[int, float] = {}
        chat = 1000
        polled_at = None
        while time.monotonic() - started < 300:
            chat += 1
            pushed[chat] = time.monotonic()
            fake.push_message(chat, "/help")
            await asyncio.sleep(0.1)
            if polled_at is None and (case not in bodies or _polled(db)):
                polled_at = time.monotonic() - started
            if polled_at is not None and time.monotonic() - started > polled_at + 2:
                break
        await asyncio.sleep(2)
        latencies = []
        for c, at in pushed.items():
            replies = fake.messages_to(c)
            latencies.append(replies[0].at - at if replies else float("inf"))
        peak = peak_mib(proc.pid)
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)
    await runner.cleanup()
    await fake.stop()
    latencies.sort()
    answered = sum(x != float("inf") for x in latencies)

    def q(p: float) -> str:
        value = latencies[min(len(latencies) - 1, int(p * len(latencies)))]
        return "never" if value == float("inf") else f"{value:.3f}"

    return (case, "on" if ner else "off", f"{answered}/{len(latencies)}", q(0.5), q(0.99),
            f"{statistics.mean(x for x in latencies if x != float('inf')):.3f}"
            if answered else "-", f"{polled_at:.1f}" if polled_at else "-", f"{peak:.0f}")


def _polled(db: Path) -> bool:
    try:
        conn = sqlite3.connect(db)
        try:
            return bool(conn.execute("SELECT COUNT(*) FROM sources WHERE last_checked_at IS"
                                     " NOT NULL").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return False


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="idle,60k,3mb")
    parser.add_argument("--ner-off-too", action="store_true")
    args = parser.parse_args()
    rows = []
    for ner in (True, False) if args.ner_off_too else (True,):
        for case in args.cases.split(","):
            rows.append(await run_case(case, ner))
    print_table(rows, ("feed", "NER", "answered", "reply p50 s", "reply p99 s", "mean s",
                       "poll done after s", "peak MiB"))
    print("targets: p99 <= 1 s while a hostile feed is processed; peak <= 400 MiB with NER"
          " (the idle row is the yardstick)")


if __name__ == "__main__":
    asyncio.run(main())
