"""What became of one attempt to send a message: the transport (bot/telegram/transport.py)
classifies every answer and every error of the Bot API into one of these, and the sender acts
on the class alone. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

SENT = "sent"  # Telegram accepted it
RETRY = "retry"  # try again later: 429, 5xx, network, timeouts, undecodable answers
CHAT_GONE = "chat_gone"  # 403 blocked/kicked/deactivated, 400 chat not found
REJECTED = "rejected"  # 400 about the message itself: never retried
MIGRATED = "migrated"  # the group became a supergroup: send again to the new id
BOT_DOWN = "bot_down"  # 401 token revoked, 409 another instance or a webhook: pause all


@dataclass(frozen=True)
class Outcome:
    kind: str
    error: str = ""
    message_id: int | None = None
    retry_after: float | None = None  # seconds Telegram asked to wait (429)
    chat_status: str | None = None  # CHAT_GONE: "blocked" or "dead"
    migrate_to: int | None = None  # MIGRATED: the new chat id

    @property
    def sent(self) -> bool:
        return self.kind == SENT
