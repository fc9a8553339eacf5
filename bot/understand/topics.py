"""Topic tags: the configured term lexicon, checked by a learned classifier.

Lexicon. Every term is a word or phrase, compiled once to its lemmas; a phrase matches
consecutive lemmas, so "химическая промышленность" finds "химической промышленности". Where
matches overlap the longest wins ("диоксид титана" is chemistry, not the metal титан; one
"редкоземельным металлам" is one match, not three). A match counts three times in the title,
twice in the lead or in a sentence that states a figure (the facts of the news), and once in the
body; a match inside a quoted name that the text gives to a noun of the title ("кластера
«Микроэлектроника»" under the title "Четыре промышленных кластера ...") counts as the title: the
things the title announces are its subject. Repeats add half the weight of where they stand (up
to two points). A topic needs a score of MIN_SCORE from at least two different terms, or from one
term in the title that the text repeats, and, unless the title names it, half the score of the
strongest topic: a passing mention or a side remark never tags an article. Exclude phrases mask
the matches they overlap ("физическая культура" is not culture).

Learned check (bot/understand/learned.py). A class of the shipped model vouches for some topics
(the economic ones): their tags stand when the lexicon is strong or the class agrees, and the
class's own topic is added, with the lemmas that decided it as evidence, when the class is sure
and the lexicon found none of its topics. Topics the model does not name keep the lexicon's
decision.

Each tag carries the terms that earned it; tags come strongest first, weighted by where their
terms stand (title, lead, body) and, for the topics a class vouches for, by how sure it is.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import TopicConfig
from bot.text.morph import lemma, words
from bot.understand.figures import stated_figure
from bot.understand.learned import LearnedClass, Scored, TopicModel, default_model
from bot.understand.words import token_lemma

TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
BODY_WEIGHT = 1.0
LEAD_CHARS = 400
REPEAT_BONUS = 0.5  # of the weight where the repeat stands
MAX_REPEAT_BONUS = 2.0
MIN_SCORE = 4.0
MIN_TERMS = 2
SIDE_SHARE = 0.5  # a topic the title does not name needs this share of the strongest's score

# Words as bot.text.morph.words finds them, and quoted names.
_WORD_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[а-яёa-z0-9]+(?:[-'][а-яёa-z0-9]+)*", re.IGNORECASE)
_QUOTED = re.compile(r"«[^«»]{1,200}»|“[^“”]{1,200}”|„[^„“”]{1,200}[“”]|\"[^\"]{1,200}\"")
_NAME_WORDS = 8  # a quoted name longer than this is a quotation, not a name
_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")


# The lexicon's findings per topic: score, (points, term) strongest first, whether a term stands
# in the title (or a name it announces), and whether such a term is repeated in the text.
Found = dict[str, tuple[float, list[tuple[float, str]], bool, bool]]


@dataclass(frozen=True)
class TopicTag:
    id: str
    score: float  # the weight tags are ordered by
    terms: tuple[str, ...]  # the evidence: configured terms that matched, strongest first


def _lemmas(text: str) -> list[str]:
    return [lemma(w) for w in words(text)]  # (words() folds case and ё)


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each sentence: a cheap split at end marks and line breaks."""
    out, start = [], 0
    for m in _BREAK.finditer(text):
        out.append((start, text[start:m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return out


def _tokens(text: str) -> tuple[list[str], list[bool], list[bool], int]:
    """Lemmas of a text; for each, whether it stands inside a short quoted name and whether in a
    sentence that states a figure; and how many of them fall in the lead."""
    matches = list(_WORD_TOKEN.finditer(text))
    starts = [m.start() for m in matches]
    lemmas = [token_lemma(m.group(0)) for m in matches]
    quoted = [False] * len(lemmas)
    facts = [False] * len(lemmas)
    if "«" in text or '"' in text or "“" in text:
        for q in _QUOTED.finditer(text):
            lo, hi = bisect_left(starts, q.start()), bisect_left(starts, q.end())
            if hi - lo <= _NAME_WORDS:
                quoted[lo:hi] = [True] * (hi - lo)
    for start, sentence in _sentences(text):
        if stated_figure(sentence):
            lo = bisect_left(starts, start)
            hi = bisect_left(starts, start + len(sentence))
            facts[lo:hi] = [True] * (hi - lo)
    return lemmas, quoted, facts, bisect_left(starts, LEAD_CHARS)


@dataclass(frozen=True)
class Reading:
    """An article's lemmas as the tagger reads them (also the places' scan reads them)."""
    title: list[str]
    text: list[str]
    quoted: list[bool]  # inside a short quoted name
    facts: list[bool]  # in a sentence that states a figure
    lead_end: int  # lemmas of the lead


def read(title: str, text: str) -> Reading:
    lemmas, quoted, facts, lead_end = _tokens(text)
    return Reading(_lemmas(title), lemmas, quoted, facts, lead_end)


class Tagger:
    def __init__(self, topics: Sequence[TopicConfig], model: TopicModel | None = None,
                 learned: bool = True) -> None:
        """`model` defaults to the shipped one; learned=False tags by the lexicon alone."""
        self.topics = {t.id: t for t in topics}
        self.model = (model or default_model()) if learned else None
        self._terms: dict[str, list[tuple[tuple[str, ...], str, str]]] = defaultdict(list)
        self._excludes: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for t in topics:
            for term in t.terms:
                seq = tuple(_lemmas(term))
                if seq:
                    self._terms[seq[0]].append((seq, t.id, term))
            for term in t.exclude:
                seq = tuple(_lemmas(term))
                if seq:
                    self._excludes[seq[0]].append(seq)

    def _matches(self, lemmas: list[str]) -> list[tuple[int, int, str, str]]:
        """(start, end, topic id, term) of each match; exclude spans masked, and where matches
        overlap only the longest (all of equal length) kept."""
        masked: set[int] = set()
        for i, lem in enumerate(lemmas):
            for seq in self._excludes.get(lem, ()):
                if tuple(lemmas[i:i + len(seq)]) == seq:
                    masked.update(range(i, i + len(seq)))
        found = []
        for i, lem in enumerate(lemmas):
            for seq, topic_id, term in self._terms.get(lem, ()):
                end = i + len(seq)
                if tuple(lemmas[i:end]) == seq and not masked.intersection(range(i, end)):
                    found.append((i, end, topic_id, term))
        longest = [0] * (len(lemmas) + 1)
        for start, end, _, _ in found:
            for k in range(start, end):
                longest[k] = max(longest[k], end - start)
        return [m for m in found if all(longest[k] == m[1] - m[0] for k in range(m[0], m[1]))]

    def _weighted_matches(self, r: Reading) -> list[tuple[tuple[str, str], float]]:
        out = [(key[2:], TITLE_WEIGHT) for key in self._matches(r.title)]
        lemmas, facts, lead_end = r.text, r.facts, r.lead_end
        named = _named_by_title(lemmas, r.quoted, set(r.title))
        for start, end, topic_id, term in self._matches(lemmas):
            if named.intersection(range(start, end)):
                weight = TITLE_WEIGHT
            elif start < lead_end or facts[start]:
                weight = LEAD_WEIGHT
            else:
                weight = BODY_WEIGHT
            out.append(((topic_id, term), weight))
        return out

    def lexicon(self, title: str, text: str, reading: Reading | None = None) -> Found:
        """Per topic: its score, its terms with their points, and whether the title names it
        and the text repeats it."""
        weights: dict[tuple[str, str], list[float]] = defaultdict(list)
        for key, weight in self._weighted_matches(reading or read(title, text)):
            weights[key].append(weight)
        per_topic: dict[str, list[tuple[float, str]]] = defaultdict(list)
        headline: dict[str, bool] = defaultdict(bool)
        titled: dict[str, bool] = defaultdict(bool)
        for (topic_id, term), found in weights.items():
            found.sort(reverse=True)
            weight, repeats = found[0], len(found) - 1
            bonus = min(REPEAT_BONUS * sum(found[1:]), MAX_REPEAT_BONUS)
            per_topic[topic_id].append((weight + bonus, term))
            titled[topic_id] |= weight == TITLE_WEIGHT
            headline[topic_id] |= weight == TITLE_WEIGHT and repeats > 0
        out = {}
        for topic_id, scored in per_topic.items():
            scored.sort(key=lambda x: (-x[0], x[1]))
            out[topic_id] = (sum(s for s, _ in scored), scored, titled[topic_id],
                             headline[topic_id])
        return out

    def scores(self, title: str, text: str, reading: Reading | None = None) -> dict[str, Scored]:
        """The learned classes' view of the article (empty without a model)."""
        if not (self.model and self.model.classes):
            return {}
        r = reading or read(title, text)
        return self.model.score(r.title + r.text)

    def tag(self, title: str, text: str, reading: Reading | None = None) -> list[TopicTag]:
        """Tags of an article; `reading` (from read()) saves lemmatising it again."""
        r = reading or read(title, text)
        return decide(self.lexicon(title, text, r), self.scores(title, text, r),
                      self.model.classes if self.model else (), set(self.topics))



def decide(found: Found, scored: dict[str, Scored], classes: Sequence[LearnedClass],
           taxonomy: set[str]) -> list[TopicTag]:
    """Tags from the lexicon's findings and the learned classes' probabilities."""
    vouching = {t: c for c in classes if c.name in scored for t in c.topics}
    tags = []
    top = max((f[0] for f in found.values()), default=0.0)
    for topic_id, (total, terms, titled, headline) in found.items():
        if not ((len(terms) >= MIN_TERMS or headline) and total >= MIN_SCORE):
            continue
        if not titled and total < SIDE_SHARE * top:
            continue  # a side remark of an article about something else
        weight = total
        c = vouching.get(topic_id)
        if c is not None:
            p = scored[c.name].probability
            if total < c.strong and p < c.keep_at:
                continue  # weak words the class does not back
            weight = total * (0.5 + p)
        tags.append(TopicTag(topic_id, round(weight, 2), tuple(t for _, t in terms)))
    ids = {t.id for t in tags}
    for c in classes:
        s = scored.get(c.name)
        if (s is not None and c.add in taxonomy and s.probability >= c.add_at and s.evidence
                and not ids & c.topics):
            tags.append(TopicTag(c.add, round(MIN_SCORE * s.probability, 2), s.evidence))
            ids.add(c.add)
    tags.sort(key=lambda t: (-t.score, -len(t.terms), t.id))
    return tags


def _named_by_title(lemmas: list[str], quoted: list[bool], title: set[str]) -> set[int]:
    """Positions inside a quoted name given to a noun of the title: 'кластера «Микроэлектроника»'
    or 'кластер по микроэлектронике «...»' (the noun at most two words before the quote)."""
    out: set[int] = set()
    i = 0
    while i < len(lemmas):
        if not quoted[i]:
            i += 1
            continue
        j = i
        while j < len(lemmas) and quoted[j]:
            j += 1
        before = lemmas[max(0, i - 2):i]
        if any(w in title and len(w) > 3 for w in before):
            out.update(range(i, j))
        i = j
    return out
