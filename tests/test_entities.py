"""People, organisations and places: natasha NER, nominative forms, place tags."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.config import default_topics
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import prepare, process
from bot.text.morph import lemmas
from bot.understand.analyzer import Understanding
from bot.understand.entities import (
    abbreviates,
    extract,
    merge_organizations,
    merge_people,
    normalize,
)
from bot.understand.places import PLACE_TAGS, REGION_TAGS, place_name, place_tag, places_in

from conftest import SEEDS, fetch_rows

SEED_PLACES = {
    "000_a76abe04a6259da9.txt": {"Узбекистан", "Томская область"},
    "001_fdfe8873606b814a.txt": {"Центральная Азия", "Монголия", "Китай", "Томская область"},
    "002_269e617f711a39a0.txt": {"Томская область"},
    "003_de51c27f7437c0f1.txt": {"Узбекистан", "Татарстан"},
    "004_a6db5da73fcefd32.txt": {"Беларусь", "Томская область"},
}


@pytest.mark.parametrize("name", sorted(SEED_PLACES))
def test_seed_places(name):
    article = prepare(read_document(SEEDS / name)[0])
    assert SEED_PLACES[name] <= set(extract(article.title, article.text).places)


def test_people_and_organisations_of_the_belarus_visit():
    article = prepare(read_document(SEEDS / "004_a6db5da73fcefd32.txt")[0])
    e = extract(article.title, article.text)
    assert {"Владимир Мазур", "Сергей Масляк", "Александр Лукашенко"} <= set(e.people)
    assert "Томский областной театр драмы" in e.organizations
    assert "Минск" in e.locations
    # ТУСУР, "ТУСУРа" and its full name are one organisation.
    tusur = [o for o in e.organizations if "систем управления" in o or "тусур" in o.lower()]
    assert tusur == ["Томский государственный университет систем управления и радиоэлектроники"]


def test_no_verb_phrases_and_no_generic_words_as_organisations():
    article = prepare(read_document(SEEDS / "000_a76abe04a6259da9.txt")[0])
    orgs = extract(article.title, article.text).organizations
    assert "Совет регионов" in orgs
    assert not [o for o in orgs if o.split()[-1] in ("проходит", "работает")]
    assert "Совет" not in orgs


def test_a_name_cut_at_the_end_of_a_text_is_no_name():
    article = prepare(read_document(SEEDS / "001_fdfe8873606b814a.txt")[0])
    assert article.text.rstrip().endswith("Владимир Мазу")  # the seed stops mid-word
    assert extract(article.title, article.text).people == ("Владимир Мазур",)


def test_parks_named_with_their_quoted_name_are_one():
    article = prepare(read_document(SEEDS / "003_de51c27f7437c0f1.txt")[0])
    orgs = extract(article.title, article.text).organizations
    assert sum("Мастер" in o for o in orgs) == 1  # КИП «Мастер» = Камский индустриальный ...
    assert sum("Химград" in o for o in orgs) == 1  # «Химград» = Технополис «Химград»
    assert "Технополис" not in orgs and "Мастер" not in orgs


def test_organisations_merge_by_normal_form():
    text = ("Компания «СибХимСинтез» открыла новый цех. Директор Сибхимсинтеза Иван Петров "
            "рассказал, что СИБХИМСИНТЕЗ и ООО «СибХимСинтез» — одно предприятие. Студенты "
            "Томского государственного университета систем управления и радиоэлектроники "
            "(ТУСУР) пришли на практику; в ТУСУРе и в Тусуре этим гордятся.")
    merged = merge_organizations(Counter({
        "Компания «СибХимСинтез»": 1, "Сибхимсинтез": 1, "СИБХИМСИНТЕЗ": 1,
        "ООО «СибХимСинтез»": 1,
        "Томский государственный университет систем управления и радиоэлектроники": 1,
        "ТУСУР": 2, "Тусура": 1, "Томский областной театр драмы": 1}))
    assert merged == Counter({
        "Компания «СибХимСинтез»": 4,
        "Томский государственный университет систем управления и радиоэлектроники": 4,
        "Томский областной театр драмы": 1})
    orgs = extract("Новый цех", text).organizations
    assert len([o for o in orgs if "химсинтез" in o.lower()]) <= 1
    assert len([o for o in orgs if "тусур" in o.lower() or "систем управления" in o]) <= 1


@pytest.mark.parametrize("short,full,expected", [
    ("ТУСУР", "Томский государственный университет систем управления и радиоэлектроники", True),
    ("КИП", "Камский индустриальный парк «Мастер»", True),
    ("ТГУ", "Томский государственный университет", True),
    ("ТПУ", "Томский государственный университет", False),
    ("МГУ", "Томский государственный университет", False),
])
def test_abbreviations(short, full, expected):
    assert abbreviates(short, full) is expected


def test_people_merge_surnames_and_cut_names():
    assert merge_people(Counter({"Владимир Мазур": 3, "Мазур": 2, "Владимир Маз": 1,
                                 "Сергей Масляк": 1})) == Counter({"Владимир Мазур": 6,
                                                                   "Сергей Масляк": 1})


@pytest.mark.parametrize("text,kind,expected", [
    ("Томской области", "LOC", "Томская область"),
    ("Томскую область", "LOC", "Томская область"),
    ("Республики Узбекистан", "LOC", "Республика Узбекистан"),
    ("Беларусью", "LOC", "Беларусь"),
    ("Владимиром Мазуром", "PER", "Владимир Мазур"),
    ("Анастасии Суворовой", "PER", "Анастасия Суворова"),
    ("Камского индустриального парка «Мастер»", "ORG", "Камский индустриальный парк «Мастер»"),
    ("Совете регионов", "ORG", "Совет регионов"),
    ("ООО «Томские мебельные фасады»", "ORG", "ООО «Томские мебельные фасады»"),
    ("ТУСУРа", "ORG", "ТУСУР"),
])
def test_nominative(text, kind, expected):
    assert normalize(text, kind) == expected


def test_cities_stand_for_their_region_or_country():
    assert place_tag("Томск") == "Томская область"
    assert place_tag("Минск") == "Беларусь"
    assert place_tag("Ташкент") == "Узбекистан"
    assert place_tag("Казань") == "Татарстан"
    assert place_tag("Сочи") == "Краснодарский край"
    assert place_tag("Нижний Новгород") == "Нижегородская область"
    assert place_tag("Кишинёв") == "Молдавия"
    assert place_tag("Атлантида") is None


def test_the_gazetteer_covers_all_89_regions_and_the_cis():
    assert len(REGION_TAGS) == 89
    for region in ("Адыгея", "Якутия", "Чечня", "ДНР", "ЛНР", "Крым", "Севастополь",
                   "Запорожская область", "Херсонская область", "Еврейская автономная область",
                   "Чукотский автономный округ", "Ненецкий автономный округ",
                   "Забайкальский край", "Калининградская область"):
        assert region in REGION_TAGS
    for country in ("Азербайджан", "Армения", "Беларусь", "Казахстан", "Киргизия", "Молдавия",
                    "Россия", "Таджикистан", "Узбекистан", "Туркмения"):
        assert place_tag(country) == country and country not in REGION_TAGS
    # Every region is found by the lemma scan from its own name in a case.
    for region in REGION_TAGS:
        assert region in places_in(lemmas(f"Новости: {region}")), region


def test_ambiguous_names_count_only_as_ner_places():
    found = places_in(lemmas("Владимир Мазур и Лев Толстой видели орла над курганом; "
                             "грозный вид."))
    assert found == ()
    assert place_tag("Владимир") == "Владимирская область"  # when NER says it is a place
    assert place_tag("Грозный") == "Чечня"


def test_every_place_tag_has_an_english_name():
    for tag in set(PLACE_TAGS.values()):
        english = place_name(tag, "en")
        assert (english and english.isascii()) or "–" in english, tag
        assert place_name(tag, "ru") == tag
    assert place_name("Томская область", "en") == "Tomsk Oblast"
    assert place_name("Беларусь", "en") == "Belarus"
    assert place_name("Атлантида", "en") == "Атлантида"


@pytest.mark.parametrize("text", ["", "Коротко.", "Only English: Tomsk and Minsk.",
                                  "1 2 3 4 5 6 7 8 9 10 20 30 40 50 60 70 80 90 100"])
def test_odd_texts_do_not_fail(text):
    e = extract("", text)
    assert isinstance(e.places, tuple)


async def test_entities_are_stored_for_filters(store):
    understanding = Understanding(default_topics())
    entry = read_document(SEEDS / "004_a6db5da73fcefd32.txt")[0]
    (result,), _ = await process(store, [entry], understanding=understanding)
    rows = await fetch_rows(store, "SELECT kind, name FROM article_entities WHERE article_id = ?",
                             (result.article.id,))
    stored = {(r["kind"], r["name"]) for r in rows}
    assert {("place", "Беларусь"), ("place", "Томская область"),
            ("person", "Владимир Мазур")} <= stored
    shown = " ".join([result.understood.summary or "", *result.understood.key_figures])
    assert "60%" in shown and "30%" in shown


async def test_ner_can_be_turned_off(store):
    understanding = Understanding(default_topics(), ner=False)
    (result,), _ = await process(store, [Entry(title="Мазур в Минске", text="Губернатор Томской "
                                            "области Владимир Мазур посетил Минск.",
                                            origin="t")], understanding=understanding)
    entities = result.understood.entities
    assert entities.people == () and entities.organizations == ()
    # Places still come from the gazetteer, by lemma: "Минске" is Беларусь.
    assert entities.places == ("Беларусь", "Томская область")


@pytest.mark.parametrize("name", sorted(SEED_PLACES))
def test_seed_places_without_ner(name):
    article = prepare(read_document(SEEDS / name)[0])
    understood = Understanding(default_topics(), ner=False)(article.title, article.text)
    assert SEED_PLACES[name] <= set(understood.entities.places)


def test_the_taggers_viterbi_finds_slovnets_own_paths():
    """bot/understand/viterbi.py decodes the NER tagger's CRF; on the seeds' texts (whole,
    and cut into short and one-token pieces) its paths are the ones slovnet's decoder finds."""
    from slovnet.exec.infer import text_words
    from slovnet.exec.model import CRF

    from bot.understand import nlp

    infer = nlp.ner().infer
    crf = infer.model.head.crf
    texts = [read_document(p)[0].text for p in sorted(SEEDS.glob("*.txt"))]
    texts += [t[:200] for t in texts] + ["Томск"]
    batches = 0
    for text in texts:
        for batch in infer.encoder([text_words(text)]):
            emissions = infer.model(batch.word_id, batch.shape_id, batch.pad_mask)
            ours = crf.decode(emissions, ~batch.pad_mask)
            theirs = CRF.decode(crf, emissions, ~batch.pad_mask)
            assert len(ours) == len(theirs)
            for a, b in zip(ours, theirs, strict=True):
                assert a.tolist() == b.tolist()
            batches += 1
    assert batches >= len(texts)
