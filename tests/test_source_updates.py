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
from bot.storage.db import utcnow
from bot.storage.outbox import enqueue
from bot.understand.analyzer import Understanding

from conftest import SEEDS, fetch_rows

SEED = SEEDS / "000_a76abe04a6259da9.txt"
UNDERSTANDING = Understanding(default_topics(), ner=False)


def reprint(url: str) -> Entry:
    """The release as an outlet reprints it: cut, with its own lead-in line."""
    paras = [p for p in read_document(SEED)[0].text.split("\n\n") if p]
    lead_in = f"Публикуем сообщение пресс-службы (материал {url.split('/')[2]})."
    return Entry(title="Мазур и Узбекистан", text="\n\n".join([lead_in, *paras[:6]]),
                 url=url, origin="feed")


async def later(store, minutes: float) -> int:
    return await source_update_tick(store, utcnow() + timedelta(minutes=minutes))


async def test_sent_story_is_edited_once_per_burst_to_list_new_outlets(store, fake_bot_api,
                                                                       transport):
    await store.chats.upsert(1)
    await store.chats.upsert(2)
    await store.chats.update(2, lang="en")
    await store.chats.upsert(3)
    await store.chats.update(3, mode="digest")
    (story,), _ = await process(store, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    sender = Sender(store, transport)
    await sender.drain(timeout=20)
    first = {s.chat_id: s for s in fake_bot_api.sent}
    assert set(first) == {1, 2} and "Источник: seeds" in first[1].text

    results, _ = await process(store, [reprint("https://reprint.example/1"),
                                    reprint("https://www.other.example/2")],
                               understanding=UNDERSTANDING)
    assert [r.status for r in results] == ["reprint", "reprint"]
    assert await later(store, 1) == 0  # the burst may go on: wait until it is quiet
    assert await later(store, QUIET.total_seconds() / 60 + 1) == 2
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
    assert await later(store, 30) == 0
    await process(store, [reprint("https://reprint.example/3")], understanding=UNDERSTANDING)
    assert await later(store, 30) == 0
    assert await fetch_rows(store, "SELECT story_id FROM story_updates") == []
    # A fourth outlet later: edited again, from the last text.
    await process(store, [reprint("https://fourth.example/4")], understanding=UNDERSTANDING)
    assert await later(store, 30) == 2
    await sender.drain(timeout=20)
    assert len(fake_bot_api.edits) == 4
    last = [e for e in fake_bot_api.edits if int(e["chat_id"]) == 1][-1]
    assert "Источники (4): seeds, reprint.example, other.example, fourth.example" in parse(
        last["text"])
    assert story.status == "new_story" and fake_bot_api.too_many == 0


async def test_a_message_not_yet_sent_is_edited_after_it_is_sent(store, fake_bot_api, transport):
    await store.chats.upsert(5)
    await process(store, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    await process(store, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(store, 11) == 0  # still pending: its row is never rewritten
    assert len(await fetch_rows(store, "SELECT story_id FROM story_updates")) == 1
    sender = Sender(store, transport)
    await sender.drain(timeout=20)
    assert await later(store, 12) == 1
    await sender.drain(timeout=20)
    assert "Источники (2): seeds, reprint.example" in parse(fake_bot_api.edits[0]["text"])


async def test_a_newer_edit_replaces_a_pending_one(store, fake_bot_api, transport):
    await store.chats.upsert(6)
    await process(store, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    sender = Sender(store, transport)
    await sender.drain(timeout=20)
    await process(store, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(store, 11) == 1
    await process(store, [reprint("https://other.example/2")], understanding=UNDERSTANDING)
    assert await later(store, 22) == 1
    rows = await fetch_rows(store, "SELECT status, last_error FROM outbox WHERE kind = 'edit'"
                             " ORDER BY id")
    assert [r["status"] for r in rows] == ["cancelled", "pending"]
    await sender.drain(timeout=20)
    assert len(fake_bot_api.edits) == 1
    assert "Источники (3)" in parse(fake_bot_api.edits[0]["text"])


async def test_old_messages_and_digest_chats_are_left_alone(store, fake_bot_api, transport):
    await store.chats.upsert(7)
    await process(store, [read_document(SEED)[0]], understanding=UNDERSTANDING)
    await Sender(store, transport).drain(timeout=20)
    async with store.db.transaction() as tx:  # sent three days ago
        await tx.execute("UPDATE outbox SET sent_at = '2000-01-01T00:00:00Z'")
    await process(store, [reprint("https://reprint.example/1")], understanding=UNDERSTANDING)
    assert await later(store, 11) == 0
    assert await fetch_rows(store, "SELECT story_id FROM story_updates") == []
    assert fake_bot_api.edits == []


async def test_edits_wait_for_everything_else(store):
    for chat in (21, 22, 23):
        await store.chats.upsert(chat)
    async with store.db.transaction() as tx:
        edit_21 = await enqueue(tx, 21, "правка", kind="edit", edit_message_id=1)
        story_21 = await enqueue(tx, 21, "новость", kind="notice")
        edit_22 = await enqueue(tx, 22, "правка", kind="edit", edit_message_id=2)
        notice_23 = await enqueue(tx, 23, "уведомление", kind="notice")
    due = await store.outbox.due(utcnow(), set())
    # A chat's own new message before its edit; every other row before any edit.
    assert [r.id for r in due] == [story_21, notice_23, edit_22]
    await store.outbox.mark_sent(story_21, 5)
    due = await store.outbox.due(utcnow(), set())
    assert [r.id for r in due] == [notice_23, edit_21, edit_22]


def test_edit_text_is_the_story_item_with_every_outlet():
    from bot.delivery.render import StoryView

    view = StoryView(1, "Заголовок", "https://a.example/1", "Сводка.", ("40 компаний",),
                     ("a.example", "b.example"))
    assert story_item(view).endswith("<i>Источники (2): a.example, b.example</i>")
