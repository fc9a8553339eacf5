"""Reprint index at scale: ours (LSH bands in SQLite) beside datasketch's MinHashLSH.

Articles are generated from the real ria.ru corpus: paragraphs of 1-3 real sentences drawn at
random, a quarter of their lemmas swapped for random vocabulary so that generated articles are as
distinct from each other as real ones. Each article's index windows (the lede's head and first
four windows) are MinHashed once; both indexes get the same signatures with the same banding
(16 permutations, 4 bands of 4), so the comparison is of the index alone. Queries are excerpts
(the first two paragraphs) of stored articles.

Each index is built and measured in a fresh child process, so memory is its own.

    python bench/dedup_scale.py --sizes 100000,1000000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import queue
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import load_ria, print_table
from bot.dedup.fingerprint import K, from_shingles
from bot.dedup.minhash import BANDS, NUM_PERM, band_keys, signatures
from bot.pipeline import INDEX_WINDOWS
from bot.storage.db import Database
from bot.text.normalize import content_lemmas
from bot.text.shingles import shingle_sequence, shingles

CHUNK = 50_000
MAX_WINDOWS = 1 + INDEX_WINDOWS


def current_rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


# ---------------------------------------------------------------- generation


def sentence_pool() -> tuple[list[list[str]], list[str]]:
    sentences = []
    for a in load_ria():
        for s in re.split(r"(?<=[.!?])\s+", a.content):
            lem = content_lemmas(s)
            if len(lem) >= 5:
                sentences.append(lem)
    vocab = sorted({w for s in sentences for w in s})
    return sentences, vocab


def generate(n: int, seed: int, pool, vocab) -> tuple[np.ndarray, np.ndarray, list]:
    """Signatures uint32[n, MAX_WINDOWS, NUM_PERM] (windows past the article's own are all
    0xFFFFFFFF and skipped), window counts, and each article's paragraphs (kept for queries
    on a sample only: the caller decides)."""
    rng = random.Random(seed)
    sigs = np.full((n, MAX_WINDOWS, NUM_PERM), 0xFFFFFFFF, dtype=np.uint32)
    counts = np.zeros(n, dtype=np.uint8)
    paragraphs_of = []
    for i in range(n):
        paras = []
        for _ in range(rng.randint(3, 7)):
            words = [w for _ in range(rng.randint(1, 3)) for w in rng.choice(pool)]
            paras.append([w if rng.random() > 0.25 else rng.choice(vocab) for w in words])
        per_paragraph = [shingle_sequence(p, K) for p in paras]
        fp = from_shingles(per_paragraph, frozenset(shingles(paras[0][:8], 2)),
                           words=sum(map(len, paras)))
        windows = list(fp.index_windows[:MAX_WINDOWS])
        sigs[i, :len(windows)] = signatures(windows)
        counts[i] = len(windows)
        paragraphs_of.append(paras)
    return sigs, counts, paragraphs_of


def query_signatures(paragraphs: list[list[str]]) -> np.ndarray:
    """What a reprint that keeps the first two paragraphs probes: heads and windows."""
    per_paragraph = [shingle_sequence(p, K) for p in paragraphs[:2]]
    fp = from_shingles(per_paragraph, frozenset(), words=sum(map(len, paragraphs[:2])))
    return signatures(list(fp.heads) + list(fp.windows))


def keys_of(sig_rows: np.ndarray) -> list[int]:
    return [k for sig in sig_rows for k in band_keys(sig)]


# ---------------------------------------------------------------- ours


def run_ours(workdir: str, n: int, out) -> None:
    asyncio.run(_run_ours(Path(workdir), n, out))


async def _run_ours(workdir: Path, n: int, out) -> None:
    base = current_rss_mib()
    path = workdir / "index.db"
    db = await Database.open(path)
    t0 = time.perf_counter()
    for start in range(0, n, CHUNK):
        data = np.load(workdir / f"sigs_{start}.npy")
        counts = np.load(workdir / f"counts_{start}.npy")
        for part in range(0, len(data), 2000):
            rows = [(k, start + j + 1) for j in range(part, min(part + 2000, len(data)))
                    for k in keys_of(data[j, :counts[j]])]
            async with db.transaction() as tx:
                await tx.executemany("INSERT OR IGNORE INTO lsh_bands (key, article_id)"
                                     " VALUES (?, ?)", rows)
        del data, counts
    build = time.perf_counter() - t0
    memory = current_rss_mib() - base
    queries = np.load(workdir / "queries.npy", allow_pickle=True)
    targets = np.load(workdir / "targets.npy")
    insert_times = []
    extra = np.load(workdir / "extra.npy")
    for j in range(len(extra)):
        keys = keys_of(extra[j])
        t = time.perf_counter()
        async with db.transaction() as tx:
            await tx.executemany("INSERT OR IGNORE INTO lsh_bands (key, article_id)"
                                 " VALUES (?, ?)", [(k, n + 1 + j) for k in keys])
        insert_times.append(time.perf_counter() - t)
    query_times, hits, cand_sizes = [], 0, []
    for q, target in zip(queries, targets, strict=True):
        keys = keys_of(q)
        t = time.perf_counter()
        found = await _candidates(db, keys)
        query_times.append(time.perf_counter() - t)
        hits += int(target) + 1 in found
        cand_sizes.append(len(found))
    await db.close()
    size = sum(p.stat().st_size for p in workdir.glob("index.db*"))
    t = time.perf_counter()
    db = await Database.open(path)
    await _candidates(db, keys_of(queries[0]))
    ready = time.perf_counter() - t
    await db.close()
    out.put(dict(build=build, insert=insert_times, query=query_times, hits=hits,
                 candidates=float(np.mean(cand_sizes)), memory=memory, size=size, ready=ready))


async def _candidates(db: Database, keys: list[int]) -> set[int]:
    async with db.read() as tx:
        rows = await tx.fetchall(f"SELECT DISTINCT article_id FROM lsh_bands WHERE key IN"
                                 f" ({','.join('?' * len(keys))})", keys)
    return {r[0] for r in rows}


# ---------------------------------------------------------------- datasketch


def run_datasketch(workdir: str, n: int, out) -> None:
    from datasketch import LeanMinHash, MinHashLSH

    workdir_p = Path(workdir)
    base = current_rss_mib()

    def lean(sig: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=1, hashvalues=sig.astype(np.uint64), scheme="legacy")

    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, NUM_PERM // BANDS))
    t0 = time.perf_counter()
    for start in range(0, n, CHUNK):
        data = np.load(workdir_p / f"sigs_{start}.npy")
        counts = np.load(workdir_p / f"counts_{start}.npy")
        for j in range(len(data)):
            for w in range(counts[j]):
                lsh.insert((start + j + 1, w), lean(data[j, w]), check_duplication=False)
        del data, counts
    build = time.perf_counter() - t0
    memory = current_rss_mib() - base
    queries = np.load(workdir_p / "queries.npy", allow_pickle=True)
    targets = np.load(workdir_p / "targets.npy")
    extra = np.load(workdir_p / "extra.npy")
    insert_times = []
    for j in range(len(extra)):
        t = time.perf_counter()
        for w in range(len(extra[j])):
            lsh.insert((n + 1 + j, w), lean(extra[j, w]), check_duplication=False)
        insert_times.append(time.perf_counter() - t)
    query_times, hits = [], 0
    for q, target in zip(queries, targets, strict=True):
        t = time.perf_counter()
        found = {key[0] for sig in q for key in lsh.query(lean(sig))}
        query_times.append(time.perf_counter() - t)
        hits += int(target) + 1 in found
    out.put(dict(build=build, insert=insert_times, query=query_times, hits=hits,
                 candidates=float("nan"), memory=memory, size=0, ready=build))


# ---------------------------------------------------------------- main


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(np.array(values) * 1000, q):.3f}"


def measure(target, workdir: str, n: int) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(workdir, n, out))
    proc.start()
    while True:
        try:
            result = out.get(timeout=5)
            break
        except queue.Empty:
            if not proc.is_alive():
                sys.exit(f"bench: {target.__name__} died (exit code {proc.exitcode})")
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-datasketch", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    t = time.perf_counter()
    pool, vocab = sentence_pool()
    print(f"sentence pool: {len(pool)} sentences, {len(vocab)} lemmas "
          f"({time.perf_counter() - t:.0f}s)", flush=True)
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="pressbot-scale-") as workdir:
            wd = Path(workdir)
            t = time.perf_counter()
            rng = random.Random(n)
            picks = set(rng.sample(range(n), args.queries))
            queries, targets = [], []
            for start in range(0, n, CHUNK):
                size = min(CHUNK, n - start)
                sigs, counts, paras = generate(size, start, pool, vocab)
                np.save(wd / f"sigs_{start}.npy", sigs)
                np.save(wd / f"counts_{start}.npy", counts)
                for j in range(size):
                    if start + j in picks:
                        queries.append(query_signatures(paras[j]))
                        targets.append(start + j)
            extra, _, _ = generate(1000, -1, pool, vocab)
            np.save(wd / "extra.npy", extra[:, :MAX_WINDOWS])
            qarr = np.empty(len(queries), dtype=object)
            qarr[:] = queries
            np.save(wd / "queries.npy", qarr, allow_pickle=True)
            np.save(wd / "targets.npy", np.array(targets))
            print(f"{n}: generated in {time.perf_counter() - t:.0f}s", flush=True)
            systems = [("ours: SQLite LSH bands", run_ours)]
            if not args.skip_datasketch:
                systems.append(("datasketch MinHashLSH", run_datasketch))
            for name, fn in systems:
                r = measure(fn, workdir, n)
                rows.append((f"{n:,}", name, f"{r['build']:.0f}", pct(r["insert"], 50),
                             pct(r["insert"], 99), pct(r["query"], 50), pct(r["query"], 99),
                             f"{r['hits'] / len(targets):.3f}", f"{r['memory']:.0f}",
                             f"{r['size'] / 2**20:.0f}" if r["size"] else "-",
                             f"{r['ready']:.3f}"))
                print(f"  {name}: done", flush=True)
    print()
    print_table(rows, ("articles", "index", "build s", "insert p50 ms", "insert p99 ms",
                       "query p50 ms", "query p99 ms", "recall", "resident MiB", "disk MiB",
                       "ready after restart s"))
    print("\n(targets at 1M: query p99 <= 2 ms; memory <= 1/10 of datasketch's; ready <= 2 s."
          " datasketch keeps its index in memory only: its restart is a rebuild.)")


if __name__ == "__main__":
    sqlite3.enable_callback_tracebacks(True)
    main()
