"""Topic tags: the configured taxonomy matched by lemma, with evidence, never on one mention."""

from __future__ import annotations

import json

import pytest

from bot.config import ConfigError, TopicConfig, default_topics, load_settings
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import prepare, process
from bot.understand.analyzer import Understanding
from bot.understand.topics import Tagger

from conftest import SEEDS, fetch_one

TAGGER = Tagger(default_topics())
SEED_TOPICS = {
    "000_a76abe04a6259da9.txt": {"chemistry", "industry_investment"},
    "001_fdfe8873606b814a.txt": {"trade", "science_education"},
    "002_269e617f711a39a0.txt": {"industry_investment", "metals", "forestry", "chemistry"},
    "003_de51c27f7437c0f1.txt": {"industry_investment"},
    "004_a6db5da73fcefd32.txt": {"trade", "microelectronics", "culture", "science_education"},
}


def test_default_taxonomy_has_the_expected_ids():
    ids = {t.id for t in default_topics()}
    assert {"trade", "chemistry", "microelectronics", "forestry", "metals", "machinery",
            "science_education", "culture", "industry_investment", "agriculture_food",
            "medicine", "it_digital", "energy", "transport_logistics"} <= ids
    assert all(t.name_ru and t.name_en and t.terms for t in default_topics())


@pytest.mark.parametrize("name", sorted(SEED_TOPICS))
def test_seed_topics(name):
    article = prepare(read_document(SEEDS / name)[0])
    tags = TAGGER.tag(article.title, article.text)
    assert SEED_TOPICS[name] <= {t.id for t in tags}
    for t in tags:
        assert t.terms and t.score >= 4


def test_chemistry_by_inflected_phrase_in_the_title():
    tags = TAGGER.tag("Развитие химической промышленности обсудили в Томской области",
                      "Участники совещания обсудили развитие химической промышленности региона "
                      "и новые производства.")
    chem = next(t for t in tags if t.id == "chemistry")
    assert "химическая промышленность" in chem.terms


def test_one_passing_mention_does_not_tag():
    text = ("Томская команда выиграла хоккейный турнир в Новосибирске. Матч завершился со счетом "
            "3:2, решающую шайбу забросил нападающий в третьем периоде. Тренер похвалил "
            "вратаря. Спонсором турнира выступила химическая компания. Следующая игра пройдет в "
            "субботу на домашней арене, болельщиков ждут конкурсы и розыгрыши призов.")
    assert "chemistry" not in {t.id for t in TAGGER.tag("Томичи выиграли турнир по хоккею",
                                                        text)}


def test_exclude_masks_overlapping_matches():
    text = ("В школах области пройдут уроки физической культуры на свежем воздухе. Учителя "
            "физической культуры получат новый инвентарь, а физическая культура станет "
            "любимым предметом, надеются в департаменте.")
    tags = {t.id for t in TAGGER.tag("Уроки физической культуры вынесут на улицу", text)}
    assert "culture" not in tags


@pytest.mark.parametrize("title,text", [
    ("", ""), ("Коротко", "Одно предложение."), ("English only", "No Cyrillic at all here."),
    ("Цифры", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 3.14 2,71 100% 1 000 000"),
])
def test_odd_texts_do_not_fail(title, text):
    assert TAGGER.tag(title, text) == []


def test_topics_config_is_validated(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("""
[[topics]]
id = "Bad Id"
name_ru = "Плохой"
name_en = "Bad"
terms = ["x"]
[[topics]]
id = "empty"
name_ru = "Пусто"
name_en = "Empty"
terms = []
[[topics]]
id = "ok"
name_ru = "Хорошо"
terms = ["слово", 5]
""", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    text = "\n".join(info.value.problems)
    assert "topics[0].id: must be lower-case letters" in text
    assert "topics[1].terms: must be a list of non-empty strings" in text
    assert "topics[2].name_en: is required" in text
    assert "topics[2].terms: must be a list of non-empty strings" in text


def test_a_config_without_topics_gets_the_default_taxonomy(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[database]\npath = 'x.db'\n", encoding="utf-8")
    assert load_settings(path, env={}).topics == default_topics()


async def test_topics_are_stored_with_their_evidence(store):
    understanding = Understanding([TopicConfig("chem", "Химия", "Chemistry",
                                                ("химия", "химический", "реагент"))])
    (result,), _ = await process(store, [Entry(
        title="Химический кластер", text="Химический кластер займется химией и реагентами. "
        "Химия станет точкой роста.", url="https://x.example/1", origin="t")],
        understanding=understanding)
    assert [t.id for t in result.topics] == ["chem"]
    row = await fetch_one(store, "SELECT topic_id, terms FROM article_topics WHERE article_id = ?",
                            (result.article.id,))
    assert row["topic_id"] == "chem"
    assert set(json.loads(row["terms"])) == {"химия", "химический", "реагент"}
