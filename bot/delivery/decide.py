"""Who gets a new story: every active instant-mode chat whose filters match it. Pure: the store
calls the ``Notify`` made here inside the transaction that creates the story, so the decision
and the queued messages are one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.delivery.match import StoryFacts, filters_from_values, matches
from bot.delivery.render import StoryView, story_item
from bot.models import Chat, FilterValues
from bot.storage.outbox import Message
from bot.storage.store import Notify


def notify_new_story(view: StoryView, facts: StoryFacts) -> Notify:
    """The messages of a new story for the chats that want it, one text per language."""

    def notify(story_id: int, chats: Sequence[tuple[Chat, FilterValues]]) -> list[Message]:
        story = replace(view, story_id=story_id)
        rendered: dict[str, str] = {}
        out = []
        for chat, values in chats:
            if not matches(filters_from_values(values), facts):
                continue
            text = rendered.get(chat.lang)
            if text is None:
                text = rendered[chat.lang] = story_item(story, chat.lang)
            out.append(Message(chat.chat_id, text, chat.thread_id))
        return out

    return notify
