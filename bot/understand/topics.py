"""Topic tags from the configured taxonomy, matched by lemma.

Every term is a word or phrase, compiled once to its lemmas; a phrase matches consecutive
lemmas, so "химическая промышленность" finds "химической промышленности". A match counts three
times in the title, twice in the lead and once in the body, repeats add half a point each (up to
two). A topic needs a score of MIN_SCORE from at least two different terms, or from one
term in the title that the text repeats: one passing mention never tags an article. Exclude
phrases mask the matches they overlap ("физическая культура" is not culture). Each tag carries
the terms that earned it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import TopicConfig
from bot.text.morph import lemma, words

TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
BODY_WEIGHT = 1.0
LEAD_CHARS = 400
REPEAT_BONUS = 0.5
MAX_REPEAT_BONUS = 2.0
MIN_SCORE = 4.0
MIN_TERMS = 2


@dataclass(frozen=True)
class TopicTag:
    id: str
    score: float
    terms: tuple[str, ...]  # the configured terms that matched, strongest first


def _lemmas(text: str) -> list[str]:
    return [lemma(w) for w in words(text)]


class Tagger:
    def __init__(self, topics: Sequence[TopicConfig]) -> None:
        self.topics = {t.id: t for t in topics}
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

    def _matches(self, lemmas: list[str]) -> list[tuple[str, str]]:
        """(topic id, term) for each match, exclude spans masked."""
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
                    found.append((topic_id, term))
        return found

    def tag(self, title: str, text: str) -> list[TopicTag]:
        zones = ((self._matches(_lemmas(title)), TITLE_WEIGHT),
                 (self._matches(_lemmas(text[:LEAD_CHARS])), LEAD_WEIGHT),
                 (self._matches(_lemmas(text[LEAD_CHARS:])), BODY_WEIGHT))
        best: dict[tuple[str, str], float] = {}
        count: dict[tuple[str, str], int] = defaultdict(int)
        for matches, weight in zones:
            for key in matches:
                best[key] = max(best.get(key, 0.0), weight)
                count[key] += 1
        per_topic: dict[str, list[tuple[float, str]]] = defaultdict(list)
        headline: dict[str, bool] = defaultdict(bool)
        for (topic_id, term), weight in best.items():
            repeats = count[(topic_id, term)] - 1
            bonus = min(REPEAT_BONUS * repeats, MAX_REPEAT_BONUS)
            per_topic[topic_id].append((weight + bonus, term))
            headline[topic_id] |= weight == TITLE_WEIGHT and repeats > 0
        tags = []
        for topic_id, scored in per_topic.items():
            total = sum(s for s, _ in scored)
            evidence = len(scored) >= MIN_TERMS or headline[topic_id]
            if evidence and total >= MIN_SCORE:
                scored.sort(key=lambda x: (-x[0], x[1]))
                tags.append(TopicTag(topic_id, round(total, 2), tuple(t for _, t in scored)))
        tags.sort(key=lambda t: (-t.score, t.id))
        return tags
