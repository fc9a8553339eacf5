"""Telegram and the disk on a bad day: every answer the Bot API can give has its outcome, and
no failure turns into a repeat or a loss. Each test counts how often the fake Bot API accepted
each message."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.storage.store import Store
from bot.telegram.transport import TelegramTransport, make_bot

from conftest import TEST_TOKEN, fetch_one, fetch_rows, queue, wait_for


def sends_to(fake, chat_id: int) -> int:
    """Send attempts that reached the fake for a chat (accepted or not)."""
    return sum(1 for m, p in fake.calls if m == "sendmessage" and int(p["chat_id"]) == chat_id)


async def run_for(sender: Sender, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await task


@pytest.mark.parametrize("failure", ["html502", "notjson", "500", "stall"])
async def test_errors_of_the_moment_are_retried_once_later(store, fake_bot_api, failure):
    """A proxy's HTML 502, a body that is not JSON, a 5xx, an answer that never comes: the
    message is retried with backoff (not at once, not forever) and delivered once."""
    bot = make_bot(TEST_TOKEN, fake_bot_api.base, timeout=1)
    fake_bot_api.stall_seconds = 3
    try:
        await queue(store, 41, ["новость"])
        fake_bot_api.failures = [failure]
        sender = Sender(store, TelegramTransport(bot, Pacer()), backoff=0.5)
        await run_for(sender, 0.6 if failure != "stall" else 1.5)
        assert fake_bot_api.messages_to(41) == []
        row = await fetch_one(store, "SELECT status, attempts, last_error FROM outbox")
        assert (row["status"], row["attempts"]) == ("pending", 1) and row["last_error"]
        assert sends_to(fake_bot_api, 41) == 1  # backoff: no second try at once
        await sender.drain(timeout=15)
        assert [m.text for m in fake_bot_api.messages_to(41)] == ["новость"]
        assert (await fetch_one(store, "SELECT status FROM outbox"))["status"] == "sent"
    finally:
        await bot.session.close()


async def test_an_accepted_message_whose_answer_is_garbled_repeats_at_most_once(
        store, fake_bot_api, transport):
    await queue(store, 42, ["новость"])
    fake_bot_api.failures = ["badok"]
    await Sender(store, transport, backoff=0.2).drain(timeout=10)
    assert len(fake_bot_api.messages_to(42)) == 2  # Telegram took both; we could not know
    assert (await fetch_one(store, "SELECT status FROM outbox"))["status"] == "sent"


@pytest.mark.parametrize("failure", ["401", "404", "409"])
async def test_bot_wide_failures_pause_everything_and_lose_nothing(store, fake_bot_api,
                                                                   transport, failure, caplog):
    """Token revoked (401), wrong token (404), another instance or a webhook (409): every
    send pauses with backoff and one ERROR line; nothing is marked sent or counted as an
    attempt; once Telegram takes the bot again, each message goes exactly once."""
    for chat in (51, 52, 53):
        await queue(store, chat, [f"для {chat}"])
    fake_bot_api.fail_always = failure
    sender = Sender(store, transport, pause=1.0)
    await run_for(sender, 2.5)
    tries = sum(sends_to(fake_bot_api, c) for c in (51, 52, 53))
    assert 1 <= tries <= 6  # not one every 0.2 s: paused 1 s, then 2 s
    assert sender.bot_down and failure in sender.bot_down
    rows = await fetch_rows(store, "SELECT status, attempts FROM outbox")
    assert {(r["status"], r["attempts"]) for r in rows} == {("pending", 0)}
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "refuses" in r.message]
    assert len(errors) == 1 and TEST_TOKEN not in errors[0].getMessage()
    fake_bot_api.fail_always = None
    await sender.drain(timeout=20)
    for chat in (51, 52, 53):
        assert [m.text for m in fake_bot_api.messages_to(chat)] == [f"для {chat}"]
    assert sender.bot_down is None


async def test_rejected_message_fails_with_its_reason_and_others_go_on(store, fake_bot_api,
                                                                      transport):
    await queue(store, 61, ["x" * 5000, "короткое"])  # over Telegram's limit: rejected
    sender = Sender(store, transport)
    await sender.drain(timeout=10)
    rows = await fetch_rows(store, "SELECT status, last_error FROM outbox ORDER BY id")
    assert rows[0]["status"] == "failed" and "too long" in rows[0]["last_error"]
    assert rows[1]["status"] == "sent"
    assert sends_to(fake_bot_api, 61) == 2 and sender.failed == 1
    counts = await store.stats.collect()
    assert counts.failed == 1


async def test_a_message_fails_after_max_attempts(store, fake_bot_api, transport):
    await queue(store, 62, ["обречённое"])
    fake_bot_api.failures = ["500"] * 10
    sender = Sender(store, transport, max_attempts=3, backoff=0.2)
    await sender.drain(timeout=15)
    row = await fetch_one(store, "SELECT status, attempts, last_error FROM outbox")
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "Internal Server Error" in row["last_error"]
    assert sends_to(fake_bot_api, 62) == 3


async def test_a_locked_database_while_recording_never_repeats_a_message(tmp_path,
                                                                        fake_bot_api):
    """Telegram accepted the messages, but another process holds the database's write lock
    when the sender records it: the sender keeps the outcome, stops taking rows, and records
    it once the lock is gone; nothing is sent twice, nothing lost."""
    path = tmp_path / "locked.db"
    store = await Store.open(path, busy_timeout_ms=200)
    bot = make_bot(TEST_TOKEN, fake_bot_api.base)
    try:
        for chat in range(71, 76):
            await queue(store, chat, [f"для {chat}", f"ещё для {chat}"])
        fake_bot_api.delay = 0.5  # answers take a while: the lock comes in between
        sender = Sender(store, TelegramTransport(bot, Pacer()), pause=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await wait_for(lambda: len(fake_bot_api.calls) >= 5)
        other = sqlite3.connect(path, timeout=5)
        other.execute("BEGIN IMMEDIATE")  # another process writes for a long while
        await asyncio.sleep(2.0)
        assert sender.storage_error is not None
        during = len(fake_bot_api.sent)
        assert during == 5  # the first message of each chat, nothing more, nothing twice
        other.rollback()
        other.close()
        fake_bot_api.delay = 0
        await wait_for(lambda: len(fake_bot_api.sent) >= 10, timeout=20)
        await asyncio.sleep(0.3)
        stop.set()
        await task
        for chat in range(71, 76):
            assert [m.text for m in fake_bot_api.messages_to(chat)] == [f"для {chat}",
                                                                       f"ещё для {chat}"]
        assert {r["status"] for r in await fetch_rows(store, "SELECT status FROM outbox")} \
            == {"sent"}
        assert sender.storage_error is None
    finally:
        await bot.session.close()
        await store.close()


async def test_claims_left_by_a_crash_go_again_once_at_start(store, fake_bot_api, transport):
    await queue(store, 81, ["в полёте"])
    async with store.db.transaction() as tx:  # a process died between claim and answer
        await tx.execute("UPDATE outbox SET status = 'sending', lease_until = ?",
                         ("2999-01-01T00:00:00+00:00",))
    sender = Sender(store, transport)
    await run_for(sender, 0.5)
    assert fake_bot_api.messages_to(81) == []  # claimed by someone: left alone
    assert await store.outbox.release_all_claims() == 1  # the next start holds the lock
    await sender.drain(timeout=10)
    assert len(fake_bot_api.messages_to(81)) == 1


async def test_the_pacer_answers_people_before_the_broadcast(fake_bot_api):
    """Urgent requests (replies) take the next slots even while bulk ones wait."""
    pacer = Pacer(rate=20)
    order: list[str] = []

    async def take(name: str, chat: int, urgent: bool) -> None:
        await pacer.acquire(chat, urgent=urgent)
        order.append(name)

    bulk = [asyncio.create_task(take(f"b{i}", 1000 + i, False)) for i in range(20)]
    await asyncio.sleep(0.12)  # a couple of broadcast slots go
    started = time.monotonic()
    urgent = [asyncio.create_task(take(f"u{i}", 2000 + i, True)) for i in range(5)]
    await asyncio.gather(*urgent)
    assert time.monotonic() - started < 0.5  # five slots at 20/s, not behind 18 bulk ones
    await asyncio.gather(*bulk)
    first_urgent = order.index("u0")
    assert order[first_urgent:first_urgent + 5] == [f"u{i}" for i in range(5)]
    await pacer.close()


async def test_the_pacer_keeps_its_rate_after_a_busy_loop_wakes_it_late():
    """Slots count from their planned time, so that a loop that wakes the pacer late (a busy
    bot) does not lose a slot's lateness per message; catching up never bursts over the rate
    in any second."""
    pacer = Pacer(rate=100)
    granted: list[float] = []

    async def take(chat: int) -> None:
        await pacer.acquire(chat, urgent=False)
        granted.append(time.monotonic())

    async def busy() -> None:  # holds the loop 3 ms at a time, as CPU stages do
        while len(granted) < 150:
            time.sleep(0.003)
            await asyncio.sleep(0)

    hog = asyncio.create_task(busy())
    await asyncio.gather(*(take(3000 + i) for i in range(150)))
    await hog
    await pacer.close()
    for i, at in enumerate(granted):
        in_second = sum(1 for other in granted[i:] if other - at < 1.0)
        assert in_second <= 100, (i, in_second)
    assert pacer.granted == 150  # (how close to the rate it stays: bench/delivery.py)
