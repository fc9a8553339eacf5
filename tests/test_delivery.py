"""Who gets a story and how it reads: matching, HTML rendering, the delivery decision."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.config import default_topics
from bot.delivery.match import Filters, StoryFacts, matches, phrase_stems, story_lemmas
from bot.delivery.render import LIMIT, StoryView, digest_messages, pack, story_item
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.understand.analyzer import Understanding

from conftest import SEEDS, fetch_rows

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
           "blockquote", "tg-spoiler", "span"}


class TelegramHTML(HTMLParser):
    """Parses a message the way Telegram's HTML mode does: only its tags, balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in ALLOWED, tag
        names = [name for name, _ in attrs]
        if tag == "a":
            assert names == ["href"], attrs
            assert dict(attrs)["href"].startswith(("http://", "https://")), attrs
        elif tag == "span":
            assert attrs == [("class", "tg-spoiler")], attrs
        else:
            assert not attrs, (tag, attrs)
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data):
        self.text.append(data)


_BAD_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


def parse(message: str) -> str:
    """The visible text of a message, asserting Telegram would accept its HTML: only its tags
    and attributes, balanced, every & starting one of the entities it knows, at most 4096
    characters."""
    assert 0 < len(message) <= 4096
    assert not _BAD_ENTITY.search(message), message[max(0, _BAD_ENTITY.search(message).start()
                                                        - 40):][:80]
    p = TelegramHTML()
    p.feed(message)
    p.close()
    assert not p.stack
    return "".join(p.text)


def facts(title: str, text: str, topics=(), places=()) -> StoryFacts:
    return StoryFacts(frozenset(topics), frozenset(places), story_lemmas(title, text))


def test_follow_matches_by_lemma_and_derivation():
    story = facts("Развитие химической отрасли", "Томские химики представили стратегию.")
    assert matches(Filters(follow=(phrase_stems("химия"),)), story)
    assert matches(Filters(follow=(phrase_stems("Томская область"),)),
                   facts("Визит", "Делегация Томской области прибыла в Минск."))
    assert not matches(Filters(follow=(phrase_stems("химия"),)),
                       facts("Открылась химчистка", "Новая химчистка в центре."))


def test_any_filter_matches_and_exclude_wins():
    story = facts("Экспорт вырос", "Товарооборот с Узбекистаном вырос.", ["trade"],
                  ["Узбекистан"])
    assert matches(Filters(), story)  # no filters: everything
    assert matches(Filters(topics=frozenset({"culture", "trade"})), story)
    assert matches(Filters(places=frozenset({"Узбекистан"})), story)
    assert not matches(Filters(topics=frozenset({"culture"})), story)
    assert not matches(Filters(topics=frozenset({"trade"}),
                               exclude=(phrase_stems("Узбекистан"),)), story)


def test_rendered_story_is_valid_telegram_html_with_text_escaped():
    view = StoryView(1, "<script>alert(1)</script> Томск & Минск", "https://x.ru/?a=1&b=\"2\"",
                     "Текст <b>не жирный</b> & <a href='x'>не ссылка</a>", ("60% <i>",),
                     ("tomsk.ru", "tass.ru"))
    message = story_item(view)
    visible = parse(message)
    assert "<script>alert(1)</script> Томск & Минск" in visible
    assert "Текст <b>не жирный</b> & <a href='x'>не ссылка</a>" in visible
    assert 'href="https://x.ru/?a=1&amp;b=&quot;2&quot;"' in message


def test_hostile_sizes_stay_under_the_limit_and_split_between_items():
    view = StoryView(1, "&" * 5000, "https://x.ru/" + "a" * 5000, "<&>" * 5000,
                     ("&" * 900,) * 9, ("&<>" * 500,) * 9)
    item = story_item(view)
    assert len(item) <= LIMIT
    parse(item)
    messages = digest_messages([("Торговля", [view] * 5), ("Культура", [view] * 3)])
    assert len(messages) >= 4
    for m in messages:
        assert len(m) <= LIMIT
        parse(m)
    with pytest.raises(ValueError):
        pack(["x" * (LIMIT + 1)])


async def test_a_new_story_is_queued_once_for_matching_chats(store):
    understanding = Understanding(default_topics())
    await store.chats.upsert(1)  # no filters: everything
    await store.chats.upsert(2)
    await store.chats.set_filter(2, "topic", "culture", True)
    await store.chats.upsert(3)
    await store.chats.set_filter(3, "place", "Узбекистан", True)
    await store.chats.upsert(4)
    await store.chats.set_filter(4, "follow", "химия", True)
    await store.chats.upsert(5)
    await store.chats.set_filter(5, "topic", "trade", True)
    await store.chats.set_filter(5, "exclude", "Мазур", True)
    await store.chats.upsert(-100, "channel")
    (new,), _ = await process(store, [read_document(SEEDS / "000_a76abe04a6259da9.txt")[0]],
                              understanding=understanding)
    rows = await fetch_rows(store, "SELECT chat_id, kind, text FROM outbox ORDER BY chat_id")
    assert {r["chat_id"] for r in rows} == {-100, 1, 3, 4}
    for r in rows:
        assert "Владимир Мазур предложил узбекскому бизнесу" in parse(r["text"])
    # Its reprint and the same text again queue nothing more.
    paras = read_document(SEEDS / "000_a76abe04a6259da9.txt")[0].text.split("\n\n")
    reprint = Entry(title="Мазур и Узбекистан", text="\n\n".join(p for p in paras[:6] if p),
                    url="https://reprint.example/1", origin="x")
    (again,), _ = await process(store, [reprint], understanding=understanding)
    assert again.status == "reprint" and again.story_id == new.story_id
    assert len(await fetch_rows(store, "SELECT id FROM outbox")) == 4


async def test_paused_and_digest_chats_get_nothing_at_once(store):

    await store.chats.upsert(7)
    await store.chats.update(7, status="paused")
    await store.chats.upsert(8)
    await store.chats.update(8, mode="digest")
    await process(store, [read_document(SEEDS / "004_a6db5da73fcefd32.txt")[0]],
                  understanding=Understanding(default_topics()))
    assert await fetch_rows(store, "SELECT id FROM outbox") == []


def test_no_raw_angle_brackets_from_article_text():
    view = StoryView(1, "a<b", None, "x>y & z", (), ())
    assert re.search(r"<(?!/?(b|i|a)\b)", story_item(view)) is None


def test_messages_are_measured_in_utf16_units_as_telegram_counts():
    from bot.delivery.render import StoryView, digest_messages, esc_clip, units

    emoji = "📈🏭🚀" * 40  # each is two UTF-16 units
    views = [StoryView(story_id=i, title=f"{emoji} {i}", url=None, summary=emoji * 3,
                       key_figures=(emoji,), outlets=("tomsk.ru",)) for i in range(30)]
    messages = digest_messages([("Экономика", views)])
    assert len(messages) > 1
    assert all(units(m) <= 4096 for m in messages)
    assert max(units(m) for m in messages) > 3000  # packed, not one story per message
    clipped = esc_clip("📈" * 100, 11)
    assert units(clipped) <= 11 and clipped.endswith("…") and "\ud83d" not in clipped
