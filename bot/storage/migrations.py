"""Ordered schema migrations, each applied in one transaction and recorded in schema_migrations.

Never edit a migration that has shipped: add a new one. Each is a tuple of single statements
(sqlite3's executescript would commit on its own and break the one-transaction rule).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (1, "sources and articles", (
        """CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('feed', 'files')),
            location TEXT NOT NULL,
            interval INTEGER NOT NULL CHECK (interval > 0),
            enabled INTEGER NOT NULL DEFAULT 1,
            managed_by TEXT NOT NULL DEFAULT 'config' CHECK (managed_by IN ('config', 'admin')),
            etag TEXT,
            last_modified TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_at TEXT,
            last_success_at TEXT,
            last_checked_at TEXT,
            next_check_at TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
            url TEXT UNIQUE,
            guid TEXT,
            origin TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            content_hash TEXT NOT NULL UNIQUE
        )""",
        "CREATE INDEX articles_published ON articles (published_at)",
        "CREATE INDEX articles_source_guid ON articles (source_id, guid)",
    )),
]
