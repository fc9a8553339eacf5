"""Key figures as facts: what is measured, the amount with its unit, and the change.

"товарооборот между Томской областью и Беларусью вырос на 60%", "порядка 40 химических
компаний", "планируемый объем инвестиций – 15,6 миллиарда рублей". An amount is a number in
digits or words ("четыре кластера", "около сорока", "полтора десятка") with the noun it counts
or its unit (%, рублей, тонн ...) and scale (млрд, тысяч ...); years, dates, times, ordinals and
spans of time ("два года") are not figures.

With syntax (natasha's NewsSyntaxParser, run only on the sentences that hold an amount) the
phrase is the clause the amount belongs to, pruned to its core: the verb that governs it with
its subject, object, negation and a time frame ("за полгода"), or the noun it qualifies
("проект площадью 180 тысяч квадратных метров"), or the subject of a nominal predicate ("объем
инвестиций – 15,6 млрд рублей"); relative and subordinate clauses are left out. Without syntax
(`[understanding] ner = false`: no models are loaded) the words before the amount in its clause
stand in for the governing clause.

A figure whose subject is generic ("объем инвестиций") takes the name the paragraph gives to the
thing the title announces ("кластер «Цветные и редкоземельные металлы»: ..."), or to the place a
"там" points to. Figures that repeat the title or the summary, and repeats of one amount, are
dropped; the figures about the title's subject come first, the others in text order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.text.morph import analyzer, lemma
from bot.understand.entities import normalize

# The quick test used by topic weights (digits with a unit or scale).
_NUMBER = r"\d{1,3}(?:[\s\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE_RE = r"(?:триллион\w*|миллиард\w*|миллион\w*|тысяч\w*|трлн|млрд|млн|тыс\.?)"
_UNIT_RE = (r"(?:%|процент\w*|руб(?:\.|л\w*)?|₽|долл(?:\.|ар\w*)?|\$|евро|€|юан\w*|сум\w*|"
            r"тонн\w*|т\b|кг|килограмм\w*|км|километр\w*|кв\.\s?м|квадратн\w+ метр\w*|м2|га\b|"
            r"гектар\w*|кубометр\w*|куб\.\s?м|мвт|гвт|квт\w*|человек|сотрудник\w*|рабоч\w+ мест\w*|"
            r"предприяти\w*|компани\w*|организаци\w*|резидент\w*|"
            r"мест\w*|единиц\w*|штук\w*|литр\w*|баррел\w*)")
FIGURE = re.compile(
    rf"(?P<num>{_NUMBER})\s*(?P<scale>{_SCALE_RE})?\s*(?P<unit>{_UNIT_RE})?", re.IGNORECASE)


def stated_figure(sentence: str) -> bool:
    """Whether a sentence states an amount in digits with its unit or scale (a quick test)."""
    return bool(_DIGIT.search(sentence)) and any(
        m.group("scale") or m.group("unit") for m in FIGURE.finditer(sentence))


MAX_FIGURES = 8
MAX_PARSED = 6  # sentences parsed per article
MAX_TOKENS = 60  # longer sentences are not parsed (the window stands in)
MAX_WORDS = 16  # words in one figure
MAX_CHARS = 160

SCALES = frozenset("тысяча тыс миллион млн миллиард млрд триллион трлн сотня десяток".split())
UNITS = frozenset("""% процент рубль руб ₽ доллар долл $ евро € юань сум тонна т кг килограмм км
километр метр м м2 кв гектар га кубометр мвт гвт квт квт·ч литр баррель штука единица раз балл
пункт градус""".split())
TIME_NOUNS = frozenset("""год полгода месяц день неделя час минута секунда квартал век сутки
десятилетие полугодие""".split())
MONTHS = frozenset("""январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь
декабрь янв фев мар апр июн июл авг сен сент окт ноя дек""".split())
_NOT_AMOUNTS = frozenset({"один", "оба", "обе", "несколько"})
_WORD_VALUES = {w: v for v, ws in {
    1.5: "полтора", 2: "два двое", 3: "три трое", 4: "четыре четверо", 5: "пять пятеро",
    6: "шесть шестеро", 7: "семь семеро", 8: "восемь", 9: "девять", 10: "десять",
    11: "одиннадцать", 12: "двенадцать", 13: "тринадцать", 14: "четырнадцать",
    15: "пятнадцать", 16: "шестнадцать", 17: "семнадцать", 18: "восемнадцать",
    19: "девятнадцать", 20: "двадцать", 30: "тридцать", 40: "сорок", 50: "пятьдесят",
    60: "шестьдесят", 70: "семьдесят", 80: "восемьдесят", 90: "девяносто", 100: "сто",
    200: "двести", 300: "триста", 400: "четыреста", 500: "пятьсот", 600: "шестьсот",
    700: "семьсот", 800: "восемьсот", 900: "девятьсот"}.items() for w in ws.split()}
_SCALE_VALUES = {"тысяча": 1e3, "тыс": 1e3, "миллион": 1e6, "млн": 1e6, "миллиард": 1e9,
                 "млрд": 1e9, "триллион": 1e12, "трлн": 1e12, "сотня": 100, "десяток": 10}
_NUMBER_THEN = re.compile(r"\d+(?:[.,]\d+)?(?:-[а-яё]+)?\s*(\S*)")
_WHEN_WORD = re.compile(r"(?:год|лет|месяц|недел|дн|сут|час|минут|секунд|квартал|век|январ|"
                        r"феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|"
                        r"декабр|янв|фев|мар|апр|авг|сен|окт|ноя|дек)", re.IGNORECASE)
_NUMBER_WORD_IN = re.compile(r"\b(?:дв|тр|четыр|пят|шест|сем|восем|девят|десят|сорок|сто|"
                             r"ста\b|сот|двест|девяност|полтор|\w+надцат)\w*", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"(?:дв|тр|четыр|пят|шест|сем|восем|девят|десят|надцат|сорок|сто|"
                          r"ста\b|сот|двест|девяност|полтор)", re.IGNORECASE)
_TOKEN = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?![\d])|\d+(?:[.,]\d+)?"
                    r"(?:-[а-яё]+)?|[а-яёa-z]+(?:[-'][а-яёa-z0-9]+)*|\S", re.IGNORECASE)
_QUOTES = "«»\"“”„"
_DIGIT = re.compile(r"\d")
_KEEP_IN_ARGUMENT = frozenset({"amod", "nummod", "nummod:gov", "nummod:entity", "case", "det",
                               "flat", "flat:name", "flat:foreign", "fixed", "compound", "nmod",
                               "cc", "conj", "appos", "advmod"})
_ARGUMENTS = ("nsubj", "nsubj:pass", "obj", "iobj", "obl", "obl:agent", "xcomp")
_AUX = frozenset({"aux", "aux:pass", "cop", "expl"})
_ANAPHORS = frozenset({"там", "здесь", "туда", "сюда"})
_VERB_POS = frozenset({"VERB", "INFN", "PRTS", "PRTF", "GRND", "PRED"})


class Token:
    __slots__ = ("_lemma", "end", "head", "rel", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self.head = -1  # index of the head token, -1 for the root
        self.rel = ""
        self._lemma: str | None = None

    @property
    def lemma(self) -> str:
        if self._lemma is None:
            low = self.text.lower().replace("ё", "е")
            self._lemma = lemma(low) if low[0].isalpha() else low
        return self._lemma


@dataclass(frozen=True)
class Figure:
    text: str
    key: tuple  # the amount, for duplicates: (value, scale, unit)
    sentence: int  # index of its sentence
    words: frozenset[str]  # lemmas, for ordering by the title


def tokenize(sentence: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(sentence)]


@lru_cache(maxsize=10_000)
def _pos(word: str) -> str | None:
    parses = analyzer().parse(word.lower())
    return parses[0].tag.POS if parses else None


@lru_cache(maxsize=10_000)
def _number_word(word: str) -> bool:
    low = word.lower()
    if not _NUMBER_WORD.match(low):
        return False
    parses = analyzer().parse(low)
    return any(p.tag.POS == "NUMR" and p.normal_form not in _NOT_AMOUNTS for p in parses[:2])


@lru_cache(maxsize=10_000)
def _is_name(word: str) -> bool:
    if word.isupper() and len(word) > 1:
        return True
    parses = analyzer().parse(word.lower())
    return bool(parses) and any(t in parses[0].tag for t in ("Name", "Surn", "Patr", "Geox",
                                                                "Orgn", "Trad"))


def _is_digits(tok: Token) -> bool:
    return tok.text[0].isdigit() and "-" not in tok.text


def _is_number(tok: Token) -> bool:
    first = tok.text[0]
    if first.isdigit():
        return "-" not in tok.text
    return first.isalpha() and _number_word(tok.text)


def _value(tokens: list[Token], i: int) -> float | None:
    tok = tokens[i]
    if _is_digits(tok):
        try:
            return float(re.sub(r"[\s\u00a0\u202f]", "", tok.text).replace(",", "."))
        except ValueError:
            return None
    value = _WORD_VALUES.get(tok.lemma)
    j = i + 1  # "сорок пять"
    while value is not None and j < len(tokens) and tokens[j].lemma in _WORD_VALUES:
        value += _WORD_VALUES[tokens[j].lemma]
        j += 1
    return value


def candidate(sentence: str) -> bool:
    """Whether a sentence may hold an amount (cheap; the amounts are checked after): a number
    in digits not followed by a word of time ("2024 году", "22 октября"), or in words."""
    if _DIGIT.search(sentence):
        for m in _NUMBER_THEN.finditer(sentence):
            after = m.group(1)
            if not after or not _WHEN_WORD.match(after):
                return True
    return any(_number_word(m.group(0)) for m in _NUMBER_WORD_IN.finditer(sentence))


def _amount_heads(tokens: list[Token], i: int) -> tuple[list[int], int] | None:
    """For a number token: the scale tokens and the noun or unit it counts (parsed)."""
    if not tokens[i].rel.startswith("nummod"):
        return None  # "двух из них": a number that counts nothing here
    scales = []
    j = i
    for _ in range(4):
        h = tokens[j].head
        if h < 0:
            return None
        if tokens[h].lemma in SCALES or (_is_number(tokens[h]) and h > j):
            scales.append(h)
            j = h
            continue
        return scales, h
    return None


def _next_counted(tokens: list[Token], i: int) -> tuple[list[int], int] | None:
    """Without a parse: the scale words after a number and the unit or noun after them."""
    scales = []
    j = i + 1
    while j < len(tokens) and (tokens[j].lemma in SCALES or tokens[j].text == "."
                               or (_is_number(tokens[j]) and not _is_digits(tokens[j]))):
        if tokens[j].text != ".":
            scales.append(j)
        j += 1
    for k in range(j, min(j + 6, len(tokens))):
        t = tokens[k]
        if t.lemma in UNITS:
            return scales, k
        if not t.text[0].isalpha():
            break
        pos = _pos(t.text)
        if pos == "NOUN":
            return scales, k
        if pos not in ("ADJF", "PRTF", "CONJ"):
            break
    # "собравший 25,9 миллиона в странах СНГ", "на 310 тысяч больше": the scale is the unit.
    return (scales[:-1], scales[-1]) if scales and tokens[scales[-1]].lemma in SCALES else None


def _is_amount(tokens: list[Token], i: int, counted: int) -> bool:
    tok, noun = tokens[i], tokens[counted]
    if noun.lemma in TIME_NOUNS or noun.lemma in MONTHS or noun.text.lower() in MONTHS:
        return False  # "два года", "22 октября", "2024 года"
    if _is_digits(tok):
        if i > 0 and tokens[i - 1].text in "№#":
            return False
        if i + 2 < len(tokens) and tokens[i + 1].text in ":." and tokens[i + 2].text[0].isdigit():
            return False  # 14:00, 25.05
        if re.fullmatch(r"(19|20)\d\d", tok.text) and noun.lemma not in UNITS | SCALES:
            return False
    if noun.lemma in UNITS or noun.lemma in SCALES:
        return True
    return noun.text[0].isalpha() and _pos(noun.text) == "NOUN"


def _children(tokens: list[Token]) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in tokens]
    for i, t in enumerate(tokens):
        if 0 <= t.head < len(tokens) and t.head != i:
            out[t.head].append(i)
    return out


def _subtree(kids: list[list[int]], tokens: list[Token], root: int, limit: int) -> set[int]:
    """The core of a phrase: its head with modifiers, no clauses; at most `limit` tokens, the
    nearest first."""
    out = {root}
    frontier = [root]
    while frontier:
        nxt = []
        for h in frontier:
            for c in sorted(kids[h], key=lambda c: abs(c - root)):
                rel = tokens[c].rel
                if rel == "punct" and tokens[c].text not in _QUOTES + "-–—":
                    continue
                if rel not in _KEEP_IN_ARGUMENT and rel != "punct":
                    continue
                if rel == "conj" and _pos(tokens[c].text) in _VERB_POS:
                    continue
                if rel == "appos" and c > h + 2:
                    continue  # a list after a colon, not the name of the head
                if len(out) >= limit:
                    return out
                out.add(c)
                nxt.append(c)
        frontier = nxt
    return out


def _parsed_figure(tokens: list[Token], i: int, scales: list[int],
                   counted: int) -> tuple[list[set[int]], int]:
    """The parts of a figure, most needed first (the amount, what governs it, its arguments),
    and the token of the clause it belongs to."""
    kids = _children(tokens)
    amount = {i, counted, *scales}
    # The amount itself: approximations, the preposition, adjectives between number and noun.
    for h in (i, counted, *scales):
        for c in kids[h]:
            rel = tokens[c].rel
            if rel in ("advmod", "case") or (rel in ("amod", "conj", "cc") and
                                             min(i, counted) < c < max(i, counted)):
                amount |= _subtree(kids, tokens, c, 4) if rel == "amod" else {c}
    for c in kids[counted]:
        # "60% томского экспорта"; "в трех областях Узбекистана"
        if tokens[c].rel == "nmod" and c > counted and (
                tokens[counted].lemma in UNITS or tokens[c].text[0].isupper()):
            amount |= _subtree(kids, tokens, c, 4)
    parts = [amount]
    head = tokens[counted].head
    nominal_subjects = [c for c in kids[counted] if tokens[c].rel.startswith("nsubj")]
    if nominal_subjects:  # "объем инвестиций – 15,6 млрд рублей"
        parts += [_subtree(kids, tokens, c, 8) for c in nominal_subjects]
        return parts, counted
    if head >= 0 and _pos(tokens[head].text) in _VERB_POS and tokens[head].text[0].isalpha():
        verb = _nearer_verb(kids, tokens, head, min(amount))
        return parts + _clause(kids, tokens, verb, amount), verb
    if head >= 0 and tokens[head].text[0].isalpha():
        # "проект площадью 180 тысяч квадратных метров": the noun qualified, one level up too.
        noun = {head} | {c for c in kids[head] if tokens[c].rel == "amod"}
        up = tokens[head].head
        if tokens[head].rel == "nmod" and up >= 0 and _pos(tokens[up].text) == "NOUN":
            noun |= {up} | {c for c in kids[up] if tokens[c].rel == "amod"}
        parts.append(noun)
    return parts, counted


def _assemble(tokens: list[Token], parts: list[set[int]]) -> set[int]:
    """A contiguous stretch of the sentence: the first part, and each further part while the
    stretch stays within MAX_WORDS words."""
    def words(lo: int, hi: int) -> int:
        return sum(1 for t in tokens[lo:hi + 1] if t.text[0].isalnum())

    lo, hi = min(parts[0]), max(parts[0])
    for part in parts[1:]:
        a, b = min(lo, *part), max(hi, *part)
        if words(a, b) <= MAX_WORDS:
            lo, hi = a, b
    return set(range(lo, hi + 1))


def _nearer_verb(kids: list[list[int]], tokens: list[Token], verb: int, amount: int) -> int:
    """The parser hangs "только экспорт увеличился на 30%" on the sentence's first verb: a verb
    of a clause joined to it that stands between it and the amount governs the amount."""
    best = verb
    for c in kids[verb]:
        if (tokens[c].rel in ("parataxis", "conj") and verb < c < amount
                and _pos(tokens[c].text) in _VERB_POS and c > best):
            best = c
    return best


def _clause(kids: list[list[int]], tokens: list[Token], verb: int,
            amount: set[int]) -> list[set[int]]:
    """The verb with negation and auxiliaries, then its subject, object, a time frame and
    other arguments (pronouns, which say nothing out of context, left out)."""
    core = {verb} | {c for c in kids[verb] if tokens[c].rel in _AUX or tokens[c].lemma == "не"}
    # An infinitive governed by "планируется", "намерен", "может": keep the governor.
    if tokens[verb].rel in ("xcomp", "csubj", "csubj:pass") and tokens[verb].head >= 0:
        gov = tokens[verb].head
        core |= {gov} | {c for c in kids[gov] if tokens[c].lemma == "не"}
    order = sorted((c for c in kids[verb] if tokens[c].rel in _ARGUMENTS and c not in amount
                    and _pos(tokens[c].text) != "NPRO"),
                   key=lambda c: (_ARGUMENTS.index(tokens[c].rel) if tokens[c].rel != "obl"
                                  or not _is_time(kids, tokens, c) else 1.5, abs(c - verb)))
    return [core] + [_subtree(kids, tokens, c, 7) for c in order]


def _is_time(kids: list[list[int]], tokens: list[Token], i: int) -> bool:
    return tokens[i].lemma in TIME_NOUNS or any(tokens[c].lemma in MONTHS for c in kids[i])


def _window_figure(tokens: list[Token], i: int, scales: list[int], counted: int) -> set[int]:
    """Without a parse: the amount and the words before it in its clause (up to six)."""
    keep = set(range(i, counted + 1))
    if tokens[counted].lemma in UNITS:  # a genitive complement: "60% томского экспорта"
        for k in range(counted + 1, min(counted + 4, len(tokens))):
            t = tokens[k]
            if not t.text[0].isalpha() or _pos(t.text) not in ("NOUN", "ADJF"):
                break
            keep.add(k)
            if _pos(t.text) == "NOUN":
                break
    j = i - 1
    taken = 0
    while j >= 0 and taken < 6:
        t = tokens[j]
        if t.text in ",;:()" or (t.text in "–—" and taken >= 2) or t.text in _QUOTES:
            break
        if t.text[0].isalpha() or t.text[0].isdigit():
            taken += 1
        keep.add(j)
        j -= 1
    return keep


def _render(sentence: str, tokens: list[Token], keep: set[int]) -> str:
    """The kept words as written. When the span from the first to the last is short, the text
    itself (a clause reads best as written); otherwise the kept words, with prepositions and
    conjunctions whose word was left out dropped."""
    lo, hi = min(keep), max(keep)
    words = sum(1 for t in tokens[lo:hi + 1] if t.text[0].isalnum())
    if words <= MAX_WORDS:
        idx = list(range(lo, hi + 1))
    else:
        idx = sorted(k for k in keep if tokens[k].rel not in ("case", "cc", "punct", "mark")
                     or tokens[k].head in keep)
    parts = []
    for n, k in enumerate(idx):
        if n:
            prev = idx[n - 1]
            parts.append(sentence[tokens[prev].end:tokens[k].start] if k == prev + 1 else " ")
        parts.append(tokens[k].text)
    text = re.sub(r"\s+", " ", "".join(parts)).strip(" ,;:–—-")
    text = re.sub(r"^(?:и|а|но|что|как|же|ли)\s+", "", text, flags=re.IGNORECASE)
    for a, b in (("«", "»"), ("(", ")")):
        if text.count(a) > text.count(b):
            text = text.rstrip(a + " ") if text.rstrip().endswith(a) else text + b
        elif text.count(b) > text.count(a):
            text = text.replace(b, "", 1) if text.startswith(b) else a + text
    if text.count('"') % 2:
        text = text.replace('"', "")
    first = next((tokens[k] for k in idx if tokens[k].text[0].isalnum()), None)
    if first is None:
        return ""
    initial = not any(t.text[0].isalnum() for t in tokens[:idx[0]])
    if initial and text[:1].isupper() and not _is_name(first.text):
        text = text[0].lower() + text[1:]
    return text


_NAMED = re.compile(r"([А-ЯЁа-яё-]+)\s+«([^«»]{2,60})»")


def _qualifier(sentences: Sequence[str], paragraph_of: Sequence[int], s: int, at: int,
               nouns: set[str], anaphor: bool) -> str | None:
    """The name a generic figure is about, from its paragraph back to the figure's sentence:
    the nearest '<title noun> «Name»' ("кластер «Микроэлектроника»") or «<name with a title
    noun>» ("«Химический кластер»"), else for a 'там' the
    nearest '<noun in the nominative> «Name»', else a '<noun> «Name»' of its own sentence."""
    fallback = None
    for k in range(s, max(-1, s - 4), -1):
        if paragraph_of[k] != paragraph_of[s]:
            break
        for m in reversed(_named_in(sentences[k])):
            if k == s and m.start() > at:
                continue
            noun, quoted = m.group(1), m.group(2)
            lem = lemma(noun.lower())
            named = f"{lem if noun.islower() or not _is_name(noun) else noun} «{quoted}»"
            if lem in nouns:
                return named
            if any(lemma(w) in nouns for w in re.findall(r"\b[а-яё]+", quoted)):
                # «Химического кластера»
                return "«" + normalize(quoted, "ORG") + "»"
            if fallback is None and (anaphor or k == s) and (
                    _nominative_noun(noun) or (k == s and noun.isupper() and len(noun) > 1)):
                fallback = named
    return fallback


@lru_cache(maxsize=4096)
def _named_in(sentence: str) -> list[re.Match]:
    return list(_NAMED.finditer(sentence)) if "«" in sentence else []


@lru_cache(maxsize=10_000)
def _nominative_noun(word: str) -> bool:
    """A noun that can be a singular subject ("технопарк", not "модели")."""
    parses = analyzer().parse(word.lower())
    return bool(parses) and parses[0].tag.POS == "NOUN" and any(
        p.tag.POS == "NOUN" and p.tag.case == "nomn" and p.tag.number == "sing"
        for p in parses if p.normal_form == parses[0].normal_form)


def _generic(text: str) -> bool:
    """No name in it: 'объем инвестиций – 47 млрд рублей' says not whose."""
    words = text.split()
    return "«" not in text and '"' not in text and not any(
        w[0].isupper() for w in words[1:]) and not _is_name(words[0].strip("(«\""))


def _amounts(tokens: list[Token]) -> list[tuple[int, list[int], int]]:
    """(number, scale tokens, counted noun or unit) of each amount, by the words that follow
    the number (the parse may refine the noun)."""
    out = []
    used: set[int] = set()
    for i, tok in enumerate(tokens):
        if i in used or not _is_number(tok):
            continue
        if tok.text[0].isupper() and i > 0 and (tokens[i - 1].text[0].isalnum()
                                                 or tokens[i - 1].text in _QUOTES):
            continue  # "Девять ярдов": a number word in a name
        heads = _next_counted(tokens, i)
        if heads is None or not _is_amount(tokens, i, heads[1]):
            continue
        out.append((i, *heads))
        used |= set(range(i, heads[1] + 1))
    return out


def _parse(batch: list[list[Token]]) -> None:
    """Heads and relations from natasha's syntax model, written into the tokens."""
    from bot.understand.nlp import syntax

    for tokens, markup in zip(batch, syntax().map([[t.text for t in ts] for ts in batch]),
                              strict=True):
        ids = {tok.id: n for n, tok in enumerate(markup.tokens)}
        for tok, m in zip(tokens, markup.tokens, strict=True):
            tok.head = ids.get(m.head_id, -1)
            tok.rel = m.rel


def key_figures(title: str, sentences: Sequence[str], *, paragraph_of: Sequence[int] = (),
                skip: Sequence[int] = (), parse: bool = False,
                limit: int = MAX_FIGURES) -> list[str]:
    """Figures of an article as short phrases. `skip`: indexes of sentences the summary shows
    (their figures are not repeated); `parse`: find the clause with the syntax model (only the
    sentences with an amount are parsed, at most MAX_PARSED)."""
    paragraphs = list(paragraph_of) or [0] * len(sentences)
    title_tokens = tokenize(title)
    title_words = {t.lemma for t in title_tokens if t.text[0].isalpha()}
    title_nouns = {t.lemma for t in title_tokens if t.text.isalpha() and t.text.islower()
                   and len(t.text) > 3 and _pos(t.text) == "NOUN"}
    title_amounts = {_value(title_tokens, i) for i, t in enumerate(title_tokens)
                     if _is_number(t)} - {None}
    found = []
    amounts_seen = 0
    for s, sentence in enumerate(sentences):
        if amounts_seen >= 3 * limit:
            break  # a table of numbers: the first ones will do
        if candidate(sentence):
            tokens = tokenize(sentence)
            amounts = _amounts(tokens)
            if amounts:
                found.append((s, sentence, tokens, amounts))
                amounts_seen += len(amounts)
    parsed: set[int] = set()
    if parse:
        batch = [(s, tokens) for s, _, tokens, _ in found
                 if s not in skip and len(tokens) <= MAX_TOKENS][:MAX_PARSED]
        batch.sort(key=lambda b: len(b[1]))  # batches padded to their longest: less waste
        if batch:
            _parse([tokens for _, tokens in batch])
            parsed = {s for s, _ in batch}
    figures: list[Figure] = []
    shown: set[tuple] = set()
    for s, sentence, tokens, amounts in found:
        clauses: dict[int, tuple[set[int], list[tuple], int, set[int]]] = {}
        for i, scales, counted in amounts:
            if s in parsed:
                heads = _amount_heads(tokens, i)
                if heads is not None and _is_amount(tokens, i, heads[1]):
                    scales, counted = heads
            value = _value(tokens, i)
            scale = next((tokens[k].lemma for k in scales if tokens[k].lemma in SCALES), "")
            key = (value, scale, tokens[counted].lemma)
            if s in skip or (value in title_amounts and not scale):
                shown.add(key)
                continue
            if s in parsed:
                parts, group = _parsed_figure(tokens, i, scales, counted)
                keep = _assemble(tokens, parts)
            else:
                keep, group = _window_figure(tokens, i, scales, counted), -2 - i
            if group in clauses and _short(tokens, clauses[group][0] | keep):
                # two amounts of one clause make one figure
                clauses[group][0].update(set(range(min(clauses[group][0] | keep),
                                                   max(clauses[group][0] | keep) + 1)))
                clauses[group][1].append(key)
                clauses[group][3].add(i)
            else:
                clauses[-2 - i if group in clauses else group] = (keep, [key], tokens[i].start,
                                                                  {i})
        taken: set[int] = set()
        for keep, keys, at, numbers in clauses.values():
            if numbers <= taken:
                shown.update(keys)  # its amounts already stand in a figure made
                continue
            taken |= keep
            text = _render(sentence, tokens, keep)
            if not text:
                continue
            anaphor = any(w.lower() in _ANAPHORS for w in text.split())
            if anaphor or _generic(text):
                name = _qualifier(sentences, paragraphs, s, at, title_nouns, anaphor)
                if name:
                    text = f"{name}: {text}"
            if len(text) > MAX_CHARS:
                text = text[:MAX_CHARS].rsplit(" ", 1)[0] + "…"
            words = frozenset(tokens[k].lemma for k in keep if tokens[k].text[0].isalpha())
            figures.append(Figure(text, tuple(keys), s, words))
    out: list[Figure] = []
    seen: set[tuple] = set(shown)
    for f in sorted(figures, key=lambda f: -len(f.text)):  # a figure inside another goes
        if set(f.key) <= seen or any(f.text in g.text for g in out):
            continue
        seen.update(f.key)
        out.append(f)
    out.sort(key=lambda f: (not (f.words & title_words - _STOP), f.sentence))
    return [f.text for f in out[:limit]]


def _short(tokens: list[Token], keep: set[int]) -> bool:
    lo, hi = min(keep), max(keep)
    return sum(1 for t in tokens[lo:hi + 1] if t.text[0].isalnum()) <= MAX_WORDS


_STOP = frozenset("в на и с по для о об от до за из к у при как что это год".split())
