"""Main text of article pages: what pressbot keeps and what it leaves out.

The pages in tests/data are built from the seed press releases in the layouts Russian regional
sites use (a modern CMS page with sidebar, share buttons and an "about" block; a photo story; an
old table layout; a windows-1251 page without a charset declaration). They go through
`read_document` and `prepare`, the path of `pressbot ingest page.html`. The last tests read pages
of the article-extraction benchmark in ../shared/eval/extraction/aeb/ (set PRESSBOT_SHARED to
use another shared folder) and skip, saying so, when it is not there.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest

from bot.ingest.clean import clean_text
from bot.ingest.extract import extract_page, merge_runs, unwrap_layout_tables
from bot.ingest.files import read_document
from bot.models import Article
from bot.pipeline import prepare

from conftest import DATA, SHARED

AEB = Path(os.environ.get("PRESSBOT_SHARED") or SHARED) / "eval" / "extraction" / "aeb"


def ingest(name: str) -> Article:
    entries = read_document(DATA / name)
    assert len(entries) == 1
    article = prepare(entries[0])
    assert article is not None
    return article


def test_press_release_keeps_its_closing_paragraph_and_the_company_background():
    article = ingest("extract_press_release.html")
    assert article.title == ("Томская область и Беларусь усилят сотрудничество в производственной "
                             "и культурной сферах")
    assert article.published is not None and article.published.date().isoformat() == "2025-10-21"
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("Делегация от Томской области во главе с губернатором")
    # A paragraph whose markup starts with an empty <b> (favor_precision drops its text).
    assert any(p.startswith("Встреча завершилась подписанием соглашений.") for p in paragraphs)
    # The closing paragraph in a "news-bottom" block, the background in a bordered block.
    assert paragraphs[-2] == ("Томский областной театр драмы будет развивать совместные культурные "
                              "проекты с Национальным академическим театром имени Янки Купалы.")
    assert paragraphs[-1].startswith("О ТУСУРе. Томский государственный университет систем")
    assert len(paragraphs) == 7
    for chrome in ("Фото:", "пресс-служба администрации", "Поделиться", "ВКонтакте", "Теги",
                   "Последние новости", "СибГМУ", "©", "51-00-00", "Главная", "просмотров"):
        assert chrome not in article.text, chrome
    assert article.title not in paragraphs


def test_photo_credits_go_and_paragraphs_about_photographs_stay():
    article = ingest("extract_photo_exhibition.html")
    paragraphs = article.text.split("\n\n")
    assert paragraphs == [
        "В областном краеведческом музее открылась выставка «Сибирь в объективе», на которой "
        "представлены работы сорока фотографов из Томска, Новосибирска, Кемерова и Красноярска. "
        "Экспозиция займет два зала музея и продлится до конца января.",
        "Фотографии для выставки отбирало жюри из профессиональных фотографов и сотрудников "
        "музея: из более чем тысячи присланных снимков в экспозицию вошли сто двадцать.",
        "Фотографии разделены на три части: природа Сибири, старые сибирские города и портреты "
        "жителей региона. Отдельный стенд посвящен истории фотографии в Томске с конца XIX века.",
        "Фото выставки и расписание экскурсий опубликованы на сайте музея. Вход для школьников "
        "бесплатный по будним дням.",
    ]


def test_page_laid_out_in_a_table_gives_the_article_in_paragraphs_without_the_menu():
    article = ingest("extract_table_layout.html")
    seed = (Path(__file__).resolve().parent.parent / "seeds" / "000_a76abe04a6259da9.txt")
    seed_paragraphs = [p.strip() for p in seed.read_text(encoding="utf-8").split("\n\n")
                       if p.strip()][1:]
    paragraphs = article.text.split("\n\n")
    # Every paragraph of the release is a paragraph of the article, in order.
    found = [paragraphs.index(p) for p in seed_paragraphs]
    assert found == sorted(found) and len(found) == len(seed_paragraphs) == 9
    for chrome in ("Главная", "Документы", "Контакты", "Госуслуги", "©", "|"):
        assert chrome not in article.text, chrome


def test_layout_tables_become_blocks_and_data_tables_stay_tables():
    page = ("<html><body><table><tr><td><a href='/'>Меню</a></td><td><p>Первый абзац.</p>"
            "<p>Второй абзац.</p></td></tr></table>"
            "<table><tr><th>Год</th><th>Экспорт</th></tr><tr><td>2024</td><td>45%</td></tr>"
            "</table></body></html>")
    out = unwrap_layout_tables(page)
    assert out.count("<table") == 1 and "<th>Год</th>" in out
    assert "<td><p>" not in out and "<div><p>Первый абзац.</p>" in out
    plain = "<html><body><p>Без таблиц.</p></body></html>"
    assert unwrap_layout_tables(plain) is plain


def test_windows_1251_page_without_a_charset_declaration_reads_as_cyrillic():
    body = (DATA / "extract_cp1251.html").read_bytes()
    assert b"charset" not in body.lower()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    article = ingest("extract_cp1251.html")
    assert article.title.startswith("Татарстанский промышленный тандем: «Химград» и КИП «Мастер»")
    assert article.text.startswith("Благодаря значительному вкладу Камского индустриального парка")
    assert article.text.endswith("становятся востребованными за рубежом.")
    assert not re.search(r"[^\w\s.,:;!?«»\"'()%–—-]", article.text), "misread characters"


# --- the two trafilatura runs merged ------------------------------------------------------

PROSE = [f"Абзац номер {i} рассказывает о событии подробно и до конца." for i in range(8)]


def test_precise_text_is_taken_when_the_default_run_adds_nothing():
    assert merge_runs("\n".join(PROSE), "\n".join(PROSE)) == "\n".join(PROSE)


def test_default_run_is_taken_when_precision_finds_nothing_or_cuts_the_article():
    default = "\n".join(PROSE)
    assert merge_runs("", default) == default
    assert merge_runs("Перепечатка запрещена правообладателем.", default) == default
    # Repeated blocks of the default run are no text that precision lost.
    assert merge_runs("\n".join(PROSE[:5]), "\n".join(PROSE[:5] * 3)) == "\n".join(PROSE[:5])


def test_prose_between_and_right_after_the_precise_paragraphs_comes_back():
    long = [" ".join([p] * 4) for p in PROSE[:2]]
    default = "\n".join([
        "Заголовок страницы сайта", "Подзаголовок с кратким пересказом всей новости дня.",
        long[0], PROSE[2], "Промежуточный заголовок", PROSE[3], "- пункт списка ссылок тут.",
        long[1], PROSE[4], PROSE[5], "Последние новости", PROSE[6], long[0]])
    assert merge_runs("\n".join(long), default).split("\n") == [
        long[0], PROSE[2], PROSE[3], long[1], PROSE[4], PROSE[5]]


def test_precise_text_with_text_the_default_run_lacks_is_kept_as_it_is():
    precise = "\n".join([PROSE[0], "Абзац, которого нет в другом прогоне, и длинный.", PROSE[2]])
    assert merge_runs(precise, "\n".join(PROSE[:4])) == precise


def test_paragraphs_split_differently_are_not_repeated():
    precise = PROSE[0] + " " + PROSE[1]
    default = "\n".join([PROSE[0], PROSE[1], PROSE[2]])
    assert merge_runs(precise, default).split("\n") == [precise, PROSE[2]]


# --- cleaning rules: chrome goes, sentences that start like chrome stay ---------------------

@pytest.mark.parametrize("line", [
    "Фотографии участников конкурса можно посмотреть на сайте фестиваля.",
    "Фотография сделана в 1945 году и хранится в областном архиве.",
    "Фото выставки опубликованы на сайте музея.",
    "Фотограф Иван Петров снимал город сорок лет.",
    "Комментариев от представителей компании не поступило.",
    "Поделиться опытом в Томск приехали специалисты из Минска.",
    "Share prices fell 5% on Monday.",
    "Share this information, please?",
    "© Reuters",
    "press@example.ru",
])
def test_sentence_that_starts_like_chrome_stays(line):
    text = f"Первый абзац статьи.\n\n{line}\n\nПоследний абзац статьи."
    assert clean_text(text).split("\n\n") == ["Первый абзац статьи.", line,
                                              "Последний абзац статьи."]


@pytest.mark.parametrize("line", [
    "Фото: пресс-служба администрации Томской области", "Источник фото: пресс-служба АТО",
    "Фото из альбома", "Фото", "Фото.", "Share on Facebook", "Тел.: +7 (3822) 51-00-00",
])
def test_chrome_line_inside_the_article_is_dropped(line):
    text = f"Первый абзац статьи.\n\n{line}\n\nПоследний абзац статьи."
    assert clean_text(text).split("\n\n") == ["Первый абзац статьи.", "Последний абзац статьи."]


@pytest.mark.parametrize("line", ["Поделиться в соцсетях:", "Комментарии (3)",
                                  "Последние новости", "Автор: Алёна Штерн"])
def test_chrome_line_ends_the_article(line):
    text = f"Первый абзац статьи.\n\n{line}\n\nЧужая новость из ленты сайта."
    assert clean_text(text) == "Первый абзац статьи."


@pytest.mark.parametrize("title", ["Мост через Томь закроют на ремонт | Городские новости",
                                   "Мост через Томь закроют на ремонт - Tomsk.ru",
                                   "Мост через Томь закроют на ремонт :: Новости :: Сайт"])
def test_headline_repeated_in_the_body_goes_also_when_the_title_names_the_site(title):
    text = "Мост через Томь закроют на ремонт\n\nРемонт начнется в мае и продлится до осени."
    assert clean_text(text, title=title) == "Ремонт начнется в мае и продлится до осени."


# --- pages of the article-extraction benchmark --------------------------------------------

def _benchmark() -> tuple[dict, Path]:
    truth = AEB / "ground-truth.json"
    if not truth.is_file():
        pytest.skip(f"the article-extraction benchmark is not at {AEB} "
                    "(../shared beside the checkout, or set PRESSBOT_SHARED)")
    return json.loads(truth.read_text(encoding="utf-8")), AEB / "html"


def _page(prefix: str) -> tuple[str, str, str]:
    truth, html_dir = _benchmark()
    key = next(k for k in truth if k.startswith(prefix))
    with gzip.open(html_dir / f"{key}.html.gz", "rt", encoding="utf-8") as fh:
        return fh.read(), truth[key]["url"], truth[key]["articleBody"]


def _recall(truth: str, text: str) -> float:
    """Share of the truth's 4-grams of \\w+ tokens that the text has."""
    def grams(s: str) -> set[tuple[str, ...]]:
        t = re.findall(r"\w+", s)
        return {tuple(t[i:i + 4]) for i in range(max(1, len(t) - 3))}
    gold = grams(truth)
    return len(gold & grams(text)) / len(gold)


@pytest.mark.parametrize("prefix,why", [
    ("c00962aa", "an article laid out in a table (empty with tables off)"),
    ("f8ff621a", "favor_precision keeps only the reprint notice"),
])
def test_benchmark_page_that_precision_or_tables_lost_is_read_whole(prefix, why):
    html, url, truth = _page(prefix)
    entry = extract_page(html, url=url, origin=url)
    assert entry is not None, why
    assert _recall(truth, clean_text(entry.text, title=entry.title)) >= 0.95, why


@pytest.mark.parametrize("prefix", ["3c6d3381", "c4a3637c", "c82b3d1d", "ff0f958a"])
def test_russian_benchmark_page_keeps_its_closing_paragraph(prefix):
    html, url, truth = _page(prefix)
    entry = extract_page(html, url=url, origin=url)
    assert entry is not None
    text = clean_text(entry.text, title=entry.title)
    closing = [p for p in truth.split("\n") if len(p) > 40][-1]
    assert " ".join(re.findall(r"\w+", closing)) in " ".join(re.findall(r"\w+", text))
    assert _recall(truth, text) >= 0.95
