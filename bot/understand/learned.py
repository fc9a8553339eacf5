"""A learned topic signal: logistic regression over lemma TF-IDF, scored with plain Python.

The model is trained offline by bench/train_topics.py on labelled news outside the evaluation
file (ria.ru training rows and tgcontest's category pools) and shipped as a small JSON file
(data/topic_model.json): the vocabulary with its idf, and for each class a bias and weights.
Scoring reproduces scikit-learn's TfidfVectorizer(sublinear_tf=True) and LogisticRegression
exactly: tf = 1 + ln(count), x = tf * idf / ||tf * idf||, p = sigmoid(bias + w . x).

A class vouches for some topics of the taxonomy (its `topics`): the tagger keeps a weak lexicon
tag of those topics only when the class agrees (p >= keep_at), and adds the class's `add` topic
when the class is sure (p >= add_at) and the lexicon found only weaker evidence. Topics the
file does not name are left to the lexicon alone.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from bot.text.morph import analyzer
from bot.text.normalize import STOP_WORDS

MODEL_FILE = Path(__file__).with_name("data") / "topic_model.json"
FORMAT = 1


# Months and weekdays say when, not what about (and the training rows are of other months
# than the articles pressbot will read).
_WHEN = frozenset("""январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь
декабрь понедельник вторник среда четверг пятница суббота воскресенье""".split())


_NAME_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn")


@lru_cache(maxsize=20_000)
def _common(word: str) -> bool:
    """A content word that is not a name of a person, place or organisation, nor a date."""
    if len(word) < 2 or word in STOP_WORDS or word in _WHEN or any(c.isdigit() for c in word):
        return False
    parses = analyzer().parse(word)
    return not (parses and any(t in parses[0].tag for t in _NAME_TAGS))


def features(lemmas: Iterable[str]) -> list[str]:
    """The lemmas the model reads: common content words. Not digits (years and amounts say when
    and how much, not what about), dates, or names (who and where change with the news; a
    model that learns them learns last month's events and the outlet it was trained on)."""
    return [w for w in lemmas if _common(w)]


@dataclass(frozen=True)
class LearnedClass:
    name: str
    bias: float
    weights: dict[str, float]
    topics: frozenset[str]  # taxonomy ids this class vouches for
    add: str | None  # the topic to add when the class is sure and the lexicon is weak
    keep_at: float  # a weak lexicon tag of `topics` needs at least this probability
    add_at: float  # probability at which `add` is tagged on the learned evidence
    strong: float  # a lexicon score from which a tag stands whatever the class says


@dataclass(frozen=True)
class Scored:
    probability: float
    evidence: tuple[str, ...]  # the lemmas that pushed hardest towards the class


class TopicModel:
    def __init__(self, idf: dict[str, float], classes: Sequence[LearnedClass]) -> None:
        self.idf = idf
        self.classes = tuple(classes)

    @classmethod
    def from_json(cls, data: dict) -> TopicModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"topic model: format {data.get('format')!r}, expected {FORMAT}")
        vocab: list[str] = data["vocabulary"]
        idf = dict(zip(vocab, data["idf"], strict=True))
        classes = []
        for c in data["classes"]:
            weights = {vocab[i]: w for i, w in zip(c["index"], c["weights"], strict=True)}
            classes.append(LearnedClass(c["name"], c["bias"], weights, frozenset(c["topics"]),
                                        c.get("add"), c["keep_at"], c["add_at"], c["strong"]))
        return cls(idf, classes)

    def vector(self, lemmas: Iterable[str]) -> dict[str, float]:
        counts = Counter(w for w in features(lemmas) if w in self.idf)
        vec = {w: (1.0 + math.log(n)) * self.idf[w] for w, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {w: v / norm for w, v in vec.items()} if norm else {}

    def score(self, lemmas: Iterable[str], top: int = 5) -> dict[str, Scored]:
        """Each class's probability; the evidence (the lemmas that pushed hardest towards the
        class) only where the class may add its topic (p >= add_at)."""
        vec = self.vector(lemmas)
        out = {}
        for c in self.classes:
            weights = c.weights
            z = c.bias + sum(weights.get(w, 0.0) * x for w, x in vec.items())
            p = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
            evidence: tuple[str, ...] = ()
            if p >= c.add_at:
                parts = sorted(((weights.get(w, 0.0) * x, w) for w, x in vec.items()),
                               key=lambda t: (-t[0], t[1]))
                evidence = tuple(w for v, w in parts[:top] if v > 0)
            out[c.name] = Scored(p, evidence)
        return out


@cache
def default_model() -> TopicModel | None:
    """The shipped model, or None when the file is missing (the lexicon then works alone)."""
    try:
        return TopicModel.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
