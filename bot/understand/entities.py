"""People, organisations and places with natasha's NER (its models ship in the wheel).

Spans are put in the nominative with pymorphy3 ("Томской области" -> "Томская область",
"Владимиром Мазуром" -> "Владимир Мазур"): each word takes its singular parse with a case
and is inflected, capitals kept; in names of places and organisations only the words up to the
head noun are inflected. A one-word place that pymorphy does not know as a geographical name
("Губернатор" at a sentence start) is dropped.

The models load through bot/understand/nlp.py.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.text.morph import analyzer, lemma
from bot.understand import nlp
from bot.understand.places import place_tag

_CASED_POS = {"NOUN", "ADJF", "PRTF", "NUMR"}
_INFLECTED_ABBREVIATION = re.compile(r"([А-ЯЁ]{2,8})(?:а|у|ом|е|ы|ов|ам|ами|ах)")
_PERSON_TAGS = ("Name", "Surn", "Patr")


@dataclass(frozen=True)
class Entities:
    people: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # place tags (gazetteer), most mentioned first


def preload() -> None:
    """Load the NER models now rather than on the first article (the syntax model of the key
    figures still loads on the first figure)."""
    nlp.ner()


@lru_cache(maxsize=100_000)
def _nominative(word: str, person: bool, gender: str | None = None) -> str:
    if not any("а" <= c <= "я" or c == "ё" for c in word.lower()) or (
            word.isupper() and len(word) > 1):
        return word  # Latin, numbers, abbreviations (ООО, КИП, ТУСУР) stay as written
    inflected = _INFLECTED_ABBREVIATION.fullmatch(word)
    if inflected:
        return inflected.group(1)  # "ТУСУРа" -> "ТУСУР"
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


_LEGAL_FORMS = frozenset("""ооо оао зао пао ао нао нко ано фгуп гуп муп ип ук пк тоо чп
фгбу фгбоу фгуп гк компания группа корпорация концерн холдинг фирма""".split())
_FUNCTION_WORDS = frozenset("и по имени им для при на в с of the and".split())
_QUOTED_AFTER = re.compile(r"\s«[^«»\n]{1,60}»")
_CUT_END = re.compile(r"[.!?…»\"')\]]\s*$")
_VERBISH = frozenset({"VERB", "INFN", "GRND", "PRTS"})
_NAME_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn", "Abbr", "Trad")


def _words_of(name: str) -> list[str]:
    return re.findall(r"[\w-]+", name.replace("ё", "е"))


def org_key(name: str) -> tuple[str, ...]:
    """The normal form of an organisation's name: lemmas, without quotes, case and legal form
    ("Компания «СибХимСинтез»" and "Сибхимсинтез" are one)."""
    words = [w.lower() for w in _words_of(name)]
    core = [w for w in words if w not in _LEGAL_FORMS] or words
    return tuple(lemma(w) for w in core)


def _quoted_key(name: str) -> tuple[str, ...] | None:
    """The normal form of the quoted part of a name ("КИП «Мастер»" -> ("мастер",))."""
    m = re.search(r"«([^«»]+)»|\"([^\"]+)\"", name)
    return org_key(m.group(1) or m.group(2)) if m else None


def _abbreviation(name: str) -> str | None:
    """"ТУСУР", "ТУСУРа" -> "ТУСУР"; None for other names."""
    m = re.fullmatch(r"([А-ЯЁA-Z]{2,8})[а-яё]{0,3}", name)
    return m.group(1) if m else None


def _initials(name: str) -> str:
    return "".join(w[0].upper() for w in _words_of(name) if w.lower() not in _FUNCTION_WORDS
                   and w[0].isalpha())


def abbreviates(short: str, full: str) -> bool:
    """Whether an abbreviation stands for a name: its letters, in order, begin words of the
    name, the first word's among them ("ТУСУР": Томский государственный Университет Систем
    Управления и Радиоэлектроники; "КИП": Камский Индустриальный Парк)."""
    initials = _initials(re.sub(r"«[^«»]*»", "", full))
    if len(initials) < 2 or not short or short[0] != initials[0]:
        return False
    if len(short) < 0.6 * len(initials) or len(short) > len(initials):
        return False
    j = 0
    for c in initials:
        if j < len(short) and c == short[j]:
            j += 1
    return j == len(short) and short[-1] in initials[-2:]


def merge_organizations(counts: Counter) -> Counter:
    """Organisations counted once per normal form: the same words up to case, quotes and legal
    form; the same quoted name; an abbreviation and the full name it stands for, and its
    inflected spellings ("ТУСУРа", "Тусура"). Each keeps its longest written form."""
    names = list(counts)
    parent = {n: n for n in names}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    by_key: dict[tuple[str, ...], str] = {}
    for n in names:
        for key in (org_key(n), _quoted_key(n)):
            if key:
                if key in by_key:
                    union(n, by_key[key])
                else:
                    by_key[key] = n
    abbreviations = {n: a for n in names if (a := _abbreviation(n))}
    for n, short in abbreviations.items():
        for other in names:
            if other == n:
                continue
            low = other.lower()
            if (" " in other and abbreviates(short, other)) or (
                    " " not in other and low.startswith(short.lower())
                    and len(low) - len(short) <= 3):
                union(n, other)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(find(n), []).append(n)
    out: Counter = Counter()
    for members in groups.values():
        best = max(members, key=lambda m: (len(m.split()), len(m), counts[m]))
        out[best] = sum(counts[m] for m in members)
    return out


def merge_people(counts: Counter) -> Counter:
    """People counted once: a surname alone joins the full name it ends ("Мазур" and "Владимир
    Мазур"), and a name cut short ("Владимир Маз") the one it begins."""
    out: Counter = Counter()
    names = sorted(counts, key=lambda n: -len(n.split()))
    for n in names:
        words = n.split()
        home = n
        for full in out:
            fw = full.split()
            surname = len(words) == 1 and len(fw) > 1 and fw[-1] == words[0]
            cut = (len(words) == len(fw) and words[:-1] == fw[:-1] and words[-1] != fw[-1]
                   and fw[-1].startswith(words[-1]))
            if surname or cut:
                home = full
                break
        out[home] += counts[n]
    return out


def _trim(words: list[str]) -> list[str]:
    """A name without the verb NER sometimes takes along ("Совета проходит")."""
    while len(words) > 1 and not words[-1].endswith("»") and words[-1].isalpha() and (
            analyzer().parse(words[-1].lower())[0].tag.POS in _VERBISH):
        words = words[:-1]
    return words


def _generic(word: str) -> bool:
    """A single common noun ("Совет", "Мастер", "Технополис") names no one organisation."""
    if not word.isalpha() or (word.isupper() and len(word) > 1):
        return False
    morph = analyzer()
    parses = morph.parse(word.lower())
    return bool(parses) and morph.word_is_known(word.lower()) and parses[0].tag.POS == "NOUN" \
        and not any(t in parses[0].tag for t in _NAME_TAGS)


def extract(title: str, text: str) -> Entities:
    full = f"{title}\n{text}"
    # A text that stops mid-sentence may stop mid-word: a name touching its end may be cut.
    end = len(full.rstrip()) if not _CUT_END.search(full) else len(full) + 1
    # The tagger tokenises the text itself; natasha's Doc would segment it once more only to
    # place spans in sentences, which nothing here reads.
    spans = nlp.ner()(full).spans if full.strip() else []
    found: dict[str, Counter] = {"PER": Counter(), "ORG": Counter(), "LOC": Counter()}
    covered = 0  # the end of the last span taken with the quoted name after it
    for span in spans:
        if span.stop >= end or span.start < covered:
            continue
        raw = full[span.start:span.stop].strip()
        quoted = _QUOTED_AFTER.match(full, span.stop) if span.type == "ORG" else None
        if quoted and "«" not in raw:  # "Технополиса «Химград»" is one name, not two
            raw += quoted.group(0)
            covered = quoted.end()
        words = _trim(raw.split())
        name = normalize(" ".join(words), span.type)
        if len(name) < 2:
            continue
        if span.type == "LOC" and " " not in name and not (
                place_tag(name) or _is_place_word(name)):
            continue
        if span.type == "PER" and " " not in name and not any(
                t in p.tag for p in analyzer().parse(name.lower()) for t in _PERSON_TAGS):
            continue
        if span.type == "ORG" and " " not in name and _generic(name):
            continue
        found[span.type][name] += 1
    places: Counter = Counter()
    for name, n in found["LOC"].items():
        tag = place_tag(name)
        if tag:
            places[tag] += n

    def ranked(counter: Counter) -> tuple[str, ...]:
        return tuple(name for name, _ in counter.most_common())

    return Entities(ranked(merge_people(found["PER"])),
                    ranked(merge_organizations(found["ORG"])), ranked(found["LOC"]),
                    ranked(places))
