"""Extractive summaries and key figures."""

from __future__ import annotations

import pytest

from bot.ingest.files import read_document
from bot.pipeline import prepare
from bot.understand.summary import split_sentences, summarize

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


def test_key_figures_of_the_seeds():
    clusters = summarize(*_title_text("002_269e617f711a39a0.txt"))
    assert "Общий объем инвестиций составит 7,9 миллиарда рублей" in clusters.key_figures
    assert "Планируемый объем инвестиций 15,6 миллиарда рублей" in clusters.key_figures
    belarus = summarize(*_title_text("004_a6db5da73fcefd32.txt"))
    assert any((f.endswith("вырос на 60%") and "товарооборот" not in f) or "Беларусью" in f
               for f in belarus.key_figures)
    assert "только экспорт увеличился на 30%" in belarus.key_figures
    asia = summarize(*_title_text("001_fdfe8873606b814a.txt"))
    assert any("60%" in f for f in asia.key_figures)
    # Every figure of the article is kept in the summary or the figures.
    for figure in ("60%", "30%"):
        assert figure in belarus.text or any(figure in f for f in belarus.key_figures)


def _title_text(name: str) -> tuple[str, str]:
    article = seed(name)
    return article.title, article.text


def test_years_dates_and_ordinals_are_not_figures():
    s = summarize("Итоги", "В 2024 году, 22 октября, регион занял 1-е место в рейтинге. "
                           "Совет прошел во второй раз.")
    assert s.key_figures == ()


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
