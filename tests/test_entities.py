"""People, organisations and places: natasha NER, nominative forms, place tags."""

from __future__ import annotations

import pytest

from bot.config import default_topics
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import prepare, process
from bot.understand.analyzer import Understanding
from bot.understand.entities import extract, normalize
from bot.understand.places import place_tag

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
])
def test_nominative(text, kind, expected):
    assert normalize(text, kind) == expected


def test_cities_stand_for_their_region_or_country():
    assert place_tag("Томск") == "Томская область"
    assert place_tag("Минск") == "Беларусь"
    assert place_tag("Ташкент") == "Узбекистан"
    assert place_tag("Казань") == "Татарстан"
    assert place_tag("Атлантида") is None


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
    assert result.understood.summary and result.understood.key_figures


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
