"""Who gets a new story: matched against every active instant-mode chat, queued in the outbox
within the transaction that created the story, so the decision and the message are one."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.delivery.match import StoryFacts, matches
from bot.delivery.render import StoryView, story_item
from bot.storage.chats import chats_in_mode
from bot.storage.outbox import enqueue


@dataclass(frozen=True)
class NewStory:
    view: StoryView
    facts: StoryFacts


async def enqueue_story(conn: aiosqlite.Connection, story: NewStory) -> int:
    """Queue the story for every matching chat; returns how many were queued."""
    rendered: dict[str, str] = {}
    queued = 0
    for chat, filters in await chats_in_mode(conn, "instant"):
        if not matches(filters, story.facts):
            continue
        text = rendered.get(chat.lang)
        if text is None:
            text = rendered[chat.lang] = story_item(story.view, chat.lang)
        if await enqueue(conn, chat.chat_id, text, story_id=story.view.story_id,
                         thread_id=chat.thread_id):
            queued += 1
    return queued
