"""The paced sender through aiogram's real client against the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import itertools

from bot.delivery.sender import Sender

from conftest import fetch_one, fetch_rows, queue


async def statuses(store) -> dict[int, str]:
    return {r["id"]: r["status"] for r in await fetch_rows(store, "SELECT id, status FROM outbox")}


async def test_delivers_in_html_once_and_marks_sent(store, fake_bot_api, transport):
    await queue(store, 11, ["<b>Привет</b> &amp; мир"], preview=False)
    await queue(store, -1001, ["в тему форума"], kind="supergroup", thread_id=7)
    sender = Sender(store, transport)
    await sender.drain(timeout=10)
    assert [(s.chat_id, s.text, s.parse_mode, s.no_preview) for s in fake_bot_api.messages_to(11)
            ] == [(11, "<b>Привет</b> &amp; мир", "HTML", True)]
    assert fake_bot_api.messages_to(-1001)[0].thread_id == 7
    rows = await fetch_rows(store, "SELECT status, message_id FROM outbox")
    assert all(r["status"] == "sent" and r["message_id"] for r in rows)
    assert fake_bot_api.too_many == 0


async def test_one_chat_is_paced_at_one_message_a_second(store, fake_bot_api, transport):
    await queue(store, 12, ["раз", "два", "три"])
    await Sender(store, transport).drain(timeout=15)
    sent = fake_bot_api.messages_to(12)
    assert [s.text for s in sent] == ["раз", "два", "три"]
    assert all(b.at - a.at >= 0.95 for a, b in itertools.pairwise(sent))
    assert fake_bot_api.too_many == 0


async def test_a_429_storm_is_obeyed_and_nothing_is_lost_or_doubled(store, fake_bot_api, transport):
    for chat in range(100, 140):
        await queue(store, chat, [f"новость для {chat}"])
    fake_bot_api.forced_429 = {chat: 2 for chat in range(100, 110)}
    sender = Sender(store, transport)
    await sender.drain(timeout=30)
    for chat in range(100, 140):
        assert [s.text for s in fake_bot_api.messages_to(chat)] == [f"новость для {chat}"]
    assert sender.too_many == 20 == fake_bot_api.too_many  # only the forced ones
    assert set((await statuses(store)).values()) == {"sent"}


async def test_blocked_user_and_missing_chat_stop_delivery(store, fake_bot_api, transport):
    await queue(store, 21, ["a", "b"])
    await queue(store, 22, ["c"])
    await queue(store, 23, ["d"])
    fake_bot_api.blocked = {21}
    fake_bot_api.not_found = {22}
    await Sender(store, transport).drain(timeout=10)
    assert (await store.chats.get(21)).status == "blocked"
    assert (await store.chats.get(22)).status == "dead"
    assert [s.text for s in fake_bot_api.messages_to(23)] == ["d"]
    rows = await fetch_rows(store, "SELECT chat_id, status FROM outbox ORDER BY id")
    assert [(r["chat_id"], r["status"]) for r in rows] == [
        (21, "cancelled"), (21, "cancelled"), (22, "cancelled"), (23, "sent")]
    assert len([c for c in fake_bot_api.calls if c[0] == "sendmessage"
                and int(c[1]["chat_id"]) == 21]) == 1  # the second was never tried


async def test_migrated_group_moves_and_gets_its_message(store, fake_bot_api, transport):
    await queue(store, -500, ["в группу"], kind="group")
    fake_bot_api.migrated = {-500: -100500}
    await Sender(store, transport).drain(timeout=10)
    assert await store.chats.get(-500) is None
    moved = await store.chats.get(-100500)
    assert moved is not None and moved.kind == "supergroup"
    assert [s.text for s in fake_bot_api.messages_to(-100500)] == ["в группу"]


async def test_server_errors_are_retried_with_backoff(store, fake_bot_api, transport):
    await queue(store, 31, ["после сбоя"])
    fake_bot_api.fail_next = 2
    await Sender(store, transport).drain(timeout=20)
    assert [s.text for s in fake_bot_api.messages_to(31)] == ["после сбоя"]
    row = await fetch_one(store, "SELECT attempts, status FROM outbox")
    assert row["attempts"] == 2 and row["status"] == "sent"


async def test_restart_in_the_middle_of_a_broadcast_loses_nothing(store, fake_bot_api, transport):
    chats = list(range(1000, 1060))
    for chat in chats:
        await queue(store, chat, [f"рассылка {chat}"])
    stop = asyncio.Event()
    first = Sender(store, transport)
    task = asyncio.create_task(first.run(stop))
    while len(fake_bot_api.sent) < 20:
        await asyncio.sleep(0.05)
    stop.set()
    await task  # stops taking rows, finishes the ones in flight
    done = len(fake_bot_api.sent)
    assert 20 <= done < len(chats)
    await asyncio.sleep(1.0)  # a restart takes at least this (importing aiogram alone, ~3 s)
    await Sender(store, transport).drain(timeout=30)  # a new process picks up the rest
    for chat in chats:
        assert len(fake_bot_api.messages_to(chat)) == 1, chat
    assert fake_bot_api.too_many == 0
