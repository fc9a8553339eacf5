"""natasha's models (they ship inside its wheel and run offline), each loaded on first use.

The NER tagger and the syntax parser share one embedding (navec's quantised vectors) and one
word vocabulary: each slovnet model loads its own copy of the same 250,000 words (~30 MB), so
the second one built takes the first one's. navec's own vocabulary and its similarity tables are
dropped once a model is built (the models encode words with theirs and need only the codes).
The NER tagger's CRF decodes with bot/understand/viterbi.py (the same paths, faster).
RSS before and after each load is kept in LOADED (the benchmarks print it).

natasha imports pymorphy2, which needs pkg_resources; pymorphy3 stands in for it.
"""

from __future__ import annotations

import functools
import gc
import sys
from functools import cache
from typing import Any

import pymorphy3

from bot.memory import release_free_memory
from bot.understand.viterbi import best_paths

LOADED: dict[str, tuple[float, float]] = {}  # model -> (RSS MiB before, after)


def rss_mib() -> float:
    """Resident memory of this process now (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


@cache
def _embedding() -> Any:
    sys.modules.setdefault("pymorphy2", pymorphy3)
    from natasha import NewsEmbedding

    return NewsEmbedding()


_vocab: list[Any] = []  # the words vocabulary of the first model built


def _built(name: str, make) -> Any:
    before = rss_mib()
    model = make(_embedding())
    encoder = model.infer.encoder
    if _vocab:
        encoder.words_vocab = _vocab[0]
    else:
        _vocab.append(encoder.words_vocab)
    embedding = _embedding()
    embedding.vocab = None
    # navec precomputes tables for word similarity (a 26 MB centroid product): unused here.
    embedding.pq.ab = embedding.pq.norm = None
    gc.collect()
    release_free_memory()
    LOADED[name] = (before, rss_mib())
    return model


@cache
def ner() -> Any:
    from natasha import NewsNERTagger

    model = _built("ner", NewsNERTagger)
    crf = model.infer.model.head.crf
    crf.decode = functools.partial(best_paths, transitions=crf.transitions.array)
    return model


@cache
def syntax() -> Any:
    from natasha import NewsSyntaxParser

    return _built("syntax", NewsSyntaxParser)
