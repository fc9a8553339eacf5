"""Main text of real pages: pressbot's extraction and cleaning beside plain trafilatura.

The scrapinghub article-extraction benchmark (181 pages with hand-made ground truth, in
../shared/eval/extraction/aeb/, see its SOURCE.txt), scored with that benchmark's own metric as
its evaluate.py computes it: per page, 4-gram shingles over ``\\w+`` tokens give tp/fp/fn,
normalised by their sum so long pages weigh no more than short ones; precision is the mean over
pages that predict something, recall the mean over pages whose truth has something, F1 their
harmonic mean; ± is the bootstrap standard deviation over pages (1000 resamples, as there).

Rows, in the same run:
- pressbot: `extract_page` (the page's title and main text) then `clean_text` with that title,
  as `pressbot ingest page.html` and the poller's full-text path do;
- pressbot without cleaning: `extract_page` alone;
- trafilatura.extract as the benchmark runs it (comments on, the library default), and with
  comments off;
- the published output of trafilatura in the benchmark's output/trafilatura.json, a check that
  the metric here reproduces the benchmark's figures (its README gives F1 0.958 for 2.0.0).

Then pages where pressbot returns nothing while trafilatura finds text, and, per rule of
bot/ingest/clean.py: the lines it removed; the tokens of those lines that belong to the ground
truth (a token counts when a 4-gram of the uncleaned text that covers it is one of the truth's
that the cleaned text does not match, each as often as the truth has it) and the other tokens;
F1 with that rule left out; the lines it removed from the seeds (the site chrome the rules are
there for); the lines it removed from the 532 ria.ru articles of the training files in
../shared/eval/ria_news_topics_train/ (article text only: each line removed there is a false
alarm on Russian news).

    pip install -e '.[bench]'; python bench/eval_extraction.py [--aeb DIR] [--seeds DIR] [--ria DIR]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from bench._data import ROOT, SHARED, print_table
from bot.ingest.clean import RULE_NAMES, clean_title, trace_clean
from bot.ingest.extract import extract_page
from bot.ingest.files import read_document

AEB = SHARED / "eval" / "extraction" / "aeb"
SEEDS = ROOT / "seeds"
RIA_TRAIN = SHARED / "eval" / "ria_news_topics_train"
N_BOOTSTRAP = 1000

# --- the benchmark's metric (evaluate.py of scrapinghub/article-extraction-benchmark) -------

_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)
TpFpFn = tuple[float, float, float]


def tokenize(text: str | None) -> list[str]:
    return _TOKEN_RE.findall(text or "")


def ngrams(text: str | None, n: int = 4) -> list[tuple[str, ...]]:
    tokens = tokenize(text)
    out = []
    for i in range(0, max(1, len(tokens) - n + 1)):
        shingle = tuple(tokens[i:i + n])
        if shingle:
            out.append(shingle)
    return out


def shingle_matching(true: str | None, pred: str | None) -> TpFpFn:
    true_shingles, pred_shingles = Counter(ngrams(true)), Counter(ngrams(pred))
    tp = fp = fn = 0.0
    for key in set(true_shingles) | set(pred_shingles):
        t, p = true_shingles.get(key, 0), pred_shingles.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (tp, fp, fn)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def prf(scores: list[TpFpFn]) -> tuple[float, float, float]:
    precision = statistics.mean(_precision(*s) for s in scores if s[0] + s[1] > 0)
    recall = statistics.mean(_recall(*s) for s in scores if s[0] + s[2] > 0)
    return precision, recall, 2 * precision * recall / (precision + recall)


def bootstrap_std(scores: list[TpFpFn], rng: random.Random) -> tuple[float, float, float]:
    samples = []
    for _ in range(N_BOOTSTRAP):
        samples.append(prf([scores[rng.randint(0, len(scores) - 1)] for _ in scores]))
    return tuple(statistics.stdev(col) for col in zip(*samples, strict=True))  # type: ignore


# --- the systems ---------------------------------------------------------------------------


def load(aeb: Path) -> tuple[dict[str, dict], dict[str, str]]:
    truth_path = aeb / "ground-truth.json"
    if not truth_path.is_file():
        sys.exit(f"bench: {truth_path} not found (the shared eval data sits beside the checkout;"
                 " or give --aeb DIR)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = {}
    for key in truth:
        with gzip.open(aeb / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as fh:
            pages[key] = fh.read()
    return truth, pages


def timed(fn: Callable[[str, str], str | None],
          pages: dict[str, str]) -> tuple[dict[str, str], float]:
    """fn(key, html) on every page: the texts (empty for none) and the seconds it took."""
    start = time.perf_counter()
    out = {key: fn(key, html) or "" for key, html in pages.items()}
    return out, time.perf_counter() - start


def cleaned(lines: list[tuple[str, str | None]]) -> str:
    return "\n\n".join(line for line, rule in lines if rule is None)


def ria_lines(folder: Path) -> list[tuple[str, str | None]]:
    """Traced lines of the ria.ru training articles (paragraphs there are split by 2+ spaces)."""
    csv.field_size_limit(10**8)
    out: list[tuple[str, str | None]] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = re.sub(r"\s{2,}", "\n\n", row["content"])
                out += trace_clean(text, title=clean_title(row["title"]))
    return out


def rule_rows(raw: dict[str, tuple[str, str]], truth: dict[str, dict],
              seed_lines: list[tuple[str, str | None]],
              news_lines: list[tuple[str, str | None]]) -> list[tuple]:
    """Per cleaning rule: lines and tokens it removed on the benchmark, F1 without it."""
    lines_by_rule: Counter[str] = Counter()
    truth_tokens: Counter[str] = Counter()
    other_tokens: Counter[str] = Counter()
    for key, (title, text) in raw.items():
        traced = trace_clean(text, title=title)
        # The truth's shingles that the cleaned text does not already match.
        remaining = (Counter(ngrams(truth[key].get("articleBody", "")))
                     - Counter(ngrams(cleaned(traced))))
        labels: list[str | None] = []
        for line, rule in traced:
            labels.extend([rule] * len(tokenize(line)))
            if rule:
                lines_by_rule[rule] += 1
        tokens = tokenize("\n".join(line for line, _ in traced))
        in_truth = [False] * len(tokens)
        for i in range(max(0, len(tokens) - 3)):
            window = tuple(tokens[i:i + 4])
            if any(labels[i:i + 4]) and remaining[window] > 0:
                remaining[window] -= 1
                in_truth[i:i + 4] = [True] * 4
        for label, hit in zip(labels, in_truth, strict=True):
            if label:
                (truth_tokens if hit else other_tokens)[label] += 1
    seeds = Counter(rule for _, rule in seed_lines if rule)
    news = Counter(rule for _, rule in news_lines if rule)
    rows = []
    for name in RULE_NAMES:
        scores = [shingle_matching(truth[key].get("articleBody", ""),
                                   cleaned(trace_clean(text, title=title, skip={name})))
                  for key, (title, text) in raw.items()]
        rows.append((name, lines_by_rule[name], truth_tokens[name], other_tokens[name],
                     f"{prf(scores)[2]:.4f}", seeds[name], news[name]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aeb", type=Path, default=AEB, help="the benchmark's folder")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="the seed documents")
    parser.add_argument("--ria", type=Path, default=RIA_TRAIN,
                        help="the ria.ru training articles (ria_news_topics_train)")
    args = parser.parse_args()
    truth, pages = load(args.aeb)
    rng = random.Random(0)

    raw: dict[str, tuple[str, str]] = {}

    def pressbot_raw(key: str, html: str) -> str | None:
        url = truth[key].get("url") or None
        entry = extract_page(html, url=url, origin=url or key)
        raw[key] = (clean_title(entry.title), entry.text) if entry else ("", "")
        return entry.text if entry else None

    outputs: dict[str, dict[str, str]] = {}
    seconds: dict[str, float] = {}
    outputs["pressbot without cleaning"], seconds["pressbot without cleaning"] = timed(
        pressbot_raw, pages)
    start = time.perf_counter()
    outputs["pressbot"] = {key: cleaned(trace_clean(text, title=title))
                           for key, (title, text) in raw.items()}
    seconds["pressbot"] = seconds["pressbot without cleaning"] + time.perf_counter() - start
    outputs["trafilatura.extract"], seconds["trafilatura.extract"] = timed(
        lambda _key, html: trafilatura.extract(html), pages)
    outputs["trafilatura, comments off"], seconds["trafilatura, comments off"] = timed(
        lambda _key, html: trafilatura.extract(html, include_comments=False), pages)
    published = args.aeb / "output" / "trafilatura.json"
    if published.is_file():
        data = json.loads(published.read_text(encoding="utf-8"))
        name = f"trafilatura {data.get('version', '?')} published output"
        outputs[name] = {key: (data["output"].get(key) or {}).get("articleBody") or ""
                         for key in truth}

    rows = []
    for name, out in outputs.items():
        scores = [shingle_matching(truth[key].get("articleBody", ""), out[key]) for key in truth]
        p, r, f = prf(scores)
        sp, sr, sf = bootstrap_std(scores, rng)
        empty = sum(not out[key].strip() for key in truth)
        rows.append((name, f"{p:.4f} ± {sp:.3f}", f"{r:.4f} ± {sr:.3f}", f"{f:.4f} ± {sf:.3f}",
                     empty, f"{seconds[name]:.1f}" if name in seconds else "-"))
    print(f"Article-extraction benchmark, {len(truth)} pages ({args.aeb}); trafilatura "
          f"{trafilatura.__version__}\n")
    print_table(rows, ("system", "precision", "recall", "F1", "empty pages", "seconds"))

    lost = [key for key in truth if not outputs["pressbot"][key].strip()
            and (outputs["trafilatura.extract"][key].strip()
                 or outputs["trafilatura, comments off"][key].strip())]
    print(f"\npages where pressbot returns nothing while trafilatura finds text: {len(lost)}")
    for key in lost:
        print(f"  {key[:12]}  {truth[key].get('url', '')}")

    seed_lines: list[tuple[str, str | None]] = []
    if args.seeds.is_dir():
        for path in sorted(args.seeds.glob("*.txt")):
            for entry in read_document(path):
                seed_lines += trace_clean(entry.text, title=clean_title(entry.title),
                                          markdown=True)
    base_f1 = prf([shingle_matching(truth[key].get("articleBody", ""), outputs["pressbot"][key])
                   for key in truth])[2]
    news_lines = ria_lines(args.ria) if args.ria.is_dir() else []
    articles = sum(1 for _, rule in news_lines if rule is None)
    print(f"\nclean.py rules on the benchmark (pressbot F1 {base_f1:.4f} with all of them), on the "
          f"seeds ({args.seeds}) and on ria.ru article text ({args.ria}, {articles} lines kept):\n")
    print_table(rule_rows(raw, truth, seed_lines, news_lines),
                ("rule", "lines removed", "truth tokens removed", "other tokens removed",
                 "F1 without it", "seed lines removed", "ria.ru lines removed"))


if __name__ == "__main__":
    main()
