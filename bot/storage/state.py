"""Small state that must survive restarts, as JSON under a key (the alerts already sent)."""

from __future__ import annotations

import json
from typing import Any

from bot.storage.db import Database


class State:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> Any:
        async with self.db.read() as tx:
            raw = await tx.fetchval("SELECT value FROM state WHERE key = ?", (key,))
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def put(self, key: str, value: Any) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key)"
                             " DO UPDATE SET value = excluded.value",
                             (key, json.dumps(value, ensure_ascii=False)))
