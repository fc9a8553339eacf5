"""CPU-bound stages (feed parsing, main-text extraction, cleaning, fingerprints, NER, summaries)
run off the event loop, one at a time, in a worker thread of their own: the bot keeps answering
commands while a big feed is processed, and the models are never used by two threads at once.
The story encoder (a C library that releases the GIL) has a lane of its own, so that it works
on the machine's other core while the next article's features are made.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_executors: dict[str, ThreadPoolExecutor] = {}


def _pool(lane: str) -> ThreadPoolExecutor:
    if lane not in _executors:
        _executors[lane] = ThreadPoolExecutor(max_workers=1,
                                              thread_name_prefix=f"pressbot-{lane}")
    return _executors[lane]


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` in the CPU worker thread and wait for it without blocking the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool("cpu"), functools.partial(fn, *args, **kwargs))


async def in_encoder_lane(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` (the story encoder) in its own worker thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool("encoder"), functools.partial(fn, *args, **kwargs))
