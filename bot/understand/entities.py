"""People, organisations and places with natasha's NER (its models ship in the wheel).

Spans are put in the nominative with pymorphy3 ("Томской области" -> "Томская область",
"Владимиром Мазуром" -> "Владимир Мазур"): each word takes its singular parse with a case
and is inflected, capitals kept; in names of places and organisations only the words up to the
head noun are inflected. A one-word place that pymorphy does not know as a geographical name
("Губернатор" at a sentence start) is dropped.

natasha imports pymorphy2, which needs pkg_resources; pymorphy3 stands in for it.
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

import pymorphy3

from bot.memory import release_free_memory
from bot.text.morph import analyzer
from bot.understand.places import place_tag

_CASED_POS = {"NOUN", "ADJF", "PRTF", "NUMR"}
_PERSON_TAGS = ("Name", "Surn", "Patr")


@dataclass(frozen=True)
class Entities:
    people: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # place tags (gazetteer), most mentioned first


@cache
def _models():
    sys.modules.setdefault("pymorphy2", pymorphy3)
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    embedding = NewsEmbedding()
    tagger = NewsNERTagger(embedding)
    # The tagger keeps navec's vectors (pq) but encodes words with its own vocabulary, so
    # navec's (250k words as Python strings, ~40 MB) is dead weight once the tagger is built.
    embedding.vocab = None
    gc.collect()
    release_free_memory()
    return Segmenter(), tagger


def preload() -> None:
    """Load the NER models now rather than on the first article."""
    _models()


@lru_cache(maxsize=100_000)
def _nominative(word: str, person: bool, gender: str | None = None) -> str:
    if not any("а" <= c <= "я" or c == "ё" for c in word.lower()) or (
            word.isupper() and len(word) > 1):
        return word  # Latin, numbers, abbreviations (ООО, КИП, ТУСУР) stay as written
    parses = [p for p in analyzer().parse(word.lower()) if p.tag.POS in _CASED_POS]
    if person:
        parses = [p for p in parses if any(t in p.tag for t in _PERSON_TAGS)] or parses
    singular = [p for p in parses if p.tag.number != "plur"]
    for p in singular or parses:
        wanted = {"nomn"}
        if gender and p.tag.POS in ("ADJF", "PRTF"):
            wanted |= {gender, "sing"}
        form = p.inflect(wanted)
        if form is not None:
            out = form.word
            break
    else:
        return word
    if word.isupper() and len(word) > 1:
        return out.upper()
    return out[0].upper() + out[1:] if word[0].isupper() else out


def _head(words: list[str]) -> tuple[int, str | None]:
    """Index and gender of the first noun of a name (its head), or (-1, None)."""
    for i, w in enumerate(words):
        if w.startswith("«") or not (w.isalpha() or "-" in w):
            break
        if w.isupper() and len(w) > 1:
            return i, None
        parses = analyzer().parse(w.lower())
        nouns = [p for p in parses if p.tag.POS == "NOUN"]
        if parses and parses[0].tag.POS == "NOUN":
            singular = [p for p in nouns if p.tag.number != "plur"] or nouns
            return i, singular[0].tag.gender
    return -1, None


def normalize(text: str, kind: str) -> str:
    """A span in the nominative. People: every word. Places and organisations: the words up
    to and including the head noun, adjectives agreeing with it; what follows ("Совет
    регионов", "университет систем управления") is a complement and stays as written."""
    words = text.split()
    if kind == "PER":
        name = " ".join("-".join(_nominative(part, True) for part in w.split("-"))
                        if w.isalpha() or "-" in w else w for w in words)
    else:
        head, gender = _head(words)
        if head < 0:
            return text
        inflected = ["-".join(_nominative(part, False, gender) for part in w.split("-"))
                     for w in words[:head + 1]]
        name = " ".join(inflected + words[head + 1:])
    if name.count("«") > name.count("»"):
        name += "»"
    return name


def _is_place_word(name: str) -> bool:
    return any("Geox" in p.tag for p in analyzer().parse(name.lower()))


def extract(title: str, text: str) -> Entities:
    from natasha import Doc

    segmenter, ner = _models()
    doc = Doc(f"{title}\n{text}")
    doc.segment(segmenter)
    doc.tag_ner(ner)
    found: dict[str, Counter] = {"PER": Counter(), "ORG": Counter(), "LOC": Counter()}
    for span in doc.spans:
        name = normalize(span.text.strip(), span.type)
        if len(name) < 2:
            continue
        if span.type == "LOC" and " " not in name and not (
                place_tag(name) or _is_place_word(name)):
            continue
        if span.type == "PER" and " " not in name and not any(
                t in p.tag for p in analyzer().parse(name.lower()) for t in _PERSON_TAGS):
            continue
        found[span.type][name] += 1
    places: Counter = Counter()
    for name, n in found["LOC"].items():
        tag = place_tag(name)
        if tag:
            places[tag] += n

    def ranked(counter: Counter) -> tuple[str, ...]:
        return tuple(name for name, _ in counter.most_common())

    return Entities(ranked(found["PER"]), ranked(found["ORG"]), ranked(found["LOC"]),
                    ranked(places))
