"""Reprints and stories through the real pipeline and a real SQLite archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.dedup.fingerprint import fingerprint
from bot.dedup.reprints import compare
from bot.ingest.files import read_document
from bot.ingest.parse import parse_feed
from bot.models import Entry
from bot.pipeline import process

from conftest import DATA, SEEDS, SHARED, fetch_one

T0 = datetime(2025, 10, 22, 9, 0, tzinfo=UTC)
SEED_FILES = sorted(SEEDS.iterdir())


def seed_entry(i: int) -> Entry:
    return read_document(SEED_FILES[i])[0]


def body(i: int) -> str:
    return SEED_FILES[i].read_text(encoding="utf-8").split("\n", 1)[1]


def entry(title: str, text: str, url: str, at: datetime | None = T0) -> Entry:
    return Entry(title=title, text=text, url=url, published=at, origin=url)


async def store_seeds(store):
    results, _ = await process(store, [seed_entry(i) for i in range(5)])
    assert [r.status for r in results] == ["new_story"] * 5
    return results


def paragraphs(i: int) -> list[str]:
    return [p for p in body(i).split("\n\n") if p.strip()]


async def test_seeds_are_five_different_stories(store):
    results = await store_seeds(store)
    assert len({r.story_id for r in results}) == 5


async def test_crafted_reprint_of_a_seed(store):
    seeds = await store_seeds(store)
    paras = paragraphs(4)  # the Belarus visit, with its chrome
    reprint = "\n\n".join([
        "МИНСК, 15 июл — Сибирь.Новости.",
        paras[2], paras[1], paras[3],  # lede kept, order changed, photo credit and title dropped
        "Подписывайтесь на наш канал в Telegram",
        "Читайте также: В Томске открыли новый сквер"])
    # The seed has no date (its time is when it was stored); the reprint has none either.
    (result,), _ = await process(store, [entry("Томск и Минск: товарооборот вырос на 60%", reprint,
                                            "https://sibnews.example/belarus", at=None)])
    assert result.status == "reprint"
    assert result.duplicate_of == str(SEED_FILES[4])
    assert result.story_id == seeds[4].story_id
    assert result.similarity >= 0.8


async def test_excerpt_of_the_first_40_percent_is_a_reprint(store):
    seeds = await store_seeds(store)
    paras = paragraphs(0)
    excerpt = "\n\n".join(paras[:3])
    (result,), _ = await process(store, [entry("Мазур предложил Узбекистану химию", excerpt,
                                            "https://other.example/uz")])
    assert result.status == "reprint" and result.story_id == seeds[0].story_id


async def test_identical_text_under_two_urls_is_an_exact_duplicate(store):
    text = "\n\n".join(paragraphs(0))
    (a,), _ = await process(store, [entry("Заголовок один", text, "https://a.example/1")])
    (b,), _ = await process(store, [entry("Заголовок два", text, "https://b.example/2")])
    assert (a.status, b.status) == ("new_story", "duplicate")
    assert b.article.id == a.article.id and b.duplicate_of == "https://a.example/1"
    assert b.story_id == a.story_id


async def test_reprint_first_then_its_original(store):
    paras = paragraphs(0)
    original = "\n\n".join(paras)
    reprint = "\n\n".join(["Как сообщает пресс-служба губернатора,", *paras[:4],
                           "Фото: пресс-служба"])
    (early,), _ = await process(store, [entry("Перепечатка", reprint, "https://copy.example/1",
                                           at=T0 + timedelta(hours=3))])
    (late,), _ = await process(store, [entry("Оригинал", original, "https://tomsk.gov.example/1",
                                          at=T0)])
    # The original arrived second but is earlier: it becomes the original, nothing is a new
    # story, and the earlier-stored reprint now points at it.
    assert early.status == "new_story" and late.status == "original"
    assert late.story_id == early.story_id
    rows = await store.stories.articles_of(late.story_id)
    by_id = {r["id"]: r for r in rows}
    assert by_id[early.article.id]["reprint_of"] == late.article.id
    assert by_id[late.article.id]["reprint_of"] is None
    story = await fetch_one(store, "SELECT first_article_id, title FROM stories WHERE id = ?",
                              (late.story_id,))
    assert story["first_article_id"] == late.article.id and story["title"] == "Оригинал"
    # A third copy is a reprint of the original, not of the copy.
    (third,), _ = await process(store, [entry("Ещё копия", "\n\n".join(paras[:3]),
                                           "https://third.example/1", at=T0 + timedelta(hours=5))])
    assert third.status == "reprint" and third.duplicate_of == "https://tomsk.gov.example/1"


@pytest.mark.parametrize("text", ["", "Коротко.", "Мазур", "12 345 678", "Hello world only"])
async def test_tiny_and_empty_texts(store, text):
    await store_seeds(store)
    results, _ = await process(store, [entry("Мазур", text, "https://tiny.example/1")])
    assert [r.status for r in results] == ["new_story"]
    assert results[0].duplicate_of is None


async def test_short_texts_are_judged_with_their_titles(store):
    text = "Губернатор Владимир Мазур провёл совещание с руководителями предприятий."
    (a,), _ = await process(store, [entry("Мазур обсудил с бизнесом химический кластер", text,
                                       "https://a.example/1")])
    (b,), _ = await process(store, [entry("В Томске прошёл турнир по хоккею", text,
                                       "https://b.example/1")])
    (c,), _ = await process(store, [entry("Мазур обсудил с бизнесом химический кластер", text + " ",
                                       "https://c.example/1")])
    assert a.status == b.status == "new_story"  # same short text, other title: no reprint
    assert c.status in ("duplicate", "reprint") and c.story_id == a.story_id


SAME_EVENT = """Глава Томской области Владимир Мазур выступил на II Совете регионов России и \
Узбекистана в Подмосковье и предложил узбекским партнёрам вместе развивать химическую отрасль.

По словам губернатора, в регионе работают около 40 химических компаний, а Томск готовит \
стратегию развития химической промышленности страны до 2035 года. Узбекистанские компании, \
считает Мазур, могут стать партнёрами будущего кластера малотоннажной химии."""


SECOND_REPORT = """Губернатор Томской области Владимир Мазур на II Совете регионов России и \
Узбекистана предложил узбекскому бизнесу развивать химическую промышленность вместе с регионом.

Мазур напомнил, что в Томской области работает порядка 40 химических компаний, а Томску \
поручена разработка Стратегии развития химической отрасли России до 2035 года. Узбекистан, \
по его словам, один из основных торгово-экономических партнеров региона."""


async def store_archive(store):
    """The seeds and the Tomsk test feeds: word rarity needs more than five documents."""
    seeds = await store_seeds(store)
    for name in ("rss20_tomsk.xml", "atom10_tomsk.xml", "rss10_tomsk.rdf", "rss091_tomsk.xml",
                 "feed_tomsk.json"):
        body = (DATA / name).read_text(encoding="utf-8").replace("{base}", "http://x.example")
        await process(store, parse_feed(body.encode(), origin=name).entries)
    return seeds


async def test_same_story_in_other_words_from_another_outlet(store):
    seeds = await store_archive(store)
    (result,), _ = await process(store, [entry(
        "Мазур предложил Узбекистану вместе развивать химию", SECOND_REPORT,
        "https://news.example/mazur-uzbekistan")])
    assert result.status == "joined"  # not a reprint: its own words
    assert result.story_id == seeds[0].story_id
    assert result.similarity is not None and result.similarity >= 0.31


async def test_same_story_heavily_paraphrased(store):
    """Another outlet's rewrite of seed 000 in its own words, the same day, joins its story
    (it did not while a candidate's words missing from the new article's document
    frequencies counted as the rarest of all)."""
    seeds = await store_archive(store)
    (result,), _ = await process(store, [entry(
        "Мазур позвал Узбекистан в химический кластер Томской области", SAME_EVENT,
        "https://news.example/mazur-uzbekistan")])
    assert result.story_id == seeds[0].story_id


async def test_same_host_is_not_joined_by_similarity_alone(store):
    first, _ = await process(store, [entry("Мазур позвал Узбекистан в химический кластер",
                                        SAME_EVENT, "https://news.example/a")])
    second, _ = await process(store, [entry("Мазур позвал Узбекистан в химический кластер",
                                         SAME_EVENT.replace("около 40", "порядка сорока"),
                                         "https://news.example/b")])
    # Same host: not joined as a story by similarity; but the text is a reprint.
    assert second[0].status == "reprint" and second[0].story_id == first[0].story_id
    third, _ = await process(store, [entry(
        "Губернатор предложил узбекскому бизнесу химическую кооперацию",
        "Томский губернатор Мазур предложил Узбекистану развивать химическую промышленность "
        "вместе: кластер малотоннажной химии ждёт партнёров.", "https://news.example/c")])
    assert third[0].story_id != first[0].story_id


@pytest.mark.parametrize(("url", "outlet"), [
    ("https://t.me/tomsk_news/1203", "t.me/tomsk_news"),
    ("https://t.me/s/Tomsk_News/1203", "t.me/tomsk_news"),
    ("https://telegram.me/tomsk_news/7", "t.me/tomsk_news"),
    ("https://vk.com/wall-12345_678", "vk.com/-12345"),
    ("https://m.vk.com/tomskgov?w=wall-1_2", "vk.com/tomskgov"),
    ("https://t.me/", "t.me"),
    ("https://www.tomsk.gov.ru/news/1", "tomsk.gov.ru"),
])
def test_channels_on_one_platform_are_outlets_of_their_own(url, outlet):
    from bot.dedup.outlets import outlet_of

    assert outlet_of(url, "feed") == outlet


PLANT_A = ("Томский завод «Сибкабель» запустил линию по выпуску огнестойкого кабеля для "
           "атомных станций. Вложения в проект составили 420 миллионов рублей, мощность линии "
           "— 3 тысячи километров кабеля в год, сообщили в пресс-службе предприятия.")
PLANT_B = ("На томском заводе «Сибкабель» заработала новая линия по выпуску огнестойкого "
           "кабеля для АЭС. Инвестиции — 420 млн рублей; линия выпустит до 3 тыс. км кабеля "
           "ежегодно, рассказал журналистам директор завода.")


@pytest.mark.parametrize(("second_channel", "joined"), [("tsk_biz", True), ("tomsk_news", False)])
async def test_telegram_channels_are_outlets_of_their_own(store, second_channel, joined):
    await store_archive(store)  # a background for the words' rarity
    first, _ = await process(store, [entry("", PLANT_A, "https://t.me/tomsk_news/10")])
    second, _ = await process(store, [entry("", PLANT_B, f"https://t.me/{second_channel}/77")])
    assert second[0].status == ("joined" if joined else "new_story")
    assert (second[0].story_id == first[0].story_id) is joined


async def test_different_events_with_shared_vocabulary_stay_apart(store):
    seeds = await store_seeds(store)
    # Mazur, Tomsk region, cooperation, industry: shared by the seeds, yet different events.
    assert len({s.story_id for s in seeds}) == 5
    other = ("Губернатор Томской области Владимир Мазур провёл заседание совета по "
             "инвестициям: обсуждали строительство нового детского сада в Северске, ремонт "
             "дорог и программу поддержки малого бизнеса в районах области. Решения совета "
             "вступят в силу с начала следующего года, сообщили в администрации.")
    (result,), _ = await process(store, [entry("Мазур провёл совет по инвестициям", other,
                                            "https://tomsk.example/council")])
    assert result.status == "new_story"
    assert result.story_id not in {s.story_id for s in seeds}


def test_follow_up_sharing_a_background_paragraph_is_not_a_reprint():
    background = ("Авторами поправки к законопроекту выступили депутаты Госдумы во главе со "
                  "спикером Вячеславом Володиным и главами всех фракций. Законопроект об "
                  "ограничении использования телефонов в школах внесли в Госдуму в июле.")
    a = fingerprint("Поправку внесли", "В Госдуму внесли поправку о запрете использования "
                    "телефонов в школах даже в образовательных целях, документ имеется в "
                    "распоряжении редакции.\n\n" + background)
    b = fingerprint("Поправку одобрили", "Комитет Госдумы по просвещению одобрил поправку о "
                    "запрете телефонов на уроках, следует из материалов заседания.\n\n"
                    + background)
    c = compare(a, b)
    assert c.containment >= 0.4 and not c.is_reprint


RIA = SHARED / "eval" / "ria_news_topics" / "ria_news_topics_9.csv"


@pytest.mark.skipif(not RIA.is_file(), reason="../shared not present")
async def test_a_busy_window_finds_the_story_through_the_search_index(store):
    """Over FULL_SCAN_MAX articles in the 72-hour window: candidates come from the stories
    sharing the rarest terms, and the same story is still found."""
    import csv

    from bot.dedup.stories import story_terms
    from bot.storage.index import FULL_SCAN_MAX, document_frequencies, story_candidates

    csv.field_size_limit(10**8)
    with RIA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:FULL_SCAN_MAX + 100]
    filler = [entry(r["title"], r["content"].replace("  ", "\n\n"),
                    f"https://ria.example/{i}", T0 - timedelta(hours=i % 48))
              for i, r in enumerate(rows)]
    await process(store, filler)
    seeds = await store_archive(store)
    terms = story_terms("Мазур предложил Узбекистану вместе развивать химию", SECOND_REPORT)
    async with store.db.read() as tx:
        _, df = await document_frequencies(tx, terms)
        candidates = await story_candidates(tx, T0 - timedelta(hours=72),
                                            T0 + timedelta(hours=72), 0, terms, df)
    assert 0 < len(candidates) < FULL_SCAN_MAX
    assert seeds[0].story_id in {c.story_id for c in candidates}
    (result,), _ = await process(store, [entry(
        "Мазур предложил Узбекистану вместе развивать химию", SECOND_REPORT,
        "https://news.example/mazur-uzbekistan")])
    assert result.status == "joined" and result.story_id == seeds[0].story_id


TEMPLATE = ("В {where} стартовал прием заявок на гранты для сельских кооперативов и фермеров. "
            "Получить до 30 миллионов рублей на развитие хозяйства смогут участники программы "
            "поддержки агропромышленного комплекса, сообщили в региональном министерстве "
            "сельского хозяйства. Заявки принимают до конца месяца, отбор проведет конкурсная "
            "комиссия, победителей объявят в декабре.")


async def test_one_press_release_template_for_two_regions_is_two_stories(store):
    await store_archive(store)
    (tomsk,), _ = await process(store, [entry(
        "Фермеры Томской области могут получить гранты до 30 млн рублей",
        TEMPLATE.format(where="Томской области"), "https://tomsk.example/grants")])
    (altai,), _ = await process(store, [entry(
        "Фермеры Алтайского края могут получить гранты до 30 млн рублей",
        TEMPLATE.format(where="Алтайском крае"), "https://barnaul.example/grants")])
    assert altai.status == "new_story" and altai.story_id != tomsk.story_id
    # The same region named by its capital in another outlet: the same story.
    (again,), _ = await process(store, [entry(
        "Томские фермеры могут получить гранты до 30 млн рублей",
        TEMPLATE.format(where="Томске").replace("сообщили в региональном министерстве",
                                                "рассказали в областном департаменте"),
        "https://news.example/tomsk-grants")])
    assert again.story_id == tomsk.story_id


@pytest.mark.parametrize(("text", "regions"), [
    ("Губернатор Томской области Владимир Мазур", {"Томская область"}),
    ("в Томске и Кузбассе", {"Томская область", "Кемеровская область"}),
    ("тревога в Николаевской и Кировоградской областях",
     {"николаевский область", "кировоградский область"}),
    ("в Свердловской области и Екатеринбурге", {"Свердловская область"}),
    ("Северский городской округ", set()),  # a town, not a region
    ("Узбекистан и Беларусь", set()),  # countries are no regions
])
def test_regions_a_text_is_set_in(text, regions):
    from bot.dedup.stories import regions_of, story_terms

    assert regions_of(story_terms(text, "")) == regions


def test_different_regions_needs_a_few_regions_on_each_side():
    from bot.dedup.stories import different_regions

    tomsk, altai = frozenset({"Томская область"}), frozenset({"Алтайский край"})
    assert different_regions(tomsk, altai)
    assert not different_regions(tomsk, tomsk | altai)
    assert not different_regions(tomsk, frozenset())  # a region on one side only
    many = frozenset({"Москва", "Санкт-Петербург", "Алтайский край", "Омская область"})
    assert not different_regions(tomsk, many)  # a round-up of regions is set in none
