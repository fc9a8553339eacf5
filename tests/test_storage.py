from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from bot.ingest.files import read_document
from bot.models import Article
from bot.pipeline import content_hash, features, prepare
from bot.storage.db import DatabaseError
from bot.storage.migrations import MIGRATIONS
from bot.storage.outbox import Message
from bot.storage.store import Store

from conftest import SEEDS, fetch_one, fetch_rows


def article(text: str, url: str | None = None, title: str = "Заголовок") -> Article:
    return Article(title=title, text=text, url=url, guid=None,
                   published=datetime(2025, 1, 1, tzinfo=UTC), origin="test",
                   content_hash=content_hash(title, text))


async def test_pragmas_and_migrations_recorded(tmp_path):
    path = tmp_path / "p.db"
    async with await Store.open(path) as store:
        assert (await fetch_one(store, "PRAGMA journal_mode"))[0] == "wal"
        assert (await fetch_one(store, "PRAGMA foreign_keys"))[0] == 1
        assert (await fetch_one(store, "PRAGMA busy_timeout"))[0] >= 5000
        rows = await fetch_rows(store, "SELECT version, name FROM schema_migrations"
                                       " ORDER BY version")
        assert [r["version"] for r in rows] == [m[0] for m in MIGRATIONS]
    # Opening again applies nothing twice.
    async with await Store.open(path) as store:
        assert await store.db.migrate() == []
        assert await store.schema_version() == MIGRATIONS[-1][0]


async def test_a_failing_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    broken = [*MIGRATIONS, (99, "broken", ("CREATE TABLE half (x INTEGER)", "NOT SQL AT ALL"))]
    monkeypatch.setattr("bot.storage.db.MIGRATIONS", broken)
    with pytest.raises(DatabaseError):
        await Store.open(tmp_path / "p.db")
    conn = sqlite3.connect(tmp_path / "p.db")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == \
        MIGRATIONS[-1][0]
    conn.close()


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "p.db"
    async with await Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this pressbot"):
        await Store.open(path)


async def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match=r"junk\.db"):
        await Store.open(path)


async def test_articles_unique_by_url_and_by_content_hash(store):
    body = "Губернатор Томской области Владимир Мазур предложил развивать химию. " * 5
    first, new = await store.articles.insert(article(body, "https://a.ru/1"))
    assert new and first.id is not None
    # Same URL, other text: the same article.
    same_url, new = await store.articles.insert(article("Другой текст. " * 30, "https://a.ru/1"))
    assert not new and same_url.id == first.id
    # Same text (spacing and case aside) under another URL: an exact duplicate.
    again, new = await store.articles.insert(article(body.upper().replace(" ", "  "),
                                                  "https://b.ru/2"))
    assert not new and again.id == first.id
    assert await store.articles.count() == 1


async def test_short_texts_are_told_apart_by_title(store):
    _, a = await store.articles.insert(article("Подробнее на сайте.", title="Первая новость"))
    _, b = await store.articles.insert(article("Подробнее на сайте.", title="Вторая новость"))
    assert a and b


async def test_sandbox_changes_nothing(tmp_path):
    path = tmp_path / "p.db"
    async with await Store.open(path) as store:
        await store.articles.insert(article("Первый текст о химии в Томской области. " * 10))
    async with await Store.open(path, sandbox=True) as store:
        await store.articles.insert(article("Второй текст об экспорте в Узбекистан. " * 10))
        assert await store.articles.count() == 2
    async with await Store.open(path) as store:
        assert await store.articles.count() == 1


async def test_write_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO sources (name, kind, location, interval, created_at)"
                " VALUES ('x', 'feed', 'http://a', 60, '2025-01-01')")
            raise RuntimeError("boom")
    assert await fetch_one(store, "SELECT * FROM sources") is None


async def test_a_schema_1_archive_is_upgraded_and_indexed(tmp_path, monkeypatch):
    """A database made by the first schema (articles, no fingerprints) is migrated, and its
    articles join the reprint index so that a later reprint of one is recognised."""
    from bot.ingest.files import read_document
    from bot.pipeline import index_archive, prepare, process

    from conftest import SEEDS

    path = tmp_path / "old.db"
    monkeypatch.setattr("bot.storage.db.MIGRATIONS", MIGRATIONS[:1])
    async with await Store.open(path) as store:
        for seed in sorted(SEEDS.iterdir()):
            await store.articles.insert(prepare(read_document(seed)[0]))
        assert await store.schema_version() == 1
    monkeypatch.setattr("bot.storage.db.MIGRATIONS", MIGRATIONS)
    async with await Store.open(path) as store:
        assert await store.schema_version() == MIGRATIONS[-1][0]
        assert await index_archive(store) == 5
        assert await index_archive(store) == 0
        stories = await fetch_one(store, "SELECT COUNT(*) AS n FROM stories")
        assert stories["n"] == 5
        seed = read_document(sorted(SEEDS.iterdir())[2])[0]
        paras = [p for p in seed.text.split("\n\n") if p.strip()][:3]
        text = "\n\n".join(["ТОМСК, 12 фев — Сибирь.Новости.", *paras])
        reprint = type(seed)(title="Кластеры в Томской области", text=text,
                             url="https://reprint.example/1", origin="x")
        (result,), _ = await process(store, [reprint])
        assert result.status == "reprint"


async def test_a_new_story_is_queued_once_for_each_instant_chat(store):
    """Store.place queues a new story's messages for all instant chats together
    (outbox.enqueue_new_story): one message and one delivery row per chat, the delivery
    pointing at its message, a chat named twice by the decision queued once."""
    chats = [7000 + i for i in range(300)]
    await store.chats.add_many(chats)
    article = prepare(read_document(sorted(SEEDS.glob("*.txt"))[0])[0])

    def twice(story_id, found):
        return [*(Message(chat.chat_id, f"новость {story_id}") for chat, _ in found),
                Message(found[0][0].chat_id, "ещё раз")]

    placed = await store.place(article, features(article), notify=twice)
    assert placed.status == "new_story"
    rows = await fetch_rows(store, "SELECT chat_id, text FROM outbox WHERE story_id = ?",
                            (placed.story_id,))
    assert sorted(r[0] for r in rows) == chats
    assert {r[1] for r in rows} == {f"новость {placed.story_id}"}
    linked = await fetch_rows(
        store, "SELECT COUNT(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
        " AND o.chat_id = d.chat_id WHERE d.story_id = ?", (placed.story_id,))
    assert linked[0][0] == len(chats)
