"""One ``pressbot run`` per SQLite database: an exclusive lock on ``<database>.lock``.

The kernel holds the lock (flock) for as long as the process lives, so a crashed or killed
holder leaves nothing to clean up by hand. The file names the holder (pid, host, since) for the
one-line refusal a second ``run`` prints. Several processes on one PostgreSQL database claim
rows instead (a later store replaces this lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.db import DatabaseError


class AlreadyRunning(DatabaseError):
    """Another pressbot holds the database."""


class InstanceLock:
    def __init__(self, database: Path | str) -> None:
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseError(f"cannot create lock file {self.path}: "
                                f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise AlreadyRunning(f"another pressbot is running on {str(self.path)[:-5]}"
                                 f" ({holder}); stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}
                                ).encode())
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
            return f"pid {int(info['pid'])} on {str(info['host'])[:80]} since " \
                   f"{str(info['since'])[:40]}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
