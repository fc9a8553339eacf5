"""Logging: plain text for a terminal, or one JSON object per line (``--log-format json``)
carrying the source, article and chat ids that log calls pass as ``extra``. The bot token is
redacted from every record, whatever the format and wherever it came from (aiohttp errors
print request URLs, and a Bot API URL holds the token)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

CONTEXT = ("source", "article", "story", "chat")
_TOKEN = re.compile(r"\d{3,15}:[\w-]{20,}")


def redact(text: str) -> str:
    return _TOKEN.sub("<token>", text)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                   timespec="milliseconds"),
               "level": record.levelname, "logger": record.name,
               "message": redact(record.getMessage())}
        for key in CONTEXT:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# A progress bar on the same terminal (pressbot poll): log lines clear it and draw it again.
PROGRESS = None


class _Handler(logging.StreamHandler):
    def emit(self, record: logging.LogRecord) -> None:
        bar = PROGRESS
        if bar is not None and bar.stream is self.stream:
            bar.clear()
            super().emit(record)
            bar.redraw()
        else:
            super().emit(record)


def setup(level: str, fmt: str = "text", stream=None) -> None:
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # An error nobody caught is printed through the same redacting formatter, never raw.
    sys.excepthook = lambda kind, value, tb: logging.getLogger("pressbot").critical(
        "unhandled error", exc_info=(kind, value, tb))
    if level != "DEBUG":  # APScheduler and aiogram report every job run and update at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
