"""Place tags: countries, macro-regions and Russian regions, with the cities that stand for them.

Keys are lower-case nominative forms as the normaliser produces them; values are the tag a
subscriber chooses. A city maps to its region or country ("Минск" -> "Беларусь").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache

PLACE_TAGS: dict[str, str] = {}
REGION_TAGS: set[str] = set()  # the regions of Russia among the tags (not countries)


def _add(tag: str, *aliases: str) -> None:
    for name in (tag, *aliases):
        PLACE_TAGS[name.lower().replace("ё", "е")] = tag


def _region(tag: str, *aliases: str) -> None:
    _add(tag, *aliases)
    REGION_TAGS.add(tag)


# Countries.
_add("Россия", "российская федерация", "рф")
_add("Узбекистан", "республика узбекистан", "ташкент", "самарканд", "навои", "чирчик")
_add("Беларусь", "белоруссия", "республика беларусь", "минск", "гомель", "брест")
_add("Казахстан", "республика казахстан", "астана", "алматы", "павлодар")
_add("Киргизия", "кыргызстан", "бишкек")
_add("Таджикистан", "душанбе")
_add("Туркмения", "туркменистан", "ашхабад")
_add("Китай", "кнр", "пекин", "шанхай", "харбин")
_add("Монголия", "улан-батор")
_add("Армения", "ереван")
_add("Азербайджан", "баку")
_add("Грузия", "тбилиси")
_add("Индия", "нью-дели")
_add("Иран", "тегеран")
_add("Турция", "анкара", "стамбул")
_add("ОАЭ", "объединенные арабские эмираты", "дубай")
_add("Вьетнам", "ханой")
_add("Германия", "берлин")
_add("США", "соединенные штаты", "вашингтон")
# Macro-regions.
_add("Центральная Азия", "средняя азия")
_add("Сибирь", "западная сибирь", "восточная сибирь")
_add("Дальний Восток")
_add("Арктика")
# Russian regions and their capitals.
_region("Томская область", "томск", "северск", "стрежевой", "асино", "колпашево")
_region("Новосибирская область", "новосибирск")
_region("Кемеровская область", "кузбасс", "кемерово", "новокузнецк")
_region("Омская область", "омск")
_region("Тюменская область", "тюмень")
_region("Алтайский край", "барнаул")
_region("Красноярский край", "красноярск")
_region("Иркутская область", "иркутск")
_region("Свердловская область", "екатеринбург")
_region("Челябинская область", "челябинск")
_region("Ханты-Мансийский автономный округ", "хмао", "югра", "ханты-мансийск", "сургут")
_region("Ямало-Ненецкий автономный округ", "янао", "салехард")
_region("Татарстан", "республика татарстан", "казань", "набережные челны", "нижнекамск")
_region("Башкортостан", "республика башкортостан", "башкирия", "уфа")
_region("Москва")
_region("Московская область", "подмосковье")
_region("Санкт-Петербург", "петербург")
_region("Ленинградская область")


def place_tag(name: str) -> str | None:
    return PLACE_TAGS.get(name.lower().replace("ё", "е"))


MAX_WORDS = max(len(name.split()) for name in PLACE_TAGS)


@cache
def _lemma_keys() -> dict[tuple[str, ...], str]:
    from bot.text.morph import lemma, words

    return {tuple(lemma(w) for w in words(name)): tag for name, tag in PLACE_TAGS.items()}


def places_in(lemmas: Sequence[str]) -> tuple[str, ...]:
    """Place tags named in a text, by lemma n-grams against the gazetteer ("Томской области"
    and "в Томске" both give "Томская область"), most mentioned first. Used when NER is off."""
    keys = _lemma_keys()
    counts: Counter[str] = Counter()
    i = 0
    while i < len(lemmas):
        for n in range(min(MAX_WORDS, len(lemmas) - i), 0, -1):
            tag = keys.get(tuple(lemmas[i:i + n]))
            if tag:
                counts[tag] += 1
                i += n - 1
                break
        i += 1
    return tuple(tag for tag, _ in counts.most_common())
