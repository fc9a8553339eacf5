"""Source updates: a story sent at once that more outlets then carry gets its message edited to
list them ("Источники (4): ..."), so a subscriber sees the story once and still learns who else
reported it.

Coalesced: a story's edit waits until its burst of reprints has been quiet for QUIET
(`[telegram] update_sources_quiet`), so ten reprints in five minutes cost one edit per chat, not
ten. Only messages of the last MAX_AGE are edited. The outbox sends edits after everything
else (see bot/storage/outbox.py), so with 10,000 subscribers an edit round never delays a new
story.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.delivery.digest import view_of
from bot.delivery.render import story_item
from bot.storage.store import Store

QUIET = timedelta(minutes=10)
MAX_AGE = timedelta(hours=48)


async def source_update_tick(store: Store, now: datetime, quiet: timedelta = QUIET,
                             page: Callable[[int], str | None] = lambda story_id: None) -> int:
    """Queue the edits that are due (stories whose reprints have been quiet for `quiet`);
    returns how many were queued."""
    await store.outbox.forget_story_updates(now - quiet, now - MAX_AGE)
    queued = 0
    for story in await store.stories.by_id(await store.outbox.grown_stories(now - quiet)):
        view = view_of(story, page)
        queued += await store.outbox.queue_story_edits(
            story.story_id, lambda lang, tz, view=view: story_item(view, lang, tz=tz),
            now - MAX_AGE)
    return queued
