"""In groups and supergroups only the chat's administrators change its settings: topic and
place buttons, /follow, /exclude, /mode, /time, /tz, /stop, /forget, /lang and the like. Anyone
else gets a short polite answer and nothing changes. Private chats are their owner's.

Who is an administrator comes from getChatMember, cached for a few minutes per (chat, user);
an anonymous administrator (a message sent as the group itself) counts as one. When Telegram
cannot say, the change is refused (never allowed by default).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.telegram.handlers.common import answer, obey
from bot.telegram.texts import t
from bot.telegram.transport import describe

log = logging.getLogger(__name__)

# Commands that change a chat's settings or subscription.
SETTINGS_COMMANDS = frozenset({
    "start", "stop", "forget", "lang", "follow", "unfollow", "exclude", "unexclude", "mode",
    "time", "tz", "quiet", "clear", "mute", "unmute"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
CACHE_SECONDS = 300.0
MAX_CACHE = 50_000


def command_of(text: str | None) -> str | None:
    """'/follow@pressbot_bot химия' -> 'follow'."""
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class ChatAdmins(BaseMiddleware):
    def __init__(self, admins: tuple[int, ...] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bot_admins = frozenset(admins)  # [telegram] admins may change any chat
        self.clock = clock
        self._cache: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        now = self.clock()
        hit = self._cache.get((chat_id, user_id))
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except Exception as exc:  # Telegram cannot say: refused, never allowed by default
            log.warning("chat %s: cannot tell whether %s is an administrator: %s", chat_id,
                        user_id, describe(exc), extra={"chat": chat_id})
            return False
        allowed = member.status in ADMIN_STATUSES
        if len(self._cache) > MAX_CACHE:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[(chat_id, user_id)] = (allowed, now + CACHE_SECONDS)
        return allowed

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message):
            chat, user = event.chat, event.from_user
            changes = command_of(event.text) in SETTINGS_COMMANDS
            anonymous = event.sender_chat is not None and event.sender_chat.id == chat.id
        elif isinstance(event, CallbackQuery) and event.message is not None:
            chat, user = event.message.chat, event.from_user
            changes, anonymous = True, False  # every button toggles a setting
        else:
            return await handler(event, data)
        if not changes or chat.type not in ("group", "supergroup") or anonymous:
            return await handler(event, data)
        if user is not None and (user.id in self.bot_admins
                                 or await self.is_admin(data["bot"], chat.id, user.id)):
            return await handler(event, data)
        stored = await data["store"].chats.get(chat.id)
        text = t(stored.lang if stored else "ru", "admins_only")
        if isinstance(event, CallbackQuery):
            await obey(lambda: event.answer(text, show_alert=True))
        else:
            await answer(event, text)
        return None
