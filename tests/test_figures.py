"""Key figures as facts: what is measured, the amount with its unit, the change."""

from __future__ import annotations

import pytest

from bot.ingest.files import read_document
from bot.pipeline import prepare
from bot.understand.analyzer import Understanding
from bot.understand.figures import key_figures
from bot.understand.summary import paragraph_sentences, summarize

from conftest import SEEDS

# The figures a reader would list for each seed (with syntax), and amounts that must not be
# listed (the title's own, or no figure at all).
READER = {
    "000_a76abe04a6259da9.txt": (
        ["порядка 40 производственных и инжиниринговых химических компаний",
         "в прошлом году запущено 15 новых производств"],
        ["2035", "22 октября", "1-е"]),
    "001_fdfe8873606b814a.txt": (
        ["доля стран Центральной Азии в нашем товарообороте – почти 45%",
         "экспорт в Центральную Азию из Томской области вырос почти на 18%"],
        ["60%"]),  # the title's figure
    "002_269e617f711a39a0.txt": (
        ["кластер «Лес, лесопереработка и лесохимия» войдут пять организаций",
         "кластер «Лес, лесопереработка и лесохимия»: общий объем инвестиций составит 7,9 "
         "миллиарда рублей",
         "кластер «Цветные и редкоземельные металлы»: планируемый объем инвестиций – 47 "
         "миллиардов рублей",
         "«Химический кластер»: планируемый объем инвестиций – 15,6 миллиарда рублей"],
        ["Четыре", "2024", "2026"]),
    "003_de51c27f7437c0f1.txt": (
        ["ключевые проекты созданы в трех областях Узбекистана",
         "масштабный проект площадью 180 тысяч квадратных метров",
         "технопарк «Чирчик»: там уже 27 резидентов"],
        []),
    "004_a6db5da73fcefd32.txt": (
        ["товарооборот между Томской областью и Беларусью вырос на 60%",
         "только экспорт увеличился на 30%"],
        ["2024 года"]),
}


def _seed(name: str):
    article = prepare(read_document(SEEDS / name)[0])
    pairs = paragraph_sentences(article.text)
    return article, [s for s, _ in pairs], [p for _, p in pairs]


@pytest.mark.parametrize("name", sorted(READER))
def test_the_figures_a_reader_would_list(name):
    article, sentences, paragraphs = _seed(name)
    figures = key_figures(article.title, sentences, paragraph_of=paragraphs, parse=True)
    expected, never = READER[name]
    for phrase in expected:
        assert any(phrase in f for f in figures), (phrase, figures)
    for amount in never:
        assert not any(amount in f for f in figures), (amount, figures)
    assert len(figures) == len(set(figures))
    for f in figures:
        assert len(f) <= 160 and f == f.strip() and f.count("«") == f.count("»")


def test_the_title_subject_comes_first():
    article, sentences, paragraphs = _seed("004_a6db5da73fcefd32.txt")
    figures = key_figures(article.title, sentences, paragraph_of=paragraphs, parse=True)
    assert "Беларусью" in figures[0]  # the title: Томская область и Беларусь ...


@pytest.mark.parametrize("name", sorted(READER))
def test_without_syntax_every_amount_is_still_found(name):
    article, sentences, paragraphs = _seed(name)
    figures = key_figures(article.title, sentences, paragraph_of=paragraphs, parse=False)
    for phrase in READER[name][0]:
        amount = next(w for w in phrase.split() if w[0].isdigit() or w in (
            "пять", "трех"))
        assert any(amount in f for f in figures), (amount, figures)


def test_one_amount_said_twice_is_one_figure():
    article, sentences, paragraphs = _seed("000_a76abe04a6259da9.txt")
    figures = key_figures(article.title, sentences, paragraph_of=paragraphs, parse=True)
    assert sum("40" in f for f in figures) == 1  # the text says it twice


@pytest.mark.parametrize("parse", [True, False])
def test_numbers_in_words_count(parse):
    figures = key_figures("Итоги года", [
        "В регионе работает около сорока химических предприятий.",
        "За год открыто полтора десятка новых производств.",
        "Выручка выросла в 2 раза, инвестиции составят 15,6 млрд рублей."], parse=parse)
    assert any("около сорока химических предприятий" in f for f in figures)
    assert any("полтора десятка новых производств" in f for f in figures)
    assert any("выручка выросла в 2 раза" in f for f in figures)
    assert any("15,6 млрд рублей" in f for f in figures)


@pytest.mark.parametrize("parse", [True, False])
def test_years_dates_times_ordinals_and_spans_of_time_are_not_figures(parse):
    assert key_figures("Итоги", [
        "В 2024 году, 22 октября, регион занял 1-е место в рейтинге.",
        "Совет прошел во второй раз, в ближайшие два года планов много.",
        "Заседание начнется в 14:00 по адресу: ул. Ленина, 5.",
        "Одна из компаний и обе стороны подписали несколько соглашений."], parse=parse) == []


def test_figures_do_not_repeat_the_summary():
    article = prepare(read_document(SEEDS / "004_a6db5da73fcefd32.txt")[0])
    understood = Understanding((), ner=True)(article.title, article.text)
    summary = understood.summary or ""
    for figure in understood.key_figures:
        for amount in ("60%", "30%"):
            assert not (amount in figure and amount in summary)
    sentences = [s for s, _ in paragraph_sentences(article.text)]
    trade = next(i for i, s in enumerate(sentences) if "60%" in s)
    assert key_figures(article.title, sentences, skip=[trade], parse=True) == []


@pytest.mark.parametrize("text", ["", "Коротко.", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                                  "15,6 млрд рублей. 60%. 1 000 000 тонн. 3.5 кв. м. 7 раз.",
                                  "Сто " * 200 + "рублей.", "а" * 5000 + " 5 тонн"])
def test_odd_texts_do_not_fail(text):
    for parse in (True, False):
        figures = summarize("Заголовок", text, parse=parse).key_figures
        assert all(len(f) <= 161 for f in figures)
