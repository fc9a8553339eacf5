"""Same story, other words: TF-IDF cosine over the lemmas of title and lead.

Two reports of one event share their rare words (names, places, figures) in the title and the
first lines. The title counts twice. Articles of the same host are never joined by similarity
alone (a site's two different reports share its vocabulary); reprints join through the reprint
check instead. Nor are two reports set in different regions: when each names one to three
regions of a country (Томская область, Красноярский край, Москва, also Ukrainian oblasts) and
they share none, they are two events ("в Тверской области почтальоны доставят..." and the same
press release template for the Tula region), however alike their words. Threshold chosen on the
tgcontest training and exam pairs (bench/eval_dedup.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from urllib.parse import urlsplit

from bot.ingest.urls import host_of as url_host
from bot.text.normalize import content_lemmas
from bot.understand.places import REGION_TAGS, places_in

STORY_WINDOW = timedelta(hours=72)
LEAD_CHARS = 800
STORY_THRESHOLD = 0.31


def story_terms(title: str, text: str) -> list[str]:
    return content_lemmas(title) * 2 + content_lemmas(text[:LEAD_CHARS])


# Platforms where every channel or community is an outlet of its own (fed through RSS bridges).
_TELEGRAM = frozenset({"t.me", "telegram.me"})
_VK = frozenset({"vk.com", "m.vk.com", "vk.ru"})
_VK_POST = re.compile(r"^wall(-?\d+)_\d+$")


def host_of(url: str | None, origin: str) -> str:
    """The outlet an article came from: its URL's host (with the channel on Telegram and VK:
    't.me/tomsk_news'), else the folder of its file."""
    host = url_host(url)
    if host:
        return _channel(host, url or "") or host
    return "file:" + str(PurePath(origin.split("#", 1)[0]).parent)


def _channel(host: str, url: str) -> str:
    """'t.me/name' or 'vk.com/name' for a post of a channel or community, else ''."""
    if host not in _TELEGRAM and host not in _VK:
        return ""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if host in _TELEGRAM and parts[:1] == ["s"]:
        parts = parts[1:]  # t.me/s/channel/123: the web preview
    if not parts:
        return ""
    name = parts[0]
    if host in _VK:
        post = _VK_POST.match(name)  # vk.com/wall-123_45: community -123
        name = post.group(1) if post else name
    return ("t.me/" if host in _TELEGRAM else "vk.com/") + name.lower()


_REGION_KINDS = frozenset({"область", "край", "округ"})
_REGION_ADJECTIVE = ("ский", "цкий", "ской")
_NOT_REGIONS = frozenset({"городской", "сельский"})  # городской округ: a town, not a region
MAX_REGIONS = 3  # a text naming more is a round-up, not set in one place


def regions_of(terms: Sequence[str]) -> frozenset[str]:
    """The regions a text is set in, from its lemmas (with or without stop words): the
    regions of the place gazetteer (cities count for theirs) and any '<adjective>
    область/край/округ', also coordinated ("в Николаевской и Кировоградской областях")."""
    found = {tag for tag in places_in(terms) if tag in REGION_TAGS}
    for i, kind in enumerate(terms):
        if kind not in _REGION_KINDS:
            continue
        j, named = i - 1, 0
        while j >= 0 and named <= MAX_REGIONS:
            word = terms[j]
            if word == "и":  # lemmas with stop words: "Николаевская и Кировоградская"
                j -= 1
                continue
            if not word.endswith(_REGION_ADJECTIVE) or word in _NOT_REGIONS:
                break
            known = places_in([word, kind])
            found.add(known[0] if known else f"{word} {kind}")
            j, named = j - 1, named + 1
    return frozenset(found)


def different_regions(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both texts are set in a few regions each, and in none of the same."""
    return 0 < len(a) <= MAX_REGIONS and 0 < len(b) <= MAX_REGIONS and not a & b


def tfidf(terms: list[str], documents: int, df: dict[str, int]) -> dict[str, float]:
    counts = Counter(terms)
    vec = {w: (1 + math.log(c)) * math.log((documents + 1) / (df.get(w, 0) + 1))
           for w, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    article_id: int
    score: float


def best_story(terms: list[str], host: str, candidates, documents: int, df: dict[str, int],
               threshold: float = STORY_THRESHOLD) -> StoryMatch | None:
    """The story whose article is most similar, if any reaches the threshold."""
    if not terms:
        return None
    mine = tfidf(terms, documents, df)
    my_regions: frozenset[str] | None = None
    best: StoryMatch | None = None
    for c in candidates:
        if c.host == host:
            continue
        score = cosine(mine, tfidf(c.terms, documents, df))
        if score < threshold or (best is not None and score <= best.score):
            continue
        if my_regions is None:
            my_regions = regions_of(terms)
        if not different_regions(my_regions, regions_of(c.terms)):
            best = StoryMatch(c.story_id, c.article_id, round(score, 3))
    return best


def outlet_name(host: str) -> str:
    """'tomsk.gov.ru', or for files the folder's name ('seeds')."""
    return PurePath(host.removeprefix("file:")).name if host.startswith("file:") else host
