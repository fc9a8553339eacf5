"""Loaders for the labelled same-story pairs (tgcontest, nyan) and ParaPhraser headline pairs."""

from __future__ import annotations

import csv
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bench._data import SHARED

TG = SHARED / "eval" / "tgcontest_clustering_pairs"
NYAN = SHARED / "eval" / "nyan_crowd_pairs"
PARA = SHARED / "eval" / "paraphraser"


@dataclass(frozen=True)
class Pair:
    title1: str
    text1: str
    url1: str
    title2: str
    text2: str
    url2: str
    same: bool


def _read_tsv(path, quoting):
    csv.field_size_limit(10**8)
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=quoting))


def load_tg(name: str) -> list[Pair]:
    rows = _read_tsv(TG / f"ru_{name}_pool.tsv", csv.QUOTE_NONE)
    return [Pair(r["INPUT:first_title"], r["INPUT:first_text"], r["INPUT:first_url"],
                 r["INPUT:second_title"], r["INPUT:second_text"], r["INPUT:second_url"],
                 r["GOLDEN:quality"] == "OK") for r in rows]


def load_nyan(name: str) -> list[Pair]:
    rows = _read_tsv(NYAN / f"{name}.tsv", csv.QUOTE_MINIMAL)
    return [Pair("", r["INPUT:first_text"], r["INPUT:first_url"], "", r["INPUT:second_text"],
                 r["INPUT:second_url"], r["GOLDEN:result"] == "ok") for r in rows]


def load_paraphraser(name: str = "gold") -> list[tuple[str, str, int]]:
    path = PARA / f"paraphrases_{name}.xml"
    if not path.exists():
        sys.exit(f"bench: {path} not found")
    text = path.read_text(encoding="utf-8").split("?>", 1)[1]
    out = []
    for p in ET.fromstring(text).iter("paraphrase"):
        values = {v.get("name"): (v.text or "") for v in p.iter("value")}
        out.append((values["text_1"], values["text_2"], int(values["class"])))
    return out
