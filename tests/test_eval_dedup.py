"""The story figures "as pressbot decides" in bench/eval_dedup.py come from the very decision
pressbot makes: on a sample of labelled pairs, the bench's decision equals what
`pressbot analyze --db` says of the same two texts (two outlets) over the same archive, the
semantic signal included (some of the sample's pairs are uncertain for the words)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from bench.eval_dedup import decide_pair
from bench.pairs import TG, load_tg
from bot.ingest.files import read_document
from bot.models import Entry
from bot.pipeline import process
from bot.storage.store import Store
from bot.understand.encoder import E5Encoder

from conftest import ROOT, SEEDS


class Counting(E5Encoder):
    """pressbot's encoder, counting the texts it reads."""

    texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return super().embed(texts)


async def analyze_same_story(archive: Path, first: Path, second: Path) -> bool:
    config = archive.with_name("fast.toml")  # NER plays no part in placing an article
    config.write_text("[understanding]\nner = false\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "analyze", "--db", str(archive),
        "--json", str(first),
        str(second), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    a, b = (json.loads(line) for line in out.decode().splitlines())
    return a["story"] == b["story"]


@pytest.mark.skipif(not TG.is_dir(), reason="../shared/eval/tgcontest_clustering_pairs absent")
async def test_the_bench_decides_as_pressbot_analyze_does(tmp_path):
    archive = tmp_path / "archive.db"
    async with await Store.open(archive) as store:
        await process(store, [read_document(p)[0] for p in sorted(SEEDS.glob("*.txt"))])
    pairs = load_tg("exam")
    sample = [p for p in pairs if p.same][:3] + [p for p in pairs if not p.same][:2]
    encoder = Counting()  # pressbot's defaults: [dedup] semantic = true
    for n, pair in enumerate(sample):
        # Two outlets: files in two folders (an outlet is a file's folder).
        first, second = tmp_path / f"a{n}" / "1.txt", tmp_path / f"b{n}" / "2.txt"
        for path, title, text in ((first, pair.title1, pair.text1),
                                  (second, pair.title2, pair.text2)):
            path.parent.mkdir()
            path.write_text(f"{title}\n\n{text}", encoding="utf-8")
        entries = [read_document(first)[0], read_document(second)[0]]
        assert all(isinstance(e, Entry) for e in entries)
        bench = await decide_pair(archive, *entries, encoder=encoder)
        assert bench == await analyze_same_story(archive, first, second), pair.title1
    assert encoder.texts > 0  # the sample reaches the encoder
