"""The layers only point down: a module imports from its own layer or the ones below it, and
aiogram only inside bot/telegram/. docs/imports.md draws the same graph."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

# Lower number, lower layer. A module imports its own package or lower layers only.
LAYERS = {
    "bot": 0,  # bot/__init__.py holds the version only
    "bot.models": 0, "bot.config": 0, "bot.text": 1, "bot.logs": 0, "bot.memory": 0,
    "bot.cpu": 0,
    "bot.ingest": 2,  # fetch, parse, extract, clean: pure or network only
    "bot.understand": 3,  # summaries leave out what clean.py calls site chrome
    "bot.dedup": 4,  # regions come from understand's gazetteer
    "bot.features": 5,
    "bot.storage": 6,
    "bot.delivery": 7,
    "bot.pipeline": 8, "bot.poller": 9, "bot.sourcing": 9, "bot.web": 9, "bot.metrics": 9,
    "bot.scheduler": 10,
    "bot.telegram": 11,
    "bot.app": 12, "bot.cli": 13, "bot.__main__": 14,
}


def layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in LAYERS:
            return name, LAYERS[name]
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
    return out


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def test_imports_point_down_the_layers():
    upward = []
    for name, path in modules():
        own, rank = layer(name)
        for target, line in imports(path):
            if not target.startswith("bot.") and target != "bot":
                continue
            other, their = layer(target)
            if their > rank or (their == rank and other != own):
                upward.append(f"{path.relative_to(ROOT)}:{line}: {own} -> {other}")
    assert not upward, "\n".join(upward)


def test_aiogram_only_in_bot_telegram():
    outside = [f"{path.relative_to(ROOT)}:{line}"
               for name, path in modules() if not name.startswith("bot.telegram")
               for target, line in imports(path) if target.split(".")[0] == "aiogram"]
    assert not outside, outside


def test_the_import_graph_in_the_docs_is_the_code_s():
    from bench.imports import graph

    assert graph() in (ROOT / "docs" / "imports.md").read_text(encoding="utf-8")
