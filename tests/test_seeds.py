"""The five seed documents are stored as the article alone: no chrome, first and last sentences
as the outlets published them."""

from __future__ import annotations

import filecmp
from datetime import UTC, datetime

import pytest

from bot.ingest.files import read_document
from bot.pipeline import prepare

from conftest import SEEDS, SHARED

EXPECTED = {
    "000_a76abe04a6259da9.txt": dict(
        title="Владимир Мазур предложил узбекскому бизнесу развивать химическую промышленность "
              "вместе с Томской областью",
        date=datetime(2025, 10, 22, tzinfo=UTC),
        first="Губернатор Томской области Владимир Мазур предложил представителям Узбекистана "
              "совместно развивать химическую промышленность.",
        last="Вместе с учёными и производственниками готовимся к созданию химического "
             "промышленного кластера – уже четвёртого кластера в регионе\".",
        absent=[]),
    "001_fdfe8873606b814a.txt": dict(
        title="На азиатские страны приходится 60% томского экспорта",
        date=None,
        first="Губернатор Томской области Владимир Мазур, выступая на Центральноазиатской "
              "конференции международного клуба «Валдай», которая открылась в Национальном "
              "исследовательском Томском государственном университете отметил, что для Томска",
        # The outlet's own text stops mid-word; the article ends there, before the chrome.
        last="«Новая реальность и смена внешнеполитического курса, с одной стороны, подтверждает "
             "верность нашей исторической ориентации на Восток», – подчеркнул Владимир Мазу",
        absent=["Последние новости", "СибГМУ", "утечке газа", "день соседей"]),
    "002_269e617f711a39a0.txt": dict(
        title="Четыре промышленных кластера планируется создать в Томской области",
        date=None,
        first="Четыре промышленных кластера планируется создать в Томской области.",
        last="Прорабатывается вопрос о создании кластера «Микроэлектроника», в состав которого "
             "войдут ведущие предприятия радиоэлектроники, машиностроения и томские вузы.",
        absent=["Автор", "Алёна Штерн", "Поделиться", "gmail.com", "**", "##", "Телеграм",
                "Зеркала сайта", "Порекомендовать"]),
    "003_de51c27f7437c0f1.txt": dict(
        title="Татарстанский промышленный тандем: «Химград» и КИП «Мастер» - архитекторы новой "
              "индустриальной карты Узбекистана",
        date=None,
        first="Благодаря значительному вкладу Камского индустриального парка «Мастер» и "
              "Технополиса «Химград» сегодня сформирована полноценная сеть индустриальных парков "
              "с татарстанским участием в Узбекистане.",
        last="Такой опыт международного сотрудничества демонстрирует, как российские компетенции "
             "в области промышленной инфраструктуры становятся востребованными за рубежом.",
        absent=[]),
    "004_a6db5da73fcefd32.txt": dict(
        title="Томская область и Беларусь усилят сотрудничество в производственной и культурной "
              "сферах",
        date=None,
        first="Делегация от Томской области во главе с губернатором Владимиром Мазуром приняла "
              "участие в заседании, посвященном сотрудничеству региона и Беларуси.",
        last="Томский областной театр драмы будет развивать совместные культурные проекты с "
             "Национальным академическим театром имени Янки Купалы.",
        absent=["Источник фото", "Анализ", "×", "Последняя должность", "правообладателе",
                "Tomsk.ru"]),
}


def test_seeds_are_the_shared_documents_unchanged():
    names = sorted(p.name for p in SEEDS.iterdir())
    assert names == sorted(EXPECTED)
    if (SHARED / "seeds").is_dir():
        for name in names:
            assert filecmp.cmp(SEEDS / name, SHARED / "seeds" / name, shallow=False), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_is_stored_as_the_article_alone(name):
    want = EXPECTED[name]
    entries = read_document(SEEDS / name)
    assert len(entries) == 1
    article = prepare(entries[0])
    assert article is not None
    assert article.title == want["title"]
    assert article.published == want["date"]
    assert article.text.startswith(want["first"]), article.text[:200]
    assert article.text.endswith(want["last"]), article.text[-200:]
    for chrome in want["absent"]:
        assert chrome not in article.text, chrome
    # The headline is not repeated inside the body.
    assert want["title"] not in article.text.split("\n\n")[1:]


def test_truncated_teaser_line_is_dropped_when_the_full_paragraph_follows():
    article = prepare(read_document(SEEDS / "001_fdfe8873606b814a.txt")[0])
    assert article is not None
    assert article.text.count("Губернатор Томской области Владимир Мазур, выступая") == 1


def test_markdown_list_keeps_each_item_as_a_paragraph():
    article = prepare(read_document(SEEDS / "002_269e617f711a39a0.txt")[0])
    assert article is not None
    paragraphs = article.text.split("\n\n")
    assert any(p.startswith("В кластер «Лес, лесопереработка и лесохимия» войдут пять") for p in
               paragraphs)
    assert "Планируемый объем инвестиций – 15,6 миллиарда рублей." in article.text
