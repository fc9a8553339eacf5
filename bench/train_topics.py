"""Train the learned topic signal (bot/understand/data/topic_model.json) offline.

Data, all outside the evaluation file ../shared/eval/ria_news_topics/ria_news_topics_9.csv:
  - ../shared/eval/ria_news_topics_train/: 480 ria.ru economy articles (file 3) and the 52 rows
    of file 7 that file 9 does not hold (48 society, 4 economy);
  - ../shared/eval/tgcontest_categories/: the Toloka training and exam pools and the v0 markup
    (579 lines), news of other outlets labelled economy, society, sports, ... (the honey pool is
    left out: it is that task's evaluation pool).

Model: TF-IDF over content lemmas (bot.understand.learned.features; sublinear tf, min_df 3,
max_df 0.5) and logistic regression (balanced classes) for the class "economy". Everything is
chosen by 5-fold cross-validation on these rows only, where the ria.ru society rows weigh as much
as the ria.ru economy rows together (they are the only negatives in ria.ru's style: without the
weight a model learns "written by ria.ru" instead of "economy"):
  1. C, by the weighted log-loss of the out-of-fold probabilities;
  2. the tagger's gates (keep_at, add_at, strong: see bot/understand/learned.py), by the
     weighted F1 of "any economic tag" with the lexicon and the out-of-fold probabilities,
     through the very decision function the tagger runs (bot.understand.topics.decide).
The exported weights are checked against scikit-learn's own probabilities before writing.

    pip install -e '.[bench]'; python bench/train_topics.py [--dry-run]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import SHARED, print_table
from bench.variants import strip_dateline
from bot.config import default_topics
from bot.text.morph import lemmas
from bot.understand.learned import FORMAT, MODEL_FILE, LearnedClass, Scored, TopicModel, features
from bot.understand.topics import Tagger, decide

TRAIN = SHARED / "eval" / "ria_news_topics_train"
CATEGORIES = SHARED / "eval" / "tgcontest_categories"
# The taxonomy's economic topics: the ones the economy class vouches for (the bench counts any
# of them as an economy tag), and the one it adds on its own evidence.
ECONOMIC = ("trade", "industry_investment", "metals", "chemistry", "energy", "machinery",
            "agriculture_food", "forestry", "economy_finance")
ADD = "economy_finance"
CS = (1.0, 3.0, 10.0, 30.0, 100.0)
KEEP_AT = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
ADD_AT = (0.6, 0.7, 0.8, 0.9, 0.95, 1.01)
STRONG = (6.0, 8.0, 10.0, 15.0, 1e9)


def load_training() -> list[tuple[str, str, str, str]]:
    """(title, text, label, source) for every training row; tgcontest's entertainment is
    culture, its sport sports."""
    csv.field_size_limit(10**8)
    rows = []
    for name in ("ria_news_topics_3.csv", "ria_news_topics_7_not_in_9.csv"):
        path = TRAIN / name
        if not path.exists():
            sys.exit(f"train_topics: {path} not found")
        with path.open(encoding="utf-8", newline="") as fh:
            rows += [(r["title"], strip_dateline(r["content"]), r["topic"], "ria.ru")
                     for r in csv.DictReader(fh)]
    rename = {"sport": "sports", "entertainment": "culture"}
    for name in ("ru_cat_training.tsv", "ru_cat_exam.tsv"):
        with (CATEGORIES / name).open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                label = r["GOLDEN:res"]
                rows.append((r["INPUT:title"], r["INPUT:text"], rename.get(label, label),
                             "tgcontest"))
    with (CATEGORIES / "markup_categories_v0.txt").open(encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.strip().partition(" ")
            label = label.removeprefix("__label__")
            rows.append(("", text, rename.get(label, label), "tgcontest"))
    return rows


def weighted_f1(pred, gold, weight) -> tuple[float, float, float]:
    tp = sum(w for p, g, w in zip(pred, gold, weight, strict=True) if p and g)
    fp = sum(w for p, g, w in zip(pred, gold, weight, strict=True) if p and not g)
    fn = sum(w for p, g, w in zip(pred, gold, weight, strict=True) if g and not p)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="do not write the model file")
    args = parser.parse_args()
    try:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        sys.exit("train_topics: scikit-learn is needed: pip install -e '.[bench]'")

    rows = load_training()
    print("training rows:", ", ".join(f"{src} {label} {n}" for (src, label), n in sorted(
        Counter((r[3], r[2]) for r in rows).items())))
    docs = [features(lemmas(f"{title}\n{text}")) for title, text, _, _ in rows]
    gold = np.array([label == "economy" for _, _, label, _ in rows])
    ria = np.array([src == "ria.ru" for *_, src in rows])
    weight = np.ones(len(rows))
    weight[ria & ~gold] = (ria & gold).sum() / max(1, (ria & ~gold).sum())

    def vectorizer():
        return TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=3, max_df=0.5)

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    split = list(folds.split(docs, gold))
    rows_c = []
    best = None
    for C in CS:
        oof = np.zeros(len(rows))
        for train, test in split:
            vec = vectorizer()
            x = vec.fit_transform([docs[i] for i in train])
            clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
            clf.fit(x, gold[train])
            oof[test] = clf.predict_proba(vec.transform([docs[i] for i in test]))[:, 1]
        q = np.clip(oof, 1e-9, 1 - 1e-9)
        loss = -np.average(np.where(gold, np.log(q), np.log(1 - q)), weights=weight)
        f = weighted_f1(oof >= 0.5, gold, weight)[2]
        rows_c.append((f"{C:g}", f"{loss:.4f}", f"{f:.3f}"))
        if best is None or loss < best[0]:
            best = (loss, C, oof)
    assert best is not None
    _, C, oof = best
    print("\n1. C by weighted log-loss of out-of-fold probabilities\n")
    print_table(rows_c, ("C", "log-loss", "F1 at 0.5"))
    print(f"\nchosen C = {C:g}")

    # 2. Gates, through the tagger's own decision function.
    tagger = Tagger(default_topics(), learned=False)
    taxonomy = set(tagger.topics)
    found = [tagger.lexicon(title, text) for title, text, _, _ in rows]
    econ = set(ECONOMIC)

    def predict(keep_at: float, add_at: float, strong: float) -> list[bool]:
        c = LearnedClass("economy", 0.0, {}, frozenset(ECONOMIC), ADD, keep_at, add_at, strong)
        out = []
        for f, p in zip(found, oof, strict=True):
            tags = decide(f, {"economy": Scored(float(p), ("x",))}, (c,), taxonomy)
            out.append(any(t.id in econ for t in tags))
        return out

    lexicon_only = [any(t.id in econ for t in decide(f, {}, (), taxonomy)) for f in found]
    grid = []
    for keep_at, add_at, strong in itertools.product(KEEP_AT, ADD_AT, STRONG):
        grid.append((weighted_f1(predict(keep_at, add_at, strong), gold, weight),
                     keep_at, add_at, strong))
    grid.sort(key=lambda g: (-g[0][2], -g[1], g[2], g[3]))
    _, keep_at, add_at, strong = grid[0]
    table = [("lexicon alone", "", "", "", *(f"{v:.3f}" for v in weighted_f1(
        lexicon_only, gold, weight)))]
    table.append(("learned alone at 0.5", "", "", "", *(f"{v:.3f}" for v in weighted_f1(
        oof >= 0.5, gold, weight))))
    for (p, r, f), k, a, s in grid[:5]:
        table.append(("lexicon + learned", f"{k:g}", f"{a:g}", f"{s:g}", f"{p:.3f}", f"{r:.3f}",
                      f"{f:.3f}"))
    print("\n2. Gates by weighted F1 of any economic tag (out-of-fold, training rows only)\n")
    print_table(table, ("system", "keep_at", "add_at", "strong", "P", "R", "F1"))

    # Final model on all rows, exported and checked against scikit-learn.
    vec = vectorizer()
    x = vec.fit_transform(docs)
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(x, gold)
    vocab = vec.get_feature_names_out().tolist()
    coef = clf.coef_[0]
    nonzero = [i for i, w in enumerate(coef) if abs(w) >= 1e-4]
    data = {
        "format": FORMAT,
        "trained_by": "bench/train_topics.py",
        "data": "ria_news_topics_train (files 3 and 7 outside 9), tgcontest categories training,"
                " exam and v0 markup",
        "vocabulary": vocab,
        "idf": [round(float(v), 5) for v in vec.idf_],
        "classes": [{
            "name": "economy", "bias": round(float(clf.intercept_[0]), 6),
            "index": nonzero, "weights": [round(float(coef[i]), 5) for i in nonzero],
            "topics": list(ECONOMIC), "add": ADD, "keep_at": keep_at,
            "add_at": add_at, "strong": strong}],
    }
    model = TopicModel.from_json(json.loads(json.dumps(data)))
    sk = clf.predict_proba(x)[:, 1]
    worst = max(abs(model.score(d)["economy"].probability - s) for d, s in zip(docs, sk,
                                                                                strict=True))
    if worst > 1e-3:
        sys.exit(f"train_topics: exported model differs from scikit-learn by {worst:.4f}")
    print(f"\nexported: {len(vocab)} lemmas, {len(nonzero)} weights; largest difference from "
          f"scikit-learn's probability {worst:.1e}; gates keep_at={keep_at:g} "
          f"add_at={add_at:g} strong={strong:g}")
    top = sorted(zip(coef, vocab, strict=True))
    print("most economic lemmas:", ", ".join(w for _, w in top[-15:][::-1]))
    print("least economic lemmas:", ", ".join(w for _, w in top[:15]))
    if not args.dry_run:
        MODEL_FILE.parent.mkdir(exist_ok=True)
        MODEL_FILE.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                              encoding="utf-8")
        print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
