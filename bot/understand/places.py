"""Place tags: all 89 regions of Russia with their main cities, the CIS and neighbouring
countries with theirs, and a few macro-regions; each tag with its English name.

Keys are lower-case nominative forms as the normaliser produces them (ё as е); values are the tag
a subscriber chooses. A city maps to its region or country ("Минск" -> "Беларусь", "Сочи" ->
"Краснодарский край"). Names that are also common words or first names ("Владимир", "Орёл",
"Курган", "Грозный", "Киров", "Львов" whose lemma is "лев") count only when NER marks them as a
place (place_tag), never in the lemma scan of places_in, which runs without NER and knows no
case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache

PLACE_TAGS: dict[str, str] = {}  # name -> tag, for NER places (all aliases)
SCAN_TAGS: dict[str, str] = {}  # name -> tag, for the lemma scan (unambiguous aliases)
REGION_TAGS: set[str] = set()  # the regions of Russia among the tags (not countries)
ENGLISH: dict[str, str] = {}  # tag -> English name


def _key(name: str) -> str:
    return name.lower().replace("ё", "е")


def _add(tag: str, english: str, *aliases: str, ner_only: tuple[str, ...] = ()) -> None:
    ENGLISH[tag] = english
    for name in (tag, *aliases):
        PLACE_TAGS[_key(name)] = tag
        SCAN_TAGS[_key(name)] = tag
    for name in ner_only:
        PLACE_TAGS[_key(name)] = tag


def _region(tag: str, english: str, *aliases: str, ner_only: tuple[str, ...] = ()) -> None:
    _add(tag, english, *aliases, ner_only=ner_only)
    REGION_TAGS.add(tag)


# Countries: Russia, the CIS (and former members), neighbours and partners.
_add("Россия", "Russia", "российская федерация", "рф")
_add("Беларусь", "Belarus", "белоруссия", "республика беларусь", "минск", "гомель", "брест",
     "витебск", "гродно", "могилев")
_add("Казахстан", "Kazakhstan", "республика казахстан", "астана", "алматы", "алма-ата",
     "шымкент", "караганда", "павлодар", "усть-каменогорск", "актобе", "актау", "атырау")
_add("Узбекистан", "Uzbekistan", "республика узбекистан", "ташкент", "самарканд", "бухара",
     "навои", "чирчик", "наманган", "андижан", "фергана", "джизак", "нукус")
_add("Киргизия", "Kyrgyzstan", "кыргызстан", "киргизстан", "бишкек", "ош")
_add("Таджикистан", "Tajikistan", "душанбе", "худжанд")
_add("Туркмения", "Turkmenistan", "туркменистан", "ашхабад")
_add("Армения", "Armenia", "ереван", "гюмри")
_add("Азербайджан", "Azerbaijan", "баку", "гянджа")
_add("Молдавия", "Moldova", "молдова", "республика молдова", "кишинев", "тирасполь",
     "приднестровье", "гагаузия")
_add("Грузия", "Georgia", "тбилиси", "батуми", "кутаиси")
_add("Украина", "Ukraine", "киев", "харьков", "одесса", ner_only=("днепр", "львов"))
_add("Абхазия", "Abkhazia", "сухум", "сухуми")
_add("Южная Осетия", "South Ossetia", "цхинвал")
_add("Китай", "China", "кнр", "пекин", "шанхай", "харбин", "гуанчжоу", "урумчи")
_add("Монголия", "Mongolia", "улан-батор")
_add("Индия", "India", "нью-дели")
_add("Иран", "Iran", "тегеран")
_add("Турция", "Turkey", "анкара", "стамбул")
_add("ОАЭ", "UAE", "объединенные арабские эмираты", "дубай", "абу-даби")
_add("Вьетнам", "Vietnam", "ханой")
_add("Германия", "Germany", "берлин")
_add("США", "USA", "соединенные штаты", "вашингтон")
# Macro-regions.
_add("Центральная Азия", "Central Asia", "средняя азия")
_add("Сибирь", "Siberia", "западная сибирь", "восточная сибирь")
_add("Дальний Восток", "Russian Far East")
_add("Арктика", "Arctic")

# The 89 regions of Russia: 24 republics, 9 krais, 48 oblasts, 3 federal cities, 1 autonomous
# oblast, 4 autonomous okrugs; each with its capital and main cities.
_region("Адыгея", "Adygea", "республика адыгея", "майкоп")
_region("Республика Алтай", "Altai Republic", "горно-алтайск")
_region("Башкортостан", "Bashkortostan", "республика башкортостан", "башкирия", "уфа",
        "стерлитамак", "нефтекамск", ner_only=("салават",))
_region("Бурятия", "Buryatia", "республика бурятия", "улан-удэ")
_region("Дагестан", "Dagestan", "республика дагестан", "махачкала", "дербент", "хасавюрт",
        "каспийск")
_region("Ингушетия", "Ingushetia", "республика ингушетия", "магас", "назрань")
_region("Кабардино-Балкария", "Kabardino-Balkaria", "кабардино-балкарская республика",
        "кбр", "нальчик")
_region("Калмыкия", "Kalmykia", "республика калмыкия", "элиста")
_region("Карачаево-Черкесия", "Karachay-Cherkessia", "карачаево-черкесская республика", "кчр",
        "черкесск")
_region("Карелия", "Karelia", "республика карелия", "петрозаводск")
_region("Коми", "Komi Republic", "республика коми", "сыктывкар", "воркута", "ухта")
_region("Крым", "Crimea", "республика крым", "симферополь", "ялта", "керчь", "евпатория",
        "феодосия")
_region("Марий Эл", "Mari El", "республика марий эл", "йошкар-ола")
_region("Мордовия", "Mordovia", "республика мордовия", "саранск")
_region("Якутия", "Yakutia", "республика саха", "саха", "якутск", "нерюнгри",
        ner_only=("мирный",))
_region("Северная Осетия", "North Ossetia–Alania", "северная осетия-алания",
        "республика северная осетия", "владикавказ")
_region("Татарстан", "Tatarstan", "республика татарстан", "казань", "набережные челны",
        "нижнекамск", "альметьевск", "елабуга")
_region("Тыва", "Tuva", "тува", "республика тыва", "кызыл")
_region("Удмуртия", "Udmurtia", "удмуртская республика", "ижевск")
_region("Хакасия", "Khakassia", "республика хакасия", "абакан")
_region("Чечня", "Chechnya", "чеченская республика", ner_only=("грозный",))
_region("Чувашия", "Chuvashia", "чувашская республика", "чебоксары")
_region("ДНР", "Donetsk People's Republic", "донецкая народная республика", "донецк",
        "мариуполь", "макеевка", "горловка")
_region("ЛНР", "Luhansk People's Republic", "луганская народная республика", "луганск",
        "алчевск")
_region("Алтайский край", "Altai Krai", "барнаул", "бийск", "рубцовск", ner_only=("алтай",))
_region("Забайкальский край", "Zabaykalsky Krai", "забайкалье", "чита")
_region("Камчатский край", "Kamchatka Krai", "камчатка", "петропавловск-камчатский")
_region("Краснодарский край", "Krasnodar Krai", "кубань", "краснодар", "сочи", "новороссийск",
        "армавир", "анапа", "геленджик")
_region("Красноярский край", "Krasnoyarsk Krai", "красноярск", "норильск", "ачинск", "таймыр")
_region("Пермский край", "Perm Krai", "прикамье", "пермь", "березники")
_region("Приморский край", "Primorsky Krai", "приморье", "владивосток", "уссурийск",
        ner_only=("находка",))
_region("Ставропольский край", "Stavropol Krai", "ставрополье", "ставрополь", "пятигорск",
        "кисловодск", "ессентуки", "невинномысск")
_region("Хабаровский край", "Khabarovsk Krai", "хабаровск", "комсомольск-на-амуре")
_region("Амурская область", "Amur Oblast", "приамурье", "благовещенск")
_region("Архангельская область", "Arkhangelsk Oblast", "архангельск", "северодвинск")
_region("Астраханская область", "Astrakhan Oblast", "астрахань")
_region("Белгородская область", "Belgorod Oblast", "белгород", "старый оскол")
_region("Брянская область", "Bryansk Oblast", "брянск")
_region("Владимирская область", "Vladimir Oblast", ner_only=("владимир", "ковров", "муром"))
_region("Волгоградская область", "Volgograd Oblast", "волгоград", ner_only=("волжский",))
_region("Вологодская область", "Vologda Oblast", "вологда", "череповец")
_region("Воронежская область", "Voronezh Oblast", "воронеж")
_region("Запорожская область", "Zaporizhzhia Oblast", "мелитополь", "бердянск", "энергодар",
        "запорожье")
_region("Ивановская область", "Ivanovo Oblast", "иваново")
_region("Иркутская область", "Irkutsk Oblast", "приангарье", "иркутск", "братск", "ангарск")
_region("Калининградская область", "Kaliningrad Oblast", "калининград")
_region("Калужская область", "Kaluga Oblast", "калуга", "обнинск")
_region("Кемеровская область", "Kemerovo Oblast", "кузбасс", "кемерово", "новокузнецк",
        "прокопьевск")
_region("Кировская область", "Kirov Oblast", ner_only=("киров",))
_region("Костромская область", "Kostroma Oblast", "кострома")
_region("Курганская область", "Kurgan Oblast", "зауралье", ner_only=("курган",))
_region("Курская область", "Kursk Oblast", "курск")
_region("Ленинградская область", "Leningrad Oblast", "ленобласть", "гатчина", "выборг")
_region("Липецкая область", "Lipetsk Oblast", "липецк")
_region("Магаданская область", "Magadan Oblast", "магадан", "колыма")
_region("Московская область", "Moscow Oblast", "подмосковье", "балашиха", "химки", "подольск",
        "мытищи", "люберцы", "красногорск", "одинцово", ner_only=("королев",))
_region("Мурманская область", "Murmansk Oblast", "мурманск")
_region("Нижегородская область", "Nizhny Novgorod Oblast", "нижний новгород", "дзержинск")
_region("Новгородская область", "Novgorod Oblast", "великий новгород")
_region("Новосибирская область", "Novosibirsk Oblast", "новосибирск", "бердск")
_region("Омская область", "Omsk Oblast", "омск")
_region("Оренбургская область", "Orenburg Oblast", "оренбуржье", "оренбург", "орск")
_region("Орловская область", "Oryol Oblast", "орловщина", ner_only=("орел",))
_region("Пензенская область", "Penza Oblast", "пенза")
_region("Псковская область", "Pskov Oblast", "псков")
_region("Ростовская область", "Rostov Oblast", "ростов-на-дону", "ростов", "таганрог",
        "волгодонск", "новочеркасск", ner_only=("шахты",))
_region("Рязанская область", "Ryazan Oblast", "рязань")
_region("Самарская область", "Samara Oblast", "самара", "тольятти", "сызрань")
_region("Саратовская область", "Saratov Oblast", "саратов", "балаково", ner_only=("энгельс",))
_region("Сахалинская область", "Sakhalin Oblast", "сахалин", "южно-сахалинск", "курилы")
_region("Свердловская область", "Sverdlovsk Oblast", "екатеринбург", "нижний тагил",
        "каменск-уральский")
_region("Смоленская область", "Smolensk Oblast", "смоленск")
_region("Тамбовская область", "Tambov Oblast", "тамбов")
_region("Тверская область", "Tver Oblast", "тверь")
_region("Томская область", "Tomsk Oblast", "томск", "северск", "стрежевой", "асино",
        "колпашево")
_region("Тульская область", "Tula Oblast", "тула", "новомосковск")
_region("Тюменская область", "Tyumen Oblast", "тюмень", "тобольск")
_region("Ульяновская область", "Ulyanovsk Oblast", "ульяновск", "димитровград")
_region("Херсонская область", "Kherson Oblast", "херсон", "геническ", "новая каховка")
_region("Челябинская область", "Chelyabinsk Oblast", "челябинск", "магнитогорск", "златоуст",
        "миасс")
_region("Ярославская область", "Yaroslavl Oblast", "ярославль", "рыбинск")
_region("Москва", "Moscow")
_region("Санкт-Петербург", "Saint Petersburg", "петербург", "спб", ner_only=("питер",))
_region("Севастополь", "Sevastopol")
_region("Еврейская автономная область", "Jewish Autonomous Oblast", "еао", "биробиджан")
_region("Ненецкий автономный округ", "Nenets Autonomous Okrug", "нао", "нарьян-мар")
_region("Ханты-Мансийский автономный округ", "Khanty-Mansi Autonomous Okrug", "хмао", "югра",
        "ханты-мансийск", "сургут", "нижневартовск", "нефтеюганск")
_region("Чукотский автономный округ", "Chukotka Autonomous Okrug", "чукотка", "анадырь")
_region("Ямало-Ненецкий автономный округ", "Yamalo-Nenets Autonomous Okrug", "янао", "ямал",
        "салехард", "новый уренгой", "ноябрьск")


def place_tag(name: str) -> str | None:
    """The tag of a place NER found (in the nominative), or None."""
    return PLACE_TAGS.get(_key(name))


def place_name(tag: str, lang: str = "ru") -> str:
    """A place tag as the reader's language names it: the tag itself in Russian, its English
    name after /lang en (a tag the gazetteer does not know stays as it is)."""
    return ENGLISH.get(tag, tag) if lang == "en" else tag


MAX_WORDS = max(len(name.split()) for name in SCAN_TAGS)


@cache
def _lemma_keys() -> tuple[dict[tuple[str, ...], str], frozenset[str]]:
    """The aliases as lemma tuples, and the lemmas they begin with."""
    from bot.text.morph import lemma, words

    keys = {tuple(lemma(w) for w in words(name)): tag for name, tag in SCAN_TAGS.items()}
    return keys, frozenset(k[0] for k in keys)


def places_in(lemmas: Sequence[str]) -> tuple[str, ...]:
    """Place tags named in a text, by lemma n-grams against the gazetteer ("Томской области"
    and "в Томске" both give "Томская область"), most mentioned first. Used when NER is off."""
    keys, first = _lemma_keys()
    counts: Counter[str] = Counter()
    i = 0
    while i < len(lemmas):
        if lemmas[i] not in first:
            i += 1
            continue
        for n in range(min(MAX_WORDS, len(lemmas) - i), 0, -1):
            tag = keys.get(tuple(lemmas[i:i + n]))
            if tag:
                counts[tag] += 1
                i += n - 1
                break
        i += 1
    return tuple(tag for tag, _ in counts.most_common())
