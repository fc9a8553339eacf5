"""Reprint and story evaluation on real Russian news, with yardsticks in the same run.

a. Reprints: variants of the 912 distinct ria.ru articles (bench/variants.py) against their
   originals, and every pair of different articles of the same rubric as hard negatives.
   Ours: pairwise verification, and end to end through the SQLite LSH index (a variant must
   find its original among everything stored). Yardstick: containment of surface-word
   3-shingles, threshold chosen for its best F1 on the same data.
b. Stories: tgcontest and nyan same-story pairs. Thresholds come from training and exam files
   only; honey is reported. Yardsticks: TF-IDF cosine over the lemmas of the whole text, and
   multilingual-e5-small alone (cosine of title + lead, threshold tuned the same way). pressbot
   as it decides: each honey pair alone, its two texts stored as two outlets through
   Store.place over an archive of the 925 ria.ru articles, with the semantic signal of its
   defaults ([dedup] semantic) and with words alone. Also our similarity alone, and our rules on
   the bench's own frequencies. --tune chooses the semantic blend (bot/dedup/semantic.py) on
   the training and exam pools; --sample K looks at every K-th honey pair (fast, while working).
   The encoder's vectors are remembered across runs in a temporary file (the model is
   deterministic: same decisions, faster).
c. ParaPhraser gold headline pairs: our title similarity per class.

    python bench/eval_dedup.py [--stories] [--sample K] [--tune]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import pickle
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import ClassVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import load_ria, print_table
from bench.pairs import Pair, load_nyan, load_paraphraser, load_tg
from bench.variants import KINDS, make_variant, paragraphs, strip_dateline
from bot.config import DedupConfig
from bot.dedup.fingerprint import fingerprint
from bot.dedup.outlets import outlet_of
from bot.dedup.reprints import compare
from bot.dedup.similarity import Lexical, cosine, tfidf
from bot.dedup.stories import (
    STORY_THRESHOLD,
    different_regions,
    regions_of,
    story_terms,
)
from bot.models import Entry
from bot.pipeline import features, prepare, process
from bot.storage.db import Database
from bot.storage.store import SimilarityFactory, Store
from bot.text.normalize import content_lemmas
from bot.text.shingles import containment, shingles
from bot.understand.encoder import E5Encoder

SEED = 7


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def surface_shingles(text: str) -> set[int]:
    return shingles(re.findall(r"\w+", text.lower()), 3)


# ------------------------------------------------------------------ a. reprints


async def eval_reprints() -> None:
    seen: set[str] = set()
    articles = []
    for a in load_ria():
        if a.content not in seen:
            seen.add(a.content)
            articles.append(a)
    rng = random.Random(SEED)
    originals = {}
    for a in articles:
        text = "\n\n".join(paragraphs(strip_dateline(a.content)))
        originals[a.id] = prepare(Entry(title=a.title, text=text, origin=f"ria/{a.id}",
                                        url=f"https://ria.example/{a.id}"))
    variants = []  # (kind, original id, article)
    for kind in KINDS:
        for a in articles:
            other = articles[rng.randrange(len(articles))].title
            title, text = make_variant(a.title, strip_dateline(a.content), kind, rng, other)
            variants.append((kind, a.id, prepare(Entry(title=title, text=text,
                                                       origin=f"variant/{kind}/{a.id}"))))
    fps = {i: fingerprint(o.title, o.text) for i, o in originals.items()}
    surface = {i: surface_shingles(o.text) for i, o in originals.items()}
    negatives = [(x, y) for rubric in {a.topic for a in articles}
                 for x, y in itertools.combinations([a.id for a in articles
                                                     if a.topic == rubric], 2)]

    # Pairwise: ours.
    t = time.perf_counter()
    pos_ours = {k: 0 for k in KINDS}
    pos_yard: list[tuple[str, float]] = []
    for kind, oid, art in variants:
        if compare(fingerprint(art.title, art.text), fps[oid]).is_reprint:
            pos_ours[kind] += 1
        pos_yard.append((kind, containment(surface_shingles(art.text), surface[oid])))
    fp_ours = sum(compare(fps[x], fps[y]).is_reprint for x, y in negatives)
    neg_yard = [containment(surface[x], surface[y]) for x, y in negatives]
    pair_seconds = time.perf_counter() - t

    # Yardstick threshold: its best F1 here (generous to it).
    best = (0.0, 0.5)
    for thr in [i / 100 for i in range(30, 96)]:
        tp = sum(c >= thr for _, c in pos_yard)
        fpy = sum(c >= thr for c in neg_yard)
        best = max(best, (prf(tp, fpy, len(pos_yard) - tp)[2], thr))
    thr = best[1]
    yard_by_kind = Counter(k for k, c in pos_yard if c >= thr)
    fp_yard = sum(c >= thr for c in neg_yard)

    # End to end: originals stored through the real pipeline, variants looked up in the index.
    t = time.perf_counter()
    found = Counter()
    wrong = 0
    async with await Store.open(":memory:") as store:
        stored, _ = await process(store, [Entry(title=o.title, text=o.text, url=o.url,
                                             origin=o.origin) for o in originals.values()])
        id_of = {r.article.url.rsplit("/", 1)[1]: r.article.id for r in stored}
        for kind, oid, art in variants:
            hit = await store.find_reprint(art, features(art))
            if hit is not None and hit.candidate.article_id == id_of[oid]:
                found[kind] += 1
            elif hit is not None:
                wrong += 1
        self_matches = 0
        for oid, o in originals.items():
            hit = await store.find_reprint(o, features(o), exclude=id_of[oid])
            self_matches += hit is not None
    index_seconds = time.perf_counter() - t

    n = len(articles)
    rows = []
    for kind in KINDS:
        rows.append((kind, n, f"{pos_yard and yard_by_kind[kind] / n:.4f}",
                     f"{pos_ours[kind] / n:.4f}", f"{found[kind] / n:.4f}"))
    tp_o, tp_y = sum(pos_ours.values()), sum(yard_by_kind.values())
    total = len(variants)
    p_y, r_y, f_y = prf(tp_y, fp_yard, total - tp_y)
    p_o, r_o, f_o = prf(tp_o, fp_ours, total - tp_o)
    tp_e = sum(found.values())
    p_e, r_e, _ = prf(tp_e, wrong + self_matches, total - tp_e)
    print(f"a. Reprints: {n} distinct ria.ru articles x {len(KINDS)} variants = {total} "
          f"positives; {len(negatives)} same-rubric hard negative pairs\n")
    print_table(rows, ("variant", "pairs", "recall yardstick", "recall ours (pairs)",
                       "recall ours (index)"))
    print()
    print_table([
        (f"yardstick: surface 3-shingle containment >= {thr:.2f}", f"{p_y:.4f}", f"{r_y:.4f}",
         f"{f_y:.4f}", fp_yard),
        ("ours, pairwise verification", f"{p_o:.4f}", f"{r_o:.4f}", f"{f_o:.4f}", fp_ours),
        ("ours, end to end through the LSH index", f"{p_e:.4f}", f"{r_e:.4f}", "",
         f"{wrong} wrong + {self_matches} among originals"),
    ], ("method", "precision", "recall", "F1", "false positives"))
    print(f"\n(pairwise {pair_seconds:.1f}s, index {index_seconds:.1f}s;"
          " target P and R >= 0.995)\n")


# ------------------------------------------------------------------ b, c. stories


def idf_corpus(pairs: list[Pair]) -> tuple[int, Counter]:
    """Document frequencies from ria.ru plus the pool's own texts (no labels)."""
    df: Counter = Counter()
    docs = [a.title + "\n" + a.content for a in load_ria()]
    docs += [p.title1 + "\n" + p.text1 for p in pairs]
    docs += [p.title2 + "\n" + p.text2 for p in pairs]
    for d in docs:
        df.update(set(content_lemmas(d)))
    return len(docs), df


def similarity_score(p: Pair, n: int, df: Counter) -> float:
    a, b = fingerprint(p.title1, p.text1), fingerprint(p.title2, p.text2)
    if compare(a, b).is_reprint:
        return 1.0
    return cosine(tfidf(story_terms(p.title1, p.text1), n, df),
                  tfidf(story_terms(p.title2, p.text2), n, df))


def story_score(p: Pair, n: int, df: Counter) -> float:
    """pressbot's decision: two reports of one outlet, or set in different regions, are
    joined only as reprints."""
    score = similarity_score(p, n, df)
    if score < 1.0 and (outlet_of(p.url1, "") == outlet_of(p.url2, "") or different_regions(
            regions_of(story_terms(p.title1, p.text1)),
            regions_of(story_terms(p.title2, p.text2)))):
        return 0.0
    return score


def yard_score(p: Pair, n: int, df: Counter) -> float:
    return cosine(tfidf(content_lemmas(p.title1 + " " + p.text1), n, df),
                  tfidf(content_lemmas(p.title2 + " " + p.text2), n, df))


class MemoEncoder(E5Encoder):
    """pressbot's encoder, its vectors remembered across runs in a file (the model is
    deterministic: the decisions are those of the plain encoder, made faster)."""

    PATH = Path(tempfile.gettempdir()) / "pressbot-eval-dedup-e5.pkl"

    def __init__(self) -> None:
        self.memo: dict[str, np.ndarray] = {}
        if self.PATH.exists():
            with self.PATH.open("rb") as fh:
                self.memo = pickle.load(fh)
        self.made = 0

    def embed(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, super().embed(missing), strict=True))
            self.made += len(missing)
        return [self.memo[t] for t in texts]

    def save(self) -> None:
        tmp = self.PATH.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(self.memo, fh)
        tmp.replace(self.PATH)


def pressbot_encoder() -> E5Encoder | None:
    """The encoder pressbot runs with its defaults ([dedup] semantic)."""
    return MemoEncoder() if DedupConfig().semantic else None


def encoder_cosines(pairs: list[Pair], encoder: E5Encoder) -> dict[int, float]:
    """Cosine of the encoder's vectors of the two texts, cleaned as pressbot stores them, per
    pair (by id)."""
    out = {}
    for p in pairs:
        a, b = (prepare(e) for e in pair_entries(p))
        va, vb = encoder.embed([encoder.text(a.title, a.text), encoder.text(b.title, b.text)])
        out[id(p)] = float(va @ vb)
    return out


def scores_eval(scored: list[tuple[float, bool]], thr: float):
    tp = sum(s >= thr and y for s, y in scored)
    fp = sum(s >= thr and not y for s, y in scored)
    fn = sum(s < thr and y for s, y in scored)
    acc = sum((s >= thr) == y for s, y in scored) / len(scored)
    return (*prf(tp, fp, fn), acc)


def tune(scored: list[tuple[float, bool]]) -> float:
    return max((scores_eval(scored, t / 200)[2], t / 200) for t in range(10, 199))[1]


async def build_archive(path: Path) -> None:
    """The 925 ria.ru articles through pressbot's pipeline: the archive whose document
    frequencies and candidates a new pair meets, as in `pressbot analyze --db`."""
    async with await Store.open(path) as store:
        entries = [Entry(title=a.title, text=strip_dateline(a.content).replace("  ", "\n\n"),
                         url=f"https://ria.example/{a.id}", origin="ria")
                   for a in load_ria()]
        await process(store, entries, news=[False] * len(entries))


_DEFAULT = object()


async def decide_pair(archive: Path, first: Entry, second: Entry, encoder=_DEFAULT,
                      similarity: SimilarityFactory = Lexical) -> bool:
    """What pressbot decides: the two reports stored one after the other in a sandbox over
    the archive (nothing is written to it), the very Store.place that `pressbot run` runs,
    with the encoder of its defaults unless one is given (None: words alone)."""
    if encoder is _DEFAULT:
        encoder = pressbot_encoder()
    db = await Database.open(archive, sandbox=True)
    async with Store(db, similarity=similarity, encoder=encoder) as store:
        (a,), _ = await process(store, [first], news=[False])
        (b,), _ = await process(store, [second], news=[False])
        return a.story_id == b.story_id


def pair_entries(p: Pair) -> tuple[Entry, Entry]:
    return (Entry(title=p.title1, text=p.text1, url=p.url1 or None, origin=p.url1 or "a/1.txt"),
            Entry(title=p.title2, text=p.text2, url=p.url2 or None, origin=p.url2 or "b/2.txt"))


async def pressbot_decisions(pairs: list[Pair], archive: Path, encoder) -> dict[int, bool]:
    return {id(p): await decide_pair(archive, *pair_entries(p), encoder=encoder)
            for p in pairs}


POOLS = (("tgcontest", load_tg, ("train", "exam", "honey")),
         ("nyan", load_nyan, ("training", "exam", "honey")))


def decided_row(name: str, label: str, honey: list[Pair], decided: dict[int, bool]) -> tuple:
    tp = sum(decided[id(p)] and p.same for p in honey)
    fp = sum(decided[id(p)] and not p.same for p in honey)
    fn_ = sum(not decided[id(p)] and p.same for p in honey)
    acc = sum(decided[id(p)] == p.same for p in honey) / len(honey)
    pp, rr, ff = prf(tp, fp, fn_)
    return (name, label, f"{STORY_THRESHOLD:.2f}", len(honey), f"{pp:.3f}", f"{rr:.3f}",
            f"{ff:.3f}", f"{acc:.3f}")


def eval_stories(sample: int = 1) -> None:
    """``sample``: every sample-th honey pair only (a fast look while working; the figures
    to report come from all of them)."""
    rows = []
    encoder = MemoEncoder()
    for name, load, parts in POOLS:
        sets = {part: load(part) for part in parts}
        every = [p for ps in sets.values() for p in ps]
        n, df = idf_corpus(every)
        tuning = sets[parts[0]] + sets[parts[1]]
        honey = sets["honey"][::sample]
        ours = STORY_THRESHOLD if name == "tgcontest" else None
        e5 = encoder_cosines(tuning + honey, encoder)
        encoder.save()

        def e5_score(p: Pair, n: int, df: Counter, e5=e5) -> float:
            return e5[id(p)]

        semantic = asyncio.run(pressbot_decisions(honey, ARCHIVE, encoder))
        encoder.save()
        rows.append(decided_row(name, "pressbot as it decides (Store.place over the ria.ru"
                                " archive, words and encoder)", honey, semantic))
        words = asyncio.run(pressbot_decisions(honey, ARCHIVE, None))
        rows.append(decided_row(name, "pressbot, words alone ([dedup] semantic = false)", honey,
                                words))
        for label, fn, fixed in (("yardstick: TF-IDF lemmas, whole text", yard_score, None),
                                 ("yardstick: multilingual-e5-small, title + lead", e5_score,
                                  None),
                                 ("ours, similarity only: title x2 + lead, reprint check",
                                  similarity_score, ours),
                                 ("ours, the rules on bench frequencies (not pressbot's)",
                                  story_score, ours)):
            tune_scores = [(fn(p, n, df), p.same) for p in tuning]
            thr = fixed if fixed is not None else tune(tune_scores)
            p, r, f, acc = scores_eval([(fn(x, n, df), x.same) for x in honey], thr)
            rows.append((name, label, f"{thr:.2f}", len(honey), f"{p:.3f}", f"{r:.3f}",
                         f"{f:.3f}", f"{acc:.3f}"))
    print("b. Stories: same-story pairs, threshold from training+exam, reported on honey"
          + (f" (every {sample}th honey pair only: not the figure to report)" if sample > 1
             else "") + "\n")
    print_table(rows, ("pool", "method", "threshold", "honey pairs", "precision", "recall", "F1",
                       "accuracy"))
    print(f"\n(targets: tgcontest honey F1 >= 0.85 and accuracy >= 0.87; nyan honey F1 >= 0.85;"
          f" {encoder.made} texts encoded in this run, the rest remembered in"
          f" {MemoEncoder.PATH})\n")


def eval_paraphraser() -> None:
    pairs = load_paraphraser("gold")
    df: Counter = Counter()
    for a, b, _ in pairs:
        df.update(set(content_lemmas(a)))
        df.update(set(content_lemmas(b)))
    n = 2 * len(pairs)
    by_class: dict[int, list[float]] = {-1: [], 0: [], 1: []}
    for a, b, cls in pairs:
        s = cosine(tfidf(story_terms(a, ""), n, df), tfidf(story_terms(b, ""), n, df))
        by_class[cls].append(s)
    rows = []
    names = {-1: "-1 different", 0: "0 near paraphrase", 1: "1 precise paraphrase"}
    for cls, values in by_class.items():
        values.sort()
        rows.append((names[cls], len(values), f"{sum(values) / len(values):.3f}",
                     f"{values[len(values) // 2]:.3f}",
                     f"{sum(v >= STORY_THRESHOLD for v in values) / len(values):.3f}"))
    print("c. ParaPhraser gold headline pairs: our title similarity (TF-IDF over lemmas)\n")
    print_table(rows, ("class", "pairs", "mean", "median", f"share >= {STORY_THRESHOLD}"))
    print()


ARCHIVE = Path(tempfile.gettempdir()) / "pressbot-eval-dedup-archive.db"


class Recording(Lexical):
    """The lexical similarity, remembering each score it gave (for --tune)."""

    scores: ClassVar[list[tuple[tuple[str, ...], float]]] = []

    def __call__(self, mine, theirs):
        score = super().__call__(mine, theirs)
        Recording.scores.append((tuple(theirs), score))
        return score


async def lexical_of_pairs(pairs: list[Pair]) -> dict[int, tuple[float | None, bool]]:
    """Per pair: the lexical score pressbot gave the first report when it placed the second
    (None: never compared, as for one outlet, or a reprint), and whether they joined."""
    out = {}
    for p in pairs:
        first, second = pair_entries(p)
        terms = tuple(features(prepare(first)).story_terms)
        Recording.scores = []
        joined = await decide_pair(ARCHIVE, first, second, encoder=None, similarity=Recording)
        scores = [s for t, s in Recording.scores if t == terms]
        out[id(p)] = (scores[-1] if scores else None, joined)
    return out


def tune_semantic() -> None:
    """Band, weight and threshold of the semantic blend (bot/dedup/semantic.py), chosen on
    the training and exam pools of both corpora together (one rule for all outlets), for the
    best accuracy over the threshold and its neighbours, then accuracy, then F1. The honey
    files are not read."""
    encoder = MemoEncoder()
    pools = []
    for name, load, parts in POOLS:
        pairs = load(parts[0]) + load(parts[1])
        lexical = asyncio.run(lexical_of_pairs(pairs))
        cosines = encoder_cosines(pairs, encoder)
        encoder.save()
        cases = []
        for p in pairs:
            a, b = (features(prepare(e)) for e in pair_entries(p))
            apart = different_regions(regions_of(b.story_terms), regions_of(a.story_terms))
            cases.append((*lexical[id(p)], cosines[id(p)], apart, p.same))
        pools.append((name, cases))

    def decide(case, low, high, weight, threshold) -> bool:
        lex, joined, cos, apart, _ = case
        if lex is None or apart or not low <= lex < high:
            return joined
        return weight * lex + (1 - weight) * cos >= threshold

    def measure(cases, *params) -> tuple[float, float]:
        tp = sum(decide(c, *params) and c[-1] for c in cases)
        fp = sum(decide(c, *params) and not c[-1] for c in cases)
        fn_ = sum(not decide(c, *params) and c[-1] for c in cases)
        return prf(tp, fp, fn_)[2], sum(decide(c, *params) == c[-1] for c in cases) / len(cases)

    every = [c for _, cases in pools for c in cases]
    results = []
    for low in (0.1, 0.15, 0.2, 0.25, 0.3):
        for high in (0.45, 0.6, 1.01):
            for weight in [w / 10 for w in range(6)]:
                for threshold in [t / 200 for t in range(120, 191)]:
                    params = (low, high, weight, threshold)
                    # accuracy around the threshold too: a plateau, not a lucky peak
                    near = sum(measure(every, low, high, weight, threshold + d)[1]
                               for d in (-0.01, -0.005, 0, 0.005, 0.01)) / 5
                    f1s = [measure(cases, *params) for _, cases in pools]
                    results.append((near, measure(every, *params)[1],
                                    sum(f for f, _ in f1s), params, f1s))
    results.sort(key=lambda r: (-r[0], -r[1], -r[2]))
    rows = [(f"{near:.3f}", f"{acc:.3f}", f"{f1:.3f}", *params,
             *(f"{f:.3f}/{a:.3f}" for f, a in f1s))
            for near, acc, f1, params, f1s in results[:15]]
    base = [measure(cases, 0, 0, 0, 0) for _, cases in pools]
    print("Semantic blend on the training + exam pools (words alone: "
          + ", ".join(f"{n} F1/acc {f:.3f}/{a:.3f}" for (n, _), (f, a) in zip(pools, base,
                                                                              strict=True))
          + ")\n")
    print_table(rows, ("accuracy +-0.01", "accuracy", "sum F1", "low", "high", "weight",
                       "threshold",
                       *(f"{n} F1/acc" for n, _ in pools)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", action="store_true", help="story pairs only (b)")
    parser.add_argument("--sample", type=int, default=1, metavar="K",
                        help="every K-th honey pair only: a fast look, not the figure")
    parser.add_argument("--tune", action="store_true",
                        help="choose the semantic blend on the training and exam pools")
    args = parser.parse_args()
    t = time.perf_counter()
    if not ARCHIVE.exists():
        asyncio.run(build_archive(ARCHIVE))
    if args.tune:
        tune_semantic()
    else:
        if not args.stories:
            asyncio.run(eval_reprints())
        eval_stories(args.sample)
        if not args.stories:
            eval_paraphraser()
    print(f"total {time.perf_counter() - t:.0f}s")


if __name__ == "__main__":
    main()
