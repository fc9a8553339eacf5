"""Ordered schema migrations, each applied in one transaction and recorded in schema_migrations.

Never edit a migration that has shipped: add a new one. Each is a tuple of single statements
(sqlite3's executescript would commit on its own and break the one-transaction rule).
"""

from __future__ import annotations

# The search index's definition (pressbot reindex builds a fresh one from it).
SEARCH_TABLE = """CREATE VIRTUAL TABLE {name} USING fts5(
            title, body, content='', tokenize='unicode61 remove_diacritics 0'
        )"""
SEARCH_SHADOWS = ("data", "idx", "docsize", "config")

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
    (2, "reprints and stories", (
        """CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            first_article_id INTEGER NOT NULL REFERENCES articles(id),
            title TEXT NOT NULL,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id)",
        "ALTER TABLE articles ADD COLUMN reprint_of INTEGER REFERENCES articles(id)",
        "ALTER TABLE articles ADD COLUMN similarity REAL",
        "CREATE INDEX articles_story ON articles (story_id)",
        "CREATE INDEX articles_reprint_of ON articles (reprint_of)",
        "CREATE INDEX articles_time ON articles (COALESCE(published_at, fetched_at))",
        # Shingle sets (sorted uint32 arrays) for verifying candidates, and the lemmas of
        # title and lead for story similarity.
        """CREATE TABLE article_fingerprints (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            words INTEGER NOT NULL,
            shingles BLOB NOT NULL,
            lede BLOB NOT NULL,
            title BLOB NOT NULL,
            story_terms TEXT NOT NULL
        )""",
        # The LSH band index: one row per band of each indexed window.
        """CREATE TABLE lsh_bands (
            key INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, article_id)
        ) WITHOUT ROWID""",
        # Document frequencies of story-term lemmas, for rarity weights.
        """CREATE TABLE lemma_df (
            lemma TEXT PRIMARY KEY,
            df INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE corpus_stats (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
    )),
    (3, "topic tags", (
        """CREATE TABLE article_topics (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            topic_id TEXT NOT NULL,
            score REAL NOT NULL,
            terms TEXT NOT NULL,
            PRIMARY KEY (article_id, topic_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX article_topics_topic ON article_topics (topic_id)",
    )),
    (4, "summaries and key figures", (
        "ALTER TABLE articles ADD COLUMN summary TEXT",
        "ALTER TABLE articles ADD COLUMN key_figures TEXT",
    )),
    (5, "people, organisations and places", (
        """CREATE TABLE article_entities (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('person', 'organization', 'location', 'place')),
            name TEXT NOT NULL,
            mentions INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (article_id, kind, name)
        ) WITHOUT ROWID""",
        "CREATE INDEX article_entities_name ON article_entities (kind, name)",
    )),
    (6, "chats, filters, outbox", (
        """CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'private'
                CHECK (kind IN ('private', 'group', 'supergroup', 'channel')),
            title TEXT,
            lang TEXT NOT NULL DEFAULT 'ru',
            mode TEXT NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
            digest_time TEXT NOT NULL DEFAULT '09:00',
            tz TEXT NOT NULL DEFAULT 'Asia/Tomsk',
            thread_id INTEGER,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'paused', 'blocked', 'dead')),
            last_digest_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE chat_filters (
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('topic', 'place', 'follow', 'exclude')),
            value TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, value)
        ) WITHOUT ROWID""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            story_id INTEGER REFERENCES stories(id),
            kind TEXT NOT NULL CHECK (kind IN ('story', 'digest', 'edit', 'notice')),
            text TEXT NOT NULL,
            thread_id INTEGER,
            preview INTEGER NOT NULL DEFAULT 1,
            edit_message_id INTEGER,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dropped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            message_id INTEGER,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending'",
        "CREATE INDEX outbox_chat ON outbox (chat_id, status)",
        """CREATE TABLE deliveries (
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id),
            outbox_id INTEGER REFERENCES outbox(id),
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, story_id)
        ) WITHOUT ROWID""",
    )),
    (7, "story search and digest bookkeeping", (
        # Lemmas of each original article (reprints add nothing new), for /search: title and
        # text in separate columns so that a title hit weighs more. Contentless: the text is
        # in articles; this holds only the index.
        SEARCH_TABLE.format(name="article_search"),
        # When pressbot created the story (started_at is the article's own time, which can be
        # days earlier): digests take the stories created since the last one.
        "ALTER TABLE stories ADD COLUMN created_at TEXT",
        "UPDATE stories SET created_at = updated_at",
        "CREATE INDEX stories_created ON stories (created_at)",
        "CREATE TABLE search_indexed (article_id INTEGER PRIMARY KEY)",
        # Channels and groups listed in [[channels]]: their filters follow the config.
        "ALTER TABLE chats ADD COLUMN from_config INTEGER NOT NULL DEFAULT 0",
    )),
    (8, "source updates of sent stories", (
        # Stories that gained outlets since (the first change of a burst): their messages
        # already sent at once are edited to list the new outlets.
        """CREATE TABLE story_updates (
            story_id INTEGER PRIMARY KEY REFERENCES stories(id),
            since TEXT NOT NULL
        )""",
        "CREATE INDEX outbox_story ON outbox (story_id) WHERE kind = 'story'",
    )),
    (9, "outbox claims, failures and old news", (
        # The outbox is rebuilt (SQLite cannot change a CHECK): rows are claimed ('sending',
        # with a lease) in their own transaction before the send; 'failed' rows were rejected
        # or ran out of attempts; 'cancelled' ones will never go (chat gone, edit replaced).
        """CREATE TABLE outbox_new (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            story_id INTEGER REFERENCES stories(id),
            kind TEXT NOT NULL CHECK (kind IN ('story', 'digest', 'edit', 'notice')),
            text TEXT NOT NULL,
            thread_id INTEGER,
            preview INTEGER NOT NULL DEFAULT 1,
            edit_message_id INTEGER,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'cancelled', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            message_id INTEGER,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            lease_until TEXT,
            silent INTEGER NOT NULL DEFAULT 0
        )""",
        "INSERT INTO outbox_new (id, chat_id, story_id, kind, text, thread_id, preview,"
        " edit_message_id, status, attempts, next_attempt_at, last_error, message_id,"
        " created_at, sent_at) SELECT id, chat_id, story_id, kind, text, thread_id, preview,"
        " edit_message_id, CASE status WHEN 'dropped' THEN 'cancelled' ELSE status END,"
        " attempts, next_attempt_at, last_error, message_id, created_at, sent_at FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_new RENAME TO outbox",
        "CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending'",
        "CREATE INDEX outbox_chat ON outbox (chat_id, status)",
        "CREATE INDEX outbox_story ON outbox (story_id) WHERE kind = 'story'",
        "CREATE INDEX outbox_sending ON outbox (lease_until) WHERE status = 'sending'",
        # Stories that are news: 0 for the baseline corpus, old articles and what a source's
        # first poll found beyond the newest few. They are stored and searchable, never sent.
        "ALTER TABLE stories ADD COLUMN news INTEGER NOT NULL DEFAULT 1",
    )),
    (10, "teasers, quiet hours, muted outlets, source schedules and alerts", (
        # Teasers whose article page could not be fetched yet: retried with backoff, stored
        # and delivered once the page came or finally failed (never as a teaser at once).
        """CREATE TABLE teasers (
            url TEXT PRIMARY KEY,
            source_id INTEGER REFERENCES sources(id) ON DELETE CASCADE,
            entry TEXT NOT NULL,
            news INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            next_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX teasers_due ON teasers (next_at)",
        # Quiet hours (local HH:MM): stories in the window are sent silently.
        "ALTER TABLE chats ADD COLUMN quiet_start TEXT",
        "ALTER TABLE chats ADD COLUMN quiet_end TEXT",
        # chat_filters gains 'mute' (an outlet this chat does not want): SQLite's rebuild.
        """CREATE TABLE chat_filters_new (
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('topic', 'place', 'follow', 'exclude', 'mute')),
            value TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, value)
        ) WITHOUT ROWID""",
        "INSERT INTO chat_filters_new SELECT chat_id, kind, value FROM chat_filters",
        "DROP TABLE chat_filters",
        "ALTER TABLE chat_filters_new RENAME TO chat_filters",
        # Sources: since when a source has failed (alerts), the feed's own minimum interval
        # (<ttl>, sy:updatePeriod, Retry-After), and what identifies the feed (one source per
        # feed, whatever its address).
        "ALTER TABLE sources ADD COLUMN failing_since TEXT",
        "ALTER TABLE sources ADD COLUMN min_interval INTEGER",
        "ALTER TABLE sources ADD COLUMN identity TEXT",
        "UPDATE sources SET failing_since = last_error_at WHERE error_count > 0",
        # Small state that must survive restarts (the alerts already sent, ...).
        """CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    )),
    (11, "stories by time for the web archive", (
        "CREATE INDEX stories_started ON stories (started_at)",
    )),
    (12, "source categories", (
        # The folder a source came from in an imported OPML list; exported the same way.
        "ALTER TABLE sources ADD COLUMN category TEXT",
    )),
    (13, "sentence vectors of articles", (
        # The story signal in other words (bot/storage/embeddings.py): made for the articles
        # that met an uncertain candidate, tagged with the model that made them.
        """CREATE TABLE article_embeddings (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        )""",
    )),
]
