"""The bot end to end: aiogram's real client and long polling against the fake Bot API."""

from __future__ import annotations

import asyncio
import re

from bot.config import default_topics, load_settings
from bot.telegram.app import build_dispatcher, set_commands
from bot.telegram.texts import COMMANDS

from conftest import ROOT, wait_for


async def running_bot(store, tg_bot):
    settings = load_settings(None, env={})
    dp = build_dispatcher(store, settings)
    task = asyncio.create_task(dp.start_polling(tg_bot, handle_signals=False,
                                                polling_timeout=1))
    return dp, task


async def stop_bot(dp, task):
    await dp.stop_polling()
    await asyncio.wait_for(task, 10)


async def replies(fake, chat_id: int, n: int) -> list[str]:
    await wait_for(lambda: len(fake.messages_to(chat_id)) >= n)
    return [s.text for s in fake.messages_to(chat_id)]


async def test_start_topics_follow_filters(store, tg_bot, fake_bot_api):
    dp, task = await running_bot(store, tg_bot)
    try:
        fake_bot_api.push_message(501, "/start")
        (welcome,) = await replies(fake_bot_api, 501, 1)
        assert "один раз" in welcome and "/topics" in welcome
        assert (await store.chats.get(501)).status == "active"

        fake_bot_api.push_message(501, "/topics")
        assert "Темы" in (await replies(fake_bot_api, 501, 2))[1]
        keyboard = fake_bot_api.messages_to(501)[1].reply_markup["inline_keyboard"]
        buttons = [b for row in keyboard for b in row]
        chemistry = next(b for b in buttons if b["text"] == "Химия")
        fake_bot_api.push_callback(501, fake_bot_api.messages_to(501)[1].message_id,
                                   chemistry["callback_data"])
        await wait_for(lambda: fake_bot_api.callback_answers)
        await wait_for(lambda: any(m == "editmessagereplymarkup"
                                   for m, _ in fake_bot_api.calls))
        assert (await store.chats.filter_values(501))["topic"] == ["chemistry"]
        edited = next(p for m, p in fake_bot_api.calls if m == "editmessagereplymarkup")
        marks = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
        assert "✅ Химия" in marks
        assert "Химия" in fake_bot_api.callback_answers[0]["text"]

        fake_bot_api.push_message(501, "/follow химия")
        assert "«химия»" in (await replies(fake_bot_api, 501, 3))[2]
        fake_bot_api.push_message(501, "/follow <script>")
        assert "до 60 символов" in (await replies(fake_bot_api, 501, 4))[3]
        fake_bot_api.push_message(501, "/follow " + "а" * 10_000)
        assert "до 60 символов" in (await replies(fake_bot_api, 501, 5))[4]
        fake_bot_api.push_message(501, "/filters")
        shown = (await replies(fake_bot_api, 501, 6))[5]
        assert "Темы: Химия" in shown and "Слова: химия" in shown
        fake_bot_api.push_message(501, "/nonsense")
        assert "Не знаю такой команды" in (await replies(fake_bot_api, 501, 7))[6]
        fake_bot_api.push_message(501, "/lang en")
        assert (await replies(fake_bot_api, 501, 8))[7] == "Language: English."
        fake_bot_api.push_message(501, "/stop")
        assert "paused" in (await replies(fake_bot_api, 501, 9))[8]
        assert (await store.chats.get(501)).status == "paused"
        fake_bot_api.push_message(501, "/forget")
        await replies(fake_bot_api, 501, 10)
        assert await store.chats.get(501) is None
    finally:
        await stop_bot(dp, task)


async def test_mode_time_tz_validation(store, tg_bot, fake_bot_api):
    dp, task = await running_bot(store, tg_bot)
    try:
        for n, text in enumerate(("/start", "/mode digest", "/mode sometimes", "/time 7:30",
                                  "/time 25:00", "/tz UTC+7", "/tz Europe/Nowhere",
                                  "/tz Asia/Tomsk", "/time 9", "/tz Asia", "/mode",
                                  "/quiet 22:00-08:00", "/settings"), start=1):
            fake_bot_api.push_message(502, text)  # one at a time, as a person types
            got = await replies(fake_bot_api, 502, n)
        # Every change answers with the settings in words, never a raw value.
        assert "Режим: дайджест раз в день в 09:00 (Asia/Tomsk)." in got[1]
        assert "/mode instant" in got[2] and "Режим: дайджест" in got[2]
        assert "Режим: дайджест раз в день в 07:30" in got[3] and "/time 9" in got[4]
        assert "Часовой пояс: UTC+07:00." in got[5] and "/tz Asia/Tomsk" in got[6]
        assert "в 09:00 (Asia/Tomsk)" in got[8]  # /time 9
        assert "часть света" in got[9] and "Asia/Novosibirsk" in got[9]  # /tz Asia
        assert "Режим: дайджест" in got[10] and "/mode digest" in got[10]
        assert "Тихие часы: 22:00–08:00" in got[11] and "Тихие часы: 22:00–08:00" in got[12]
        assert "digest" not in got[1] and "instant" not in got[1]
        chat = await store.chats.get(502)
        assert (chat.mode, chat.digest_time, chat.tz) == ("digest", "09:00", "Asia/Tomsk")
        assert (chat.quiet_start, chat.quiet_end) == ("22:00", "08:00")
    finally:
        await stop_bot(dp, task)


async def test_commands_are_registered_and_documented(tg_bot, fake_bot_api):
    await set_commands(tg_bot)
    registered = {c["command"] for c in fake_bot_api.commands[0]}
    assert registered == {name for name, _ in COMMANDS["ru"]}
    assert {name for name, _ in COMMANDS["en"]} == registered
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in registered:
        assert f"/{name}" in readme, name
    assert default_topics()


async def test_english_chat_sees_english_names_and_nothing_russian(store, tg_bot, fake_bot_api):
    """After /lang en, every reply (buttons included) is English: topic and place names too."""
    cyrillic = re.compile(r"[А-Яа-яЁё]")
    dp, task = await running_bot(store, tg_bot)
    try:
        steps = ("/start", "/lang en", "/topics", "/places", "/help", "/settings", "/mode",
                 "/filters", "/time 25:00", "/tz Europe/Nowhere", "/follow <b>", "/nonsense",
                 "/digest")
        for n, text in enumerate(steps, start=1):
            fake_bot_api.push_message(503, text)
            await replies(fake_bot_api, 503, n)
        sent = fake_bot_api.messages_to(503)[1:]  # the welcome came before /lang en
        places = [b["text"] for row in sent[2].reply_markup["inline_keyboard"] for b in row]
        assert "Tomsk Oblast" in places and "Uzbekistan" in places
        topics = [b["text"] for row in sent[1].reply_markup["inline_keyboard"] for b in row]
        assert "Chemistry" in topics
        tomsk = next(b for row in sent[2].reply_markup["inline_keyboard"] for b in row
                     if b["text"] == "Tomsk Oblast")
        fake_bot_api.push_callback(503, sent[2].message_id, tomsk["callback_data"])
        await wait_for(lambda: fake_bot_api.callback_answers)
        fake_bot_api.push_message(503, "/filters")
        shown = (await replies(fake_bot_api, 503, len(steps) + 1))[-1]
        assert "Tomsk Oblast" in shown
        sent = fake_bot_api.messages_to(503)[1:]
        for message in sent:
            # examples of words to follow or search stay Russian: the archive is Russian
            text = re.sub(r"/(?:follow|unfollow|exclude|unexclude|search) [^\n]*", "",
                          message.text)
            assert not cyrillic.search(text), message.text
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                assert not any(cyrillic.search(b["text"]) for b in row), row
        assert not any(cyrillic.search(a.get("text", "")) for a in fake_bot_api.callback_answers)
    finally:
        await stop_bot(dp, task)
