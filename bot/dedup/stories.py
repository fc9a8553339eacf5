"""Same story, other words: what two reports of one event share.

Story terms are the lemmas of title and lead (the title twice): two reports of one event share
their rare words (names, places, figures) there. How alike two sets of terms are is
bot/dedup/similarity.py; the decision is bot/dedup/placement.py. Articles of the same outlet are
never joined by similarity alone (a site's two different reports share its vocabulary);
reprints join through the reprint check instead. Nor are two reports set in different regions:
when each names one to three regions of a country (Томская область, Красноярский край, Москва,
also Ukrainian oblasts) and they share none, they are two events ("в Тверской области почтальоны
доставят..." and the same press release template for the Tula region), however alike their
words. Threshold chosen on the tgcontest training and exam pairs (bench/eval_dedup.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.text.normalize import content_lemmas
from bot.understand.places import REGION_TAGS, places_in

STORY_WINDOW = timedelta(hours=72)
LEAD_CHARS = 800
STORY_THRESHOLD = 0.31


def story_terms(title: str, text: str) -> list[str]:
    return content_lemmas(title) * 2 + content_lemmas(text[:LEAD_CHARS])


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
