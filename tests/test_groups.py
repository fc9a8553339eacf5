"""Groups and forum topics: only a group's administrators change its settings; /start in a
forum topic subscribes that topic; button presses count against the per-chat limit."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from test_bot_e2e import replies

from bot.config import load_settings
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.ingest.files import read_document
from bot.pipeline import process
from bot.telegram.app import build_dispatcher
from bot.telegram.transport import TelegramTransport

from conftest import SEEDS, wait_for

GROUP = -100200
ADMIN, MEMBER = 10, 11


async def running(store, tg_bot, **telegram):
    settings = load_settings(None, env={})
    settings = replace(settings, telegram=replace(settings.telegram, **telegram))
    dp = build_dispatcher(store, settings)
    task = asyncio.create_task(dp.start_polling(tg_bot, handle_signals=False,
                                                polling_timeout=1))
    return dp, task


async def stop(dp, task) -> None:
    await dp.stop_polling()
    await asyncio.wait_for(task, 10)


def topic_button(fake, message) -> str:
    keyboard = message.reply_markup["inline_keyboard"]
    return next(b for row in keyboard for b in row if b["text"] == "Химия")["callback_data"]


async def test_only_group_admins_change_its_settings(store, tg_bot, fake_bot_api):
    fake_bot_api.chat_admins = {GROUP: {ADMIN}}
    dp, task = await running(store, tg_bot)
    try:
        fake_bot_api.push_message(GROUP, "/start", user_id=ADMIN, chat_type="supergroup")
        await replies(fake_bot_api, GROUP, 1)
        fake_bot_api.push_message(GROUP, "/mode digest", user_id=MEMBER, chat_type="supergroup")
        refusal = (await replies(fake_bot_api, GROUP, 2))[1]
        assert "только его администраторы" in refusal
        assert (await store.chats.get(GROUP)).mode == "instant"
        for command in ("/stop", "/forget", "/follow химия", "/lang en", "/tz UTC+3"):
            fake_bot_api.push_message(GROUP, command, user_id=MEMBER, chat_type="supergroup")
        await replies(fake_bot_api, GROUP, 7)
        chat = await store.chats.get(GROUP)
        assert (chat.status, chat.lang, chat.tz) == ("active", "ru", "Asia/Tomsk")
        assert (await store.chats.filter_values(GROUP))["follow"] == []
        # A member may read: /filters and /help answer.
        fake_bot_api.push_message(GROUP, "/filters", user_id=MEMBER, chat_type="supergroup")
        assert "только его администраторы" not in (await replies(fake_bot_api, GROUP, 8))[7]
        # A member's button press is refused, the admin's toggles.
        fake_bot_api.push_message(GROUP, "/topics", user_id=ADMIN, chat_type="supergroup")
        await replies(fake_bot_api, GROUP, 9)
        keyboard = fake_bot_api.messages_to(GROUP)[8]
        data = topic_button(fake_bot_api, keyboard)
        fake_bot_api.push_callback(GROUP, keyboard.message_id, data, user_id=MEMBER,
                                   chat_type="supergroup")
        await wait_for(lambda: fake_bot_api.callback_answers)
        assert "администраторы" in fake_bot_api.callback_answers[0]["text"]
        assert (await store.chats.filter_values(GROUP))["topic"] == []
        fake_bot_api.push_callback(GROUP, keyboard.message_id, data, user_id=ADMIN,
                                   chat_type="supergroup")
        await wait_for(lambda: len(fake_bot_api.callback_answers) == 2)
        assert (await store.chats.filter_values(GROUP))["topic"] == ["chemistry"]
        fake_bot_api.push_message(GROUP, "/mode digest", user_id=ADMIN, chat_type="supergroup")
        await replies(fake_bot_api, GROUP, 10)
        assert (await store.chats.get(GROUP)).mode == "digest"
        # getChatMember was asked once per user, then cached.
        asked = [p for m, p in fake_bot_api.calls if m == "getchatmember"]
        assert sorted({int(p["user_id"]) for p in asked}) == [ADMIN, MEMBER]
        assert len(asked) == 2
    finally:
        await stop(dp, task)


async def test_start_in_a_forum_topic_subscribes_that_topic(store, tg_bot, fake_bot_api):
    fake_bot_api.chat_admins = {GROUP: {ADMIN}}
    dp, task = await running(store, tg_bot)
    try:
        fake_bot_api.push_message(GROUP, "/start", user_id=ADMIN, chat_type="supergroup",
                                  thread_id=77)
        await replies(fake_bot_api, GROUP, 1)
        assert fake_bot_api.messages_to(GROUP)[0].thread_id == 77  # answered in the topic
        assert (await store.chats.get(GROUP)).thread_id == 77
    finally:
        await stop(dp, task)
    await process(store, [read_document(SEEDS / "000_a76abe04a6259da9.txt")[0]])
    await Sender(store, TelegramTransport(tg_bot, Pacer())).drain(timeout=20)
    story = fake_bot_api.messages_to(GROUP)[-1]
    assert story.thread_id == 77 and "Мазур" in story.text


async def test_button_presses_count_against_the_per_chat_limit(store, tg_bot, fake_bot_api):
    dp, task = await running(store, tg_bot, commands_per_minute=5)
    try:
        fake_bot_api.push_message(301, "/topics")
        await replies(fake_bot_api, 301, 1)
        keyboard = fake_bot_api.messages_to(301)[0]
        data = topic_button(fake_bot_api, keyboard)
        for _ in range(30):
            fake_bot_api.push_callback(301, keyboard.message_id, data)
        await wait_for(lambda: len(fake_bot_api.callback_answers) >= 30, timeout=20)

        def edits() -> list:
            return [p for m, p in fake_bot_api.calls if m == "editmessagereplymarkup"]

        await wait_for(lambda: len(edits()) >= 4, timeout=10)  # edits follow the answers
        await asyncio.sleep(0.5)
        assert len(edits()) == 4  # /topics took one of the five
        notices = [a for a in fake_bot_api.callback_answers if "подождите" in a.get("text", "")]
        assert len(notices) == 1
    finally:
        await stop(dp, task)
