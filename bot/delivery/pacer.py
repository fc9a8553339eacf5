"""One pacer for everything pressbot sends: command replies, button answers, edits and the
outbox's messages take their turn here, under Telegram's limits.

- Overall, one slot every 1/(rate * MARGIN) seconds (30 a second by default).
- Per chat, one message a second in a private chat and one every 3 s in a group or channel
  (20 a minute). Requests without a chat (answering a button press) take only the overall slot.
- Urgent requests (a person waiting for an answer) go before bulk ones (the outbox): a burst
  of new users is answered while a broadcast runs, and the broadcast takes every slot left.
- A 429 pauses its chat for ``retry_after`` and slows everything down for a while; successes
  bring the rate back.

Waiters queue in order and one task hands out the slots, so ten thousand waiting requests cost
one wake-up per slot, not ten thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

PRIVATE_INTERVAL = 1.0
GROUP_INTERVAL = 3.0
MARGIN = 0.97  # slots at 97% of the limit: network jitter bunches arrivals at the server
SCAN = 200  # waiters looked at for one whose chat is ready, before waiting


class Turn:
    """Whether a request has had its turn (set in the context of the task that waits), so
    that a sender stopping can tell the messages on their way from those still waiting."""

    granted = False


CURRENT_TURN: contextvars.ContextVar[Turn | None] = contextvars.ContextVar("pressbot_turn",
                                                                            default=None)


@dataclass
class _Waiter:
    chat_id: int | None
    group: bool
    future: asyncio.Future = field(repr=False)


class Pacer:
    def __init__(self, rate: float = 30.0, *, private_interval: float = PRIVATE_INTERVAL,
                 group_interval: float = GROUP_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.clock = clock
        self.factor = 1.0  # < 1 after 429s
        self.too_many = 0  # 429s seen
        self.granted = 0
        self._next_slot = 0.0
        self._chat_ready: dict[int, float] = {}
        self._urgent: deque[_Waiter] = deque()
        self._bulk: deque[_Waiter] = deque()
        self._kick = asyncio.Event()
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------ public

    async def acquire(self, chat_id: int | None, *, group: bool = False,
                      urgent: bool = True) -> None:
        """Wait for this request's turn."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._grant(), name="pacer")
        waiter = _Waiter(chat_id, group, loop.create_future())
        (self._urgent if urgent else self._bulk).append(waiter)
        self._kick.set()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if not waiter.future.done():
                waiter.future.cancel()
            raise
        turn = CURRENT_TURN.get()
        if turn is not None:
            turn.granted = True

    def ready_at(self, chat_id: int) -> float:
        """When the chat may get its next message (monotonic clock)."""
        return self._chat_ready.get(chat_id, 0.0)

    def too_fast(self, chat_id: int | None, retry_after: float) -> None:
        """Telegram answered 429: the chat waits, and everything slows down for a while."""
        self.too_many += 1
        self.factor = max(0.5, self.factor * 0.8)
        if chat_id is not None:
            self._chat_ready[chat_id] = max(self.ready_at(chat_id),
                                            self.clock() + retry_after)
        self._kick.set()

    def went_through(self) -> None:
        self.factor = min(1.0, self.factor * 1.02)

    def finished(self, chat_id: int | None, *, group: bool = False) -> None:
        """A request for the chat got its answer: the chat's interval counts from now too
        (Telegram measures arrivals, and the network delays some more than others)."""
        if chat_id is not None:
            self._chat_ready[chat_id] = max(self.ready_at(chat_id),
                                            self.clock() + self._interval(group))

    @property
    def waiting(self) -> int:
        return len(self._urgent) + len(self._bulk)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for queue in (self._urgent, self._bulk):
            while queue:
                w = queue.popleft()
                if not w.future.done():
                    w.future.cancel()

    # ------------------------------------------------------------ the granting task

    def _interval(self, group: bool) -> float:
        return self.group_interval if group else self.private_interval

    def _pick(self, now: float) -> tuple[_Waiter | None, float]:
        """The next waiter whose chat is ready (urgent first), or when one will be."""
        soonest = float("inf")
        for queue in (self._urgent, self._bulk):
            for i, w in enumerate(queue):
                if i >= SCAN:
                    break
                if w.future.done():  # cancelled while waiting
                    continue
                ready = self._chat_ready.get(w.chat_id, 0.0) if w.chat_id is not None else 0.0
                if ready <= now:
                    del queue[i]
                    return w, now
                soonest = min(soonest, ready)
            while queue and queue[0].future.done():
                queue.popleft()
        return None, soonest

    async def _grant(self) -> None:
        while True:
            now = self.clock()
            if self._next_slot > now:
                await asyncio.sleep(self._next_slot - now)
                continue
            waiter, soonest = self._pick(now)
            if waiter is None:
                self._kick.clear()
                timeout = None if soonest == float("inf") else max(soonest - now, 0.001)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), timeout)
                continue
            # The next slot counts from this one's planned time, not from when the loop woke
            # up: a late wake-up (a busy loop) would otherwise cost its lateness at every
            # message. After an idle spell (later than one interval) it counts from now.
            interval = 1.0 / (self.rate * MARGIN * self.factor)
            planned = self._next_slot if now - self._next_slot < interval else now
            self._next_slot = planned + interval
            if waiter.chat_id is not None:
                self._chat_ready[waiter.chat_id] = now + self._interval(waiter.group)
            self.granted += 1
            waiter.future.set_result(None)
            if len(self._chat_ready) > 200_000:  # forget chats that are long ready
                for chat in [c for c, t in self._chat_ready.items() if t < now - 60]:
                    del self._chat_ready[chat]
