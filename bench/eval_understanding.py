"""Understanding on real news: topic tags against ria.ru rubrics, beside a learned yardstick.

a. Topics on the 925 ria.ru articles: precision, recall and F1 of `culture` against the culture
   rubric, and of the economic tags (any of ECONOMIC) against the economy rubric: pressbot's
   tagger (the lexicon checked by the learned model of bench/train_topics.py, trained outside
   this file), the lexicon alone, the shipped model alone. Yardstick: TF-IDF over lemmas with
   logistic regression, 5-fold cross-validated on the same rubric (it learns from these labels;
   our tagger never sees them).
b. Summaries on the same articles (dateline stripped): ROUGE-1/2/L F1 on lower-case surface
   tokens against title + subtitle, beside Lead-1/2/3 cut to the same 350 characters by whole
   sentences and sumy's TextRank and LexRank at the same length (tokenised with razdel: sumy's
   own Russian tokenizer needs NLTK data). Also: summaries that are not whole sentences of the
   article, and articles whose figures appear in neither summary nor key figures.
c. Throughput, articles per second on one core: tags + summary, and with NER.

    pip install -e '.[bench]'; python bench/eval_understanding.py
    python bench/eval_understanding.py --tune   # the summary weights' grid, training rows only
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re

from bench._data import SHARED, RiaArticle, load_ria, print_table
from bench.train_topics import ECONOMIC as TRAINED_ECONOMIC
from bench.variants import strip_dateline
from bot.config import default_topics
from bot.text.morph import lemmas
from bot.text.normalize import content_lemmas
from bot.understand.analyzer import Understanding
from bot.understand.entities import preload
from bot.understand.figures import FIGURE, MAX_FIGURES
from bot.understand.learned import default_model
from bot.understand.nlp import LOADED
from bot.understand.summary import MAX_CHARS, split_sentences, summarize
from bot.understand.topics import Tagger

# Passenger transport, IT, medicine and science news are society as often as economy in the
# ria.ru rubrics; the industrial and financial tags are the economic ones (the topics the learned
# economy class vouches for).
ECONOMIC = set(TRAINED_ECONOMIC)


def prf(pred: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def yardstick(docs: list[str], gold: list[bool]) -> tuple[float, float, float]:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
        from sklearn.pipeline import make_pipeline
    except ImportError:
        sys.exit("bench: scikit-learn is needed for the yardstick: pip install -e '.[bench]'")
    model = make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2),
                          LogisticRegression(max_iter=2000, C=10))
    pred = cross_val_predict(model, docs, gold, cv=StratifiedKFold(5, shuffle=True,
                                                                   random_state=0))
    return prf([bool(p) for p in pred], gold)


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def ngrams(toks: list[str], n: int) -> dict[tuple[str, ...], int]:
    out: dict[tuple[str, ...], int] = {}
    for i in range(len(toks) - n + 1):
        key = tuple(toks[i:i + n])
        out[key] = out.get(key, 0) + 1
    return out


def rouge_n(candidate: str, reference: str, n: int) -> float:
    c, r = ngrams(tokens(candidate), n), ngrams(tokens(reference), n)
    overlap = sum(min(v, r.get(k, 0)) for k, v in c.items())
    if not overlap:
        return 0.0
    p, rec = overlap / sum(c.values()), overlap / sum(r.values())
    return 2 * p * rec / (p + rec)


def rouge_l(candidate: str, reference: str) -> float:
    a, b = tokens(candidate), tokens(reference)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    lcs = prev[-1]
    if not lcs:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


def fit(sentences: list[str], limit: int = MAX_CHARS) -> str:
    out, size = [], 0
    for s in sentences:
        if size + len(s) + (1 if out else 0) > limit:
            break
        out.append(s)
        size += len(s) + (1 if len(out) > 1 else 0)
    return " ".join(out) if out else (sentences[0] if sentences else "")


def lead(text: str, k: int) -> str:
    return fit(split_sentences(text)[:k])


def sumy_summarizers():
    try:
        from sumy.nlp.stemmers import Stemmer
        from sumy.parsers.plaintext import PlaintextParser
        from sumy.summarizers.lex_rank import LexRankSummarizer
        from sumy.summarizers.text_rank import TextRankSummarizer
    except ImportError:
        return {}

    class RazdelTokenizer:
        language = "russian"

        def to_sentences(self, paragraph: str) -> list[str]:
            return split_sentences(paragraph)

        def to_words(self, sentence: str) -> list[str]:
            return re.findall(r"\w+", sentence)

    tokenizer = RazdelTokenizer()
    out = {}
    for name, cls in (("sumy TextRank", TextRankSummarizer), ("sumy LexRank", LexRankSummarizer)):
        summarizer = cls(Stemmer("russian"))

        def run(text: str, summarizer=summarizer) -> str:
            doc = PlaintextParser.from_string(text, tokenizer).document
            ranked = [str(s) for s in summarizer(doc, len(doc.sentences))]
            order = {s: i for i, s in enumerate(str(x) for x in doc.sentences)}
            chosen, size = [], 0
            for s in ranked:
                if size + len(s) + 1 <= MAX_CHARS:
                    chosen.append(s)
                    size += len(s) + 1
                if len(chosen) == 3:
                    break
            return " ".join(sorted(chosen, key=lambda s: order.get(s, 0)))

        out[name] = run
    return out


_SENTENCE_END = re.compile(r"[.!?…]\s+|\n+")


def added_facts(title: str, summary: str, figures: Sequence[str]) -> bool:
    """Whether summary or figures hold a number or a name the title lacks: digits, or a
    capitalised word past a sentence start (compared by its first five letters)."""
    def facts(text: str) -> tuple[set[str], set[str]]:
        nums = {n.replace(",", ".") for n in re.findall(r"\d+(?:[.,]\d+)?", text)}
        caps = set()
        for sentence in _SENTENCE_END.split(text):
            words = re.findall(r"[А-ЯЁA-Zа-яёa-z][\w-]*", sentence)
            caps |= {w.lower()[:5] for w in words[1:] if w[0].isupper()}
        return nums, caps

    title_nums, _ = facts(title)
    title_stems = {w.lower()[:5] for w in re.findall(r"\w+", title)}
    nums, caps = facts(" ".join([summary, *figures]))
    return bool(nums - title_nums or caps - title_stems)


def article_text(content: str) -> str:
    return "\n\n".join(p.strip() for p in strip_dateline(content).split("  ") if p.strip())


def eval_summaries(articles) -> None:
    systems = {"Lead-1": lambda t, x: lead(x, 1), "Lead-2": lambda t, x: lead(x, 2),
               "Lead-3": lambda t, x: lead(x, 3),
               "ours": lambda t, x: summarize(t, x).text}
    for name, fn in sumy_summarizers().items():
        systems[name] = lambda t, x, fn=fn: fn(x)
    texts = [(article_text(a.content), a) for a in articles]
    rows = []
    for name, fn in systems.items():
        r1 = r2 = rl = 0.0
        for text, a in texts:
            summary = fn(a.title, text)
            reference = f"{a.title}. {a.subtitle}"
            r1 += rouge_n(summary, reference, 1)
            r2 += rouge_n(summary, reference, 2)
            rl += rouge_l(summary, reference)
        n = len(texts)
        rows.append((name, f"{100 * r1 / n:.1f}", f"{100 * r2 / n:.1f}", f"{100 * rl / n:.1f}"))
    not_whole = lost = adds = lead_adds = 0
    preload()  # NER first, as `pressbot run` does: the syntax model then shares its embedding
    for text, a in texts:
        s = summarize(a.title, text, parse=True)
        sentences = set(split_sentences(text))
        not_whole += any(x not in sentences for x in s.sentences)
        figures = {m.group(0).strip() for m in FIGURE.finditer(text)
                   if m.group("scale") or m.group("unit")}
        kept = " ".join([a.title, s.text, *s.key_figures])
        lost += any(f not in kept for f in figures)
        adds += added_facts(a.title, s.text, s.key_figures)
        lead_adds += added_facts(a.title, lead(text, 2), ())
    n = len(texts)
    print(f"b. Summaries of {n} ria.ru articles against title + subtitle "
          f"(ROUGE F1 x 100, surface tokens; all at most {MAX_CHARS} characters)\n")
    print_table(rows, ("system", "ROUGE-1", "ROUGE-2", "ROUGE-L"))
    print(f"\n   ours: {not_whole} summaries not made of whole sentences; {lost} articles with a"
          f" figure in neither title, summary nor key figures (key figures keep at most "
          f"{MAX_FIGURES})")
    print(f"   adds to the title (a number or a name the title lacks, in summary or figures): "
          f"ours {adds / n:.1%}, yardstick Lead-2 alone {lead_adds / n:.1%} (target >= 80%)\n")


def load_ria_train() -> list:
    """The ria.ru rows outside the evaluation file (ria_news_topics_train), as RiaArticle."""
    csv.field_size_limit(10**8)
    out = []
    for name in ("ria_news_topics_3.csv", "ria_news_topics_7_not_in_9.csv"):
        with (SHARED / "eval" / "ria_news_topics_train" / name).open(
                encoding="utf-8", newline="") as fh:
            out += [RiaArticle(r["id"], r["url"], r["title"], r["subtitle"], r["content"],
                               r["datetime"], r["topic"]) for r in csv.DictReader(fh)]
    return out


def tune_summaries() -> None:
    """The summary weights' grid on the training rows: ROUGE-1 against title + subtitle and the
    share of summaries that add to the title; the best ROUGE-1 among those adding >= 85%."""
    import itertools

    from bot.understand import summary as sm

    rows = [(a.title, article_text(a.content), f"{a.title}. {a.subtitle}")
            for a in load_ria_train()]
    lead2 = sum(rouge_n(lead(x, 2), ref, 1) for _, x, ref in rows) / len(rows)
    results = []
    # (a first grid over names, numbers and the lead's threshold moved ROUGE-1 by <= 0.2)
    grid = itertools.product((1.2, 3.0), (0.5,), (0.5, 1.0), (0.3,), (0.3,), (0.0, 0.5), (2,),
                             (0.3, 0.45, 0.6))
    for pos, cen, new, name, num, rep, lead_adds, fill in grid:
        sm.W_POSITION, sm.W_CENTRALITY, sm.W_NEW = pos, cen, new
        sm.W_NAME, sm.W_NUMBER, sm.W_REPEAT, sm.LEAD_ADDS = name, num, rep, lead_adds
        sm.FILL = fill
        r1 = added = 0.0
        for title, text, ref in rows:
            s = sm.summarize(title, text)
            r1 += rouge_n(s.text, ref, 1)
            added += added_facts(title, s.text, s.key_figures)
        results.append((r1 / len(rows), added / len(rows), pos, cen, new, name, num, rep,
                        lead_adds, fill))
    results.sort(key=lambda r: (-(r[1] >= 0.85), -r[0]))
    print(f"Summary weights on {len(rows)} training rows (Lead-2 ROUGE-1 {100 * lead2:.1f})\n")
    print_table([(f"{100 * r[0]:.1f}", f"{r[1]:.1%}", *r[2:]) for r in results[:10]],
                ("ROUGE-1", "adds", "W_POSITION", "W_CENTRALITY", "W_NEW", "W_NAME",
                 "W_NUMBER", "W_REPEAT", "LEAD_ADDS", "FILL"))


def main() -> None:
    if "--tune" in sys.argv:
        tune_summaries()
        return
    articles = load_ria()
    texts = [(a.title, strip_dateline(a.content)) for a in articles]
    taggers = {"lexicon + learned (pressbot)": Tagger(default_topics()),
               "lexicon alone": Tagger(default_topics(), learned=False)}
    model = default_model()
    learned_p = [model.score(lemmas(f"{t}\n{x}"))["economy"].probability if model else 0.0
                 for t, x in texts]
    tags = {name: [{x.id for x in tagger.tag(t, x)} for t, x in texts]
            for name, tagger in taggers.items()}
    lemma_docs = [" ".join(content_lemmas(t + "\n" + x)) for t, x in texts]
    rows = []
    for rubric in ("culture", "economy"):
        gold = [a.topic == rubric for a in articles]
        for name, found in tags.items():
            pred = [("culture" in x) if rubric == "culture" else bool(x & ECONOMIC)
                    for x in found]
            rows.append((rubric, sum(gold), name, *(f"{v:.3f}" for v in prf(pred, gold))))
        if rubric == "economy" and model:
            rows.append((rubric, sum(gold), "learned alone (p >= 0.5)",
                         *(f"{v:.3f}" for v in prf([p >= 0.5 for p in learned_p], gold))))
        rows.append((rubric, sum(gold), "yardstick: learned, 5-fold CV on these labels",
                     *(f"{v:.3f}" for v in yardstick(lemma_docs, gold))))
    print(f"a. Topics on {len(articles)} ria.ru articles (economic tags: "
          f"{', '.join(sorted(ECONOMIC))})\n")
    print_table(rows, ("rubric", "articles", "system", "P", "R", "F1"))
    print("\n(target F1 >= 0.90 for each, pressbot's row; its learned part was trained by "
          "bench/train_topics.py on rows outside this file; the yardstick learns from these "
          "very labels)\n")
    eval_summaries(articles)
    rows = []
    for label, understanding in (("tags + summary + figures", Understanding(default_topics(),
                                                                           ner=False)),
                                 ("... and NER", Understanding(default_topics(), ner=True))):
        understanding("warm", "Загрузка моделей.")
        t = time.perf_counter()
        for a in articles:
            understanding(a.title, strip_dateline(a.content))
        rows.append((label, f"{len(articles) / (time.perf_counter() - t):.0f}"))
    print("c. Throughput on one core (lemma cache warm from the runs above)\n")
    print_table(rows, ("stage", "articles/s"))
    print("\n   models loaded, RSS MiB before -> after: " + ", ".join(
        f"{name} {a:.0f} -> {b:.0f}" for name, (a, b) in LOADED.items()))
    print("\n(targets: >= 300/s without NER, >= 45/s with NER)")


if __name__ == "__main__":
    main()
