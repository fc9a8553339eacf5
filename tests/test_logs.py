"""Structured logs: JSON lines with ids, and the token never written in any format."""

from __future__ import annotations

import io
import json
import logging

from bot import logs

from conftest import TEST_TOKEN


def test_json_lines_carry_ids_and_never_the_token():
    for fmt in ("json", "text"):
        stream = io.StringIO()
        logs.setup("INFO", fmt, stream)
        log = logging.getLogger("pressbot.test")
        log.info("source %s: article %s", "tomsk", 7,
                 extra={"source": "tomsk", "article": 7, "chat": 5})
        try:
            raise OSError(f"cannot connect to https://api.telegram.org/bot{TEST_TOKEN}/getMe")
        except OSError:
            log.exception("request failed for %s", f"bot{TEST_TOKEN}")
        text = stream.getvalue()
        assert TEST_TOKEN not in text and "<token>" in text
        if fmt == "json":
            first, second = (json.loads(line) for line in text.splitlines())
            assert (first["source"], first["article"], first["chat"]) == ("tomsk", 7, 5)
            assert first["level"] == "INFO" and first["message"] == "source tomsk: article 7"
            assert "OSError" in second["error"]
    logs.setup("WARNING")
