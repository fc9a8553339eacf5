"""A story sent at once and then carried by more outlets gets its message edited to list them:
through the real pipeline, outbox and sender, aiogram's client and the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

from test_delivery import parse

from bot.config import default_topics
from bot.delivery.render import story_item
from bot.delivery.sender import Sender
from bot.delivery.updates import QUIET, source_update_tick
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.storage import outbox
from bot.storage.chats import update_chat, upsert_chat
from bot.storage.db import utcnow
from bot.understand.analyzer import Understanding

from conftest import SEEDS

SEED = SEEDS / "000_a76abe04a6259da9.txt"
UNDERSTANDING = Understanding(default_topics(), ner=False)


def reprint(url: str) -> Entry:
    """The release as an outlet reprints it: cut, with its own lead-in line."""
    paras = [p for p in read_document(SEED)[0].text.split("\n\n") if p]
    lead_in = f"Публикуем сообщение пресс-службы (материал {url.split('/')[2]})."
    return Entry(title="Мазур и Узбекистан", text="\n\n".join([lead_in, *paras[:6]]),
                 url=url, origin="feed")


async def later(db, minutes: float) -> int:
    return await source_update_tick(db, utcnow() + timedelta(minutes=minutes))


async def test_sent_story_is_edited_once_per_burst_to_list_new_outlets(db, tg_bot, fake_bot_api):
    await upsert_chat(db, 1)
    await upsert_chat(db, 2)
    await update_chat(db, 2, lang="en")
    await upsert_chat(db, 3)
    await update_chat(db, 3, mode="digest")
    (story,), _ = await process(db, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    sender = Sender(db, tg_bot)
    await sender.drain(timeout=20)
    first = {s.chat_id: s for s in fake_bot_api.sent}
    assert set(first) == {1, 2} and "Источник: seeds" in first[1].text

    results, _ = await process(db, [reprint("https://reprint.example/1"),
                                    reprint("https://www.other.example/2")],
                               understanding=UNDERSTANDING)
    assert [r.status for r in results] == ["reprint", "reprint"]
    assert await later(db, 1) == 0  # the burst may go on: wait until it is quiet
    assert await later(db, QUIET.total_seconds() / 60 + 1) == 2
    await sender.drain(timeout=20)
    edits = {int(e["chat_id"]): e for e in fake_bot_api.edits}
    assert set(edits) == {1, 2}
    for chat, label in ((1, "Источники (3): seeds, reprint.example, other.example"),
                        (2, "Sources (3): seeds, reprint.example, other.example")):
        edit = edits[chat]
        assert int(edit["message_id"]) == first[chat].message_id
        assert label in parse(edit["text"])
        # Nothing but the sources line changed.
        assert edit["text"].rsplit("\n", 1)[0] == first[chat].text.rsplit("\n", 1)[0]
    assert fake_bot_api.sent == list(first.values())  # no new message: edits only

    # Nothing new: no edit. A reprint by an outlet already listed: no edit either.
    assert await later(db, 30) == 0
    await process(db, [reprint("https://reprint.example/3")], understanding=UNDERSTANDING)
    assert await later(db, 30) == 0
    assert await db.fetchall("SELECT story_id FROM story_updates") == []
    # A fourth outlet later: edited again, from the last text.
    await process(db, [reprint("https://fourth.example/4")], understanding=UNDERSTANDING)
    assert await later(db, 30) == 2
    await sender.drain(timeout=20)
    assert len(fake_bot_api.edits) == 4
    last = [e for e in fake_bot_api.edits if int(e["chat_id"]) == 1][-1]
    assert "Источники (4): seeds, reprint.example, other.example, fourth.example" in parse(
        last["text"])
    assert story.status == "new" and fake_bot_api.too_many == 0


async def test_a_message_not_yet_sent_is_edited_after_it_is_sent(db, tg_bot, fake_bot_api):
    await upsert_chat(db, 5)
    await process(db, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    await process(db, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(db, 11) == 0  # still pending: its row is never rewritten
    assert len(await db.fetchall("SELECT story_id FROM story_updates")) == 1
    sender = Sender(db, tg_bot)
    await sender.drain(timeout=20)
    assert await later(db, 12) == 1
    await sender.drain(timeout=20)
    assert "Источники (2): seeds, reprint.example" in parse(fake_bot_api.edits[0]["text"])


async def test_a_newer_edit_replaces_a_pending_one(db, tg_bot, fake_bot_api):
    await upsert_chat(db, 6)
    await process(db, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    sender = Sender(db, tg_bot)
    await sender.drain(timeout=20)
    await process(db, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(db, 11) == 1
    await process(db, [reprint("https://other.example/2")], understanding=UNDERSTANDING)
    assert await later(db, 22) == 1
    rows = await db.fetchall("SELECT status, last_error FROM outbox WHERE kind = 'edit'"
                             " ORDER BY id")
    assert [r["status"] for r in rows] == ["dropped", "pending"]
    await sender.drain(timeout=20)
    assert len(fake_bot_api.edits) == 1
    assert "Источники (3)" in parse(fake_bot_api.edits[0]["text"])


async def test_old_messages_and_digest_chats_are_left_alone(db, tg_bot, fake_bot_api):
    await upsert_chat(db, 7)
    await process(db, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    await Sender(db, tg_bot).drain(timeout=20)
    async with db.write() as conn:  # sent three days ago
        await conn.execute("UPDATE outbox SET sent_at = '2000-01-01T00:00:00Z'")
    await process(db, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(db, 11) == 0
    assert await db.fetchall("SELECT story_id FROM story_updates") == []
    assert fake_bot_api.edits == []


async def test_edits_wait_for_everything_else(db):
    for chat in (21, 22, 23):
        await upsert_chat(db, chat)
    async with db.write() as conn:
        edit_21 = await outbox.enqueue(conn, 21, "правка", kind="edit", edit_message_id=1)
        story_21 = await outbox.enqueue(conn, 21, "новость", kind="notice")
        edit_22 = await outbox.enqueue(conn, 22, "правка", kind="edit", edit_message_id=2)
        notice_23 = await outbox.enqueue(conn, 23, "уведомление", kind="notice")
    due = await outbox.due(db, utcnow(), set())
    # A chat's own new message before its edit; every other row before any edit.
    assert [r.id for r in due] == [story_21, notice_23, edit_22]
    await outbox.mark_sent(db, story_21, 5)
    due = await outbox.due(db, utcnow(), set())
    assert [r.id for r in due] == [notice_23, edit_21, edit_22]


def test_edit_text_is_the_story_item_with_every_outlet():
    from bot.delivery.render import StoryView

    view = StoryView(1, "Заголовок", "https://a.example/1", "Сводка.", ("40 компаний",),
                     ("a.example", "b.example"))
    assert story_item(view).endswith("<i>Источники (2): a.example, b.example</i>")
