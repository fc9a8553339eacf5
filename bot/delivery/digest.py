"""Daily digests: when a chat's digest is due at its local time, which stories go in it, how
they are grouped. The deciding and grouping are pure; ``send_digest`` and ``digest_tick`` put
the result in the outbox through the storage layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta

from bot.config import TopicConfig
from bot.dedup.outlets import outlet_name, outlet_of
from bot.delivery.match import Filters, StoryFacts, filters_from_values, matches, story_lemmas
from bot.delivery.quiet import in_quiet_hours
from bot.delivery.render import StoryView, digest_messages
from bot.delivery.zones import zone
from bot.models import Chat
from bot.storage.store import Store
from bot.storage.stories import StoryRow

log = logging.getLogger(__name__)

FIRST_WINDOW = timedelta(hours=24)  # a chat's first digest covers the last day
MAX_STORIES = 40  # per digest; the ones with the most outlets first
OTHER = "other"


def last_scheduled(digest_time: str, tz: str, now: datetime) -> datetime:
    """The latest moment at or before ``now`` when the chat's digest was scheduled (UTC)."""
    hours, minutes = (int(x) for x in digest_time.split(":"))
    local_zone = zone(tz)
    local_now = now.astimezone(local_zone)
    at = datetime.combine(local_now.date(), time(hours, minutes), tzinfo=local_zone)
    if at > local_now:
        at = datetime.combine(local_now.date() - timedelta(days=1), time(hours, minutes),
                              tzinfo=local_zone)
    return at.astimezone(UTC)


def is_due(chat: Chat, now: datetime) -> bool:
    """Due once the local digest time has passed since the last digest. A chat that has had
    none starts its clock now (see ``digest_tick``) rather than getting one at once."""
    if chat.last_digest_at is None:
        return False
    return chat.last_digest_at < last_scheduled(chat.digest_time, chat.tz, now)


def outlets_of(story: StoryRow) -> list[str]:
    """The names of the outlets that carried a story, first the original's: a source's name
    (the config's, or a chat-added feed's title), else the article's host."""
    outlets: list[str] = []
    for url, origin, source in story.sources:
        name = source or outlet_name(outlet_of(url, origin))
        if name and name not in outlets:
            outlets.append(name)
    return outlets


def facts_of(story: StoryRow) -> StoryFacts:
    return StoryFacts(topics=frozenset(story.topics), places=story.places,
                      lemmas=story_lemmas(story.title, story.text), names=story.names,
                      outlets=frozenset(outlets_of(story)))


def view_of(story: StoryRow, page: Callable[[int], str | None] = lambda story_id: None
            ) -> StoryView:
    return StoryView(story_id=story.story_id, title=story.title, url=story.url,
                     summary=story.summary, key_figures=story.key_figures,
                     outlets=tuple(outlets_of(story)), topics=story.topics,
                     places=tuple(sorted(story.places)), at=story.published,
                     page=page(story.story_id))


def group(stories: Sequence[StoryRow], filters: Filters, topics: Sequence[TopicConfig],
          lang: str) -> list[tuple[str, list[StoryView]]]:
    """Stories under topic headings, in the taxonomy's order, "other" last. A story goes under
    the first of its topics the chat chose, else its best topic. Within a group: more outlets
    first, then newer first."""
    order = {t.id: i for i, t in enumerate(topics)}
    names = {t.id: (t.name_en if lang == "en" else t.name_ru) for t in topics}
    groups: dict[str, list[StoryRow]] = {}
    for story in stories:
        chosen = [t for t in story.topics if t in filters.topics and t in order]
        known = [t for t in story.topics if t in order]
        key = (chosen or known or [OTHER])[0]
        groups.setdefault(key, []).append(story)
    out = []
    for key in sorted(groups, key=lambda k: order.get(k, len(order))):
        members = sorted(groups[key], key=lambda s: (-len(s.sources),
                                                     -(s.created_at or datetime.min.replace(
                                                         tzinfo=UTC)).timestamp()))
        heading = names.get(key, "Other" if lang == "en" else "Другое")
        out.append((heading, [view_of(s) for s in members]))
    return out


def pick(stories: Sequence[StoryRow], filters: Filters, limit: int = MAX_STORIES,
         facts: dict[int, StoryFacts] | None = None) -> list[StoryRow]:
    """The stories the filters match, the most reported first past ``limit``. ``facts``
    keeps each story's lemmas across the chats of one tick (they are the same for all)."""
    facts = {} if facts is None else facts

    def facts_for(story: StoryRow) -> StoryFacts:
        if story.story_id not in facts:
            facts[story.story_id] = facts_of(story)
        return facts[story.story_id]

    chosen = [s for s in stories if matches(filters, facts_for(s))]
    if len(chosen) > limit:
        chosen = sorted(chosen, key=lambda s: -len(s.sources))[:limit]
    return chosen


async def send_digest(store: Store, chat: Chat, filters: Filters,
                      topics: Sequence[TopicConfig], now: datetime,
                      facts: dict[int, StoryFacts] | None = None) -> int:
    """Queue the chat's digest of the stories since its last one; returns how many stories
    it holds (0: nothing new, no message, but the digest clock moves on)."""
    since = chat.last_digest_at or now - FIRST_WINDOW
    stories = pick(await store.stories.undelivered_since(chat.chat_id, since), filters,
                   facts=facts)
    messages = digest_messages(group(stories, filters, topics, chat.lang), chat.lang,
                               chat.tz) \
        if stories else []
    return await store.outbox.enqueue_digest(chat.chat_id, [s.story_id for s in stories],
                                             messages, now, thread_id=chat.thread_id,
                                             silent=in_quiet_hours(chat, now))


async def digest_tick(store: Store, topics: Sequence[TopicConfig], now: datetime) -> int:
    """Run every minute: queue the digests that are due. Returns how many were queued."""
    queued = 0
    facts: dict[int, StoryFacts] = {}
    for chat, values in await store.chats.in_mode("digest"):
        if chat.last_digest_at is None:
            await store.chats.update(chat.chat_id, last_digest_at=now)
            continue
        if not is_due(chat, now):
            continue
        try:
            if await send_digest(store, chat, filters_from_values(values), topics, now, facts):
                queued += 1
        except Exception:  # one chat's bad data must not stop the others' digests
            log.exception("digest for chat %s failed", chat.chat_id, extra={"chat": chat.chat_id})
    return queued
