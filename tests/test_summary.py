"""Extractive summaries and key figures."""

from __future__ import annotations

import pytest

from bot.ingest.files import read_document
from bot.pipeline import prepare
from bot.understand.summary import names, numbers, split_sentences, summarize

from conftest import SEEDS

SEED_NAMES = sorted(p.name for p in SEEDS.iterdir())


def seed(name: str):
    return prepare(read_document(SEEDS / name)[0])


@pytest.mark.parametrize("name", SEED_NAMES)
def test_summary_is_whole_sentences_in_order_within_the_limit(name):
    article = seed(name)
    summary = summarize(article.title, article.text)
    sentences = split_sentences(article.text)
    assert 1 <= len(summary.sentences) <= 3
    assert len(summary.text) <= 350
    positions = [sentences.index(s) for s in summary.sentences]  # each is a whole sentence
    assert positions == sorted(positions)
    for chrome in ("Фото", "Источник", "Подписывайтесь", "Последние новости", "Анализ"):
        assert chrome not in summary.text


def test_the_summary_adds_to_the_title():
    for name in SEED_NAMES:
        article = seed(name)
        s = summarize(article.title, article.text, parse=True)
        new_names = names(s.text + " " + " ".join(s.key_figures)) - names(article.title)
        new_numbers = numbers(s.text + " " + " ".join(s.key_figures)) - numbers(article.title)
        assert new_names or new_numbers, name


def test_a_lead_that_restates_the_title_gives_way():
    # "Четыре промышленных кластера планируется создать в Томской области." is the title again.
    clusters = summarize(*_title_text("002_269e617f711a39a0.txt"))
    assert not clusters.text.startswith("Четыре промышленных кластера")
    assert "«Лес, лесопереработка и лесохимия»" in clusters.text  # which clusters


@pytest.mark.parametrize("name", ["000_a76abe04a6259da9.txt", "001_fdfe8873606b814a.txt",
                                  "004_a6db5da73fcefd32.txt"])
def test_the_lead_stays_when_it_carries_who_and_what(name):
    article = seed(name)
    assert summarize(article.title, article.text).sentences[0] == split_sentences(
        article.text)[0]


def test_novel_sentences_beat_repeats():
    title = "В Томске открыли новый завод"
    text = ("В Томске открыли новый завод. В Томске новый завод открыли сегодня. "
            "Инвестор — компания «Сибирь-Пласт» Ивана Петрова, вложившая 2 млрд рублей.")
    s = summarize(title, text, max_chars=100)
    assert s.text == "Инвестор — компания «Сибирь-Пласт» Ивана Петрова, вложившая 2 млрд рублей."


def test_a_sentence_cut_inside_a_quotation_is_not_chosen():
    text = ("Губернатор подписал соглашение с компанией о строительстве завода в регионе.\n\n"
            "«Считаю основным достижением совместной работы — завершение подготовки.\n\n"
            "Это та программа, которую мы предложили», — сказал он.")
    s = summarize("Соглашение подписано", text)
    assert "«Считаю" not in s.text


def _title_text(name: str) -> tuple[str, str]:
    article = seed(name)
    return article.title, article.text


def test_a_shorter_limit_is_respected():
    article = seed("000_a76abe04a6259da9.txt")
    short = summarize(article.title, article.text, max_chars=150)
    assert len(short.text) <= 150 or len(short.sentences) == 1


def test_chrome_sentence_is_never_chosen():
    text = ("Фото: пресс-служба администрации Томской области, все права защищены.\n\n"
            "Губернатор провёл совещание с руководителями химических предприятий региона.\n\n"
            "Подписывайтесь на наш канал в Telegram, чтобы узнавать новости первыми.")
    s = summarize("Губернатор провёл совещание", text)
    assert s.text == "Губернатор провёл совещание с руководителями химических предприятий региона."


@pytest.mark.parametrize("text", ["", "Коротко.", "Only English text here, no Cyrillic at all.",
                                  "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23",
                                  "15,6 млрд рублей. 60%. 1 000 000 тонн. 3.5 кв. м. 7 раз."])
def test_odd_texts_do_not_fail(text):
    s = summarize("Заголовок", text)
    assert len(s.text) <= 350 or len(s.sentences) == 1
