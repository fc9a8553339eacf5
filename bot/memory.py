"""Returning freed memory to the system. CPython frees objects into its own arenas and glibc's
malloc keeps freed pages for reuse, so a process's resident size stays at its peak (a burst of
articles, loading models) long after; malloc_trim gives the free pages back. glibc only;
elsewhere a no-op."""

from __future__ import annotations

import contextlib
import ctypes
from functools import cache


@cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)  # ctypes releases the GIL for the call
