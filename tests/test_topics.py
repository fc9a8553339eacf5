"""Topic tags: the configured taxonomy matched by lemma, with evidence, never on one mention."""

from __future__ import annotations

import json

import pytest

from bot.config import ConfigError, TopicConfig, default_topics, load_settings
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import prepare, process
from bot.text.morph import lemmas
from bot.understand import learned
from bot.understand.analyzer import Understanding
from bot.understand.learned import LearnedClass, Scored, default_model, features
from bot.understand.topics import Tagger, decide

from conftest import SEEDS, fetch_one

TAGGER = Tagger(default_topics())
# What a reader would tag each seed with (expected), what would be wrong (never), and the tag that
# must come first.
SEED_TOPICS = {
    "000_a76abe04a6259da9.txt": ({"chemistry", "industry_investment"},
                                 {"metals"}, "chemistry"),  # rare-earth metals: one mention
    "001_fdfe8873606b814a.txt": ({"trade"}, {"science_education"}, "trade"),  # a venue
    "002_269e617f711a39a0.txt": ({"industry_investment", "metals", "forestry", "chemistry",
                                  "microelectronics"}, {"culture"}, "industry_investment"),
    "003_de51c27f7437c0f1.txt": ({"industry_investment"}, {"metals", "culture"},
                                 "industry_investment"),
    "004_a6db5da73fcefd32.txt": ({"trade", "industry_investment", "microelectronics", "culture",
                                  "science_education"}, {"metals"}, "trade"),
}


def test_default_taxonomy_has_the_expected_ids():
    ids = {t.id for t in default_topics()}
    assert {"trade", "chemistry", "microelectronics", "forestry", "metals", "machinery",
            "science_education", "culture", "industry_investment", "agriculture_food",
            "medicine", "it_digital", "energy", "transport_logistics"} <= ids
    assert all(t.name_ru and t.name_en and t.terms for t in default_topics())


@pytest.mark.parametrize("name", sorted(SEED_TOPICS))
def test_seed_topics(name):
    expected, never, first = SEED_TOPICS[name]
    article = prepare(read_document(SEEDS / name)[0])
    tags = TAGGER.tag(article.title, article.text)
    ids = {t.id for t in tags}
    assert expected <= ids
    assert not never & ids
    assert tags[0].id == first
    assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)
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


def test_overlapping_matches_count_once_and_the_longest_wins():
    found = Tagger(default_topics(), learned=False).lexicon(
        "Кластер", "Запущен кластер по редкоземельным металлам и производство диоксида титана.")
    assert [t for _, t in found["metals"][1]] == ["редкоземельный металл"]  # not титан
    assert "диоксид титана" in [t for _, t in found["chemistry"][1]]


def test_a_name_the_title_announces_counts_as_the_title():
    text = ("Губернатор провел совещание с руководителями региона. Участники обсудили планы на "
            "следующий год, сроки и ответственных за каждое направление работы. Глава региона "
            "поручил подготовить документы к концу месяца и доложить о ходе работы на "
            "следующем совещании, которое пройдет в администрации области. Кроме того, "
            "обсуждались вопросы благоустройства и ремонта дорог в районах и городах.\n\n"
            "В регионе создадут кластер «Микроэлектроника». В него войдут предприятия "
            "радиоэлектроники и вузы.")
    tags = {t.id for t in Tagger(default_topics(), learned=False).tag(
        "Новый кластер создадут в регионе", text)}
    assert "microelectronics" in tags
    assert "microelectronics" not in {t.id for t in Tagger(default_topics(), learned=False).tag(
        "Итоги недели", text)}


def test_the_shipped_model_reads_economy():
    model = default_model()
    assert model is not None and [c.name for c in model.classes] == ["economy"]
    economy = model.score(lemmas("Центробанк повысил ключевую ставку: инфляция и рост цен "
                                 "ускорились, рубль ослаб, банки подняли ставки по кредитам."))
    culture = model.score(lemmas("В театре прошла премьера спектакля: актеры и режиссер вышли "
                                 "на поклон, зрители аплодировали стоя."))
    assert economy["economy"].probability > 0.8 > 0.2 > culture["economy"].probability
    assert set(economy["economy"].evidence) & {"инфляция", "ставка", "кредит", "рост", "цена"}


def test_names_dates_and_numbers_are_not_features():
    assert features(["путин", "москва", "октябрь", "2023", "15.6", "инфляция", "и"]) == [
        "инфляция"]


ECONOMY = LearnedClass("economy", 0.0, {}, frozenset({"trade", "economy_finance"}),
                       "economy_finance", keep_at=0.5, add_at=0.8, strong=10.0)
WEAK_TRADE = {"trade": (5.0, [(3.0, "экспорт"), (2.0, "поставка")], False, False)}


def test_a_weak_lexicon_tag_needs_the_class_to_agree():
    taxonomy = {"trade", "economy_finance", "culture"}
    doubt = {"economy": Scored(0.3, ("рынок",))}
    assert decide(WEAK_TRADE, doubt, [ECONOMY], taxonomy) == []
    agree = decide(WEAK_TRADE, {"economy": Scored(0.6, ("рынок",))}, [ECONOMY], taxonomy)
    assert [(t.id, t.terms) for t in agree] == [("trade", ("экспорт", "поставка"))]
    assert agree[0].score == pytest.approx(5.0 * 1.1)  # weighted by how sure the class is
    strong = {"trade": (12.0, [(6.0, "экспорт"), (6.0, "поставка")], True, True)}
    assert [t.id for t in decide(strong, doubt, [ECONOMY], taxonomy)] == ["trade"]
    # Topics the class does not vouch for keep the lexicon's decision.
    culture = {"culture": (5.0, [(3.0, "театр"), (2.0, "спектакль")], False, False)}
    assert [t.id for t in decide(culture, doubt, [ECONOMY], taxonomy)] == ["culture"]


def test_a_sure_class_adds_its_topic_with_the_words_that_decided():
    sure = {"economy": Scored(0.93, ("инфляция", "ставка"))}
    tags = decide({}, sure, [ECONOMY], {"trade", "economy_finance"})
    assert [(t.id, t.terms) for t in tags] == [("economy_finance", ("инфляция", "ставка"))]
    assert tags[0].score < 4  # after the lexicon's own tags
    # Not when the lexicon already tagged one of its topics, nor outside the taxonomy.
    both = decide(WEAK_TRADE, sure, [ECONOMY], {"trade", "economy_finance"})
    assert [t.id for t in both] == ["trade"]
    assert decide({}, sure, [ECONOMY], {"trade"}) == []


def test_a_side_remark_does_not_tag():
    found = {"trade": (12.0, [(6.0, "экспорт"), (6.0, "товарооборот")], True, True),
             "science_education": (4.0, [(2.0, "университет"), (2.0, "наука")], False, False)}
    assert [t.id for t in decide(found, {}, [], set(found))] == ["trade"]
    titled = dict(found, science_education=(4.0, [(3.0, "университет"), (1.0, "наука")], True,
                                            False))
    assert [t.id for t in decide(titled, {}, [], set(found))] == ["trade", "science_education"]


def test_without_the_model_file_the_lexicon_works_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(learned, "MODEL_FILE", tmp_path / "missing.json")
    learned.default_model.cache_clear()
    try:
        tagger = Tagger(default_topics())
        assert tagger.model is None
        article = prepare(read_document(SEEDS / "001_fdfe8873606b814a.txt")[0])
        assert tagger.tag(article.title, article.text)[0].id == "trade"
    finally:
        learned.default_model.cache_clear()
