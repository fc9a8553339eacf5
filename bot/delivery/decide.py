"""Who gets a new story: every active instant-mode chat whose filters match it. Pure: the store
calls the ``Notify`` made here inside the transaction that creates the story, so the decision
and the queued messages are one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.delivery.match import StoryFacts, filters_from_values, matches
from bot.delivery.quiet import in_quiet_hours
from bot.delivery.render import StoryView, story_item
from bot.models import Chat, FilterValues
from bot.storage.outbox import Message
from bot.storage.store import Notify


def notify_new_story(view: StoryView, facts: StoryFacts, now: Callable[[], datetime],
                     page: Callable[[int], str | None] = lambda story_id: None) -> Notify:
    """The messages of a new story for the chats that want it, one text per language and
    zone; silent in a chat's quiet hours. ``page`` links a story to the web archive."""

    def notify(story_id: int, chats: Sequence[tuple[Chat, FilterValues]]) -> list[Message]:
        story = replace(view, story_id=story_id, page=page(story_id))
        rendered: dict[tuple[str, str], str] = {}
        moment = now()
        out = []
        for chat, values in chats:
            if not matches(filters_from_values(values), facts):
                continue
            key = (chat.lang, chat.tz)
            text = rendered.get(key)
            if text is None:
                text = rendered[key] = story_item(story, chat.lang, tz=chat.tz)
            out.append(Message(chat.chat_id, text, chat.thread_id,
                               silent=in_quiet_hours(chat, moment)))
        return out

    return notify
