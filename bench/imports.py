"""The import graph of pressbot's packages, as a Mermaid diagram (docs/imports.md).

    python bench/imports.py [ROOT]

Each node is a package or top-level module of bot/; an edge A --> B means some module of A
imports B. tests/test_layers.py checks that every edge points down the layers.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def unit(module: str) -> str:
    """bot.storage.db -> storage; bot.app -> app."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "bot"


def edges(root: Path = ROOT) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for path in sorted((root / "bot").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        own = unit(".".join(rel.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("bot.") and unit(name) not in (own, "bot"):
                    out.add((own, unit(name)))
    return out


def graph(root: Path = ROOT) -> str:
    lines = ["```mermaid", "graph TD"]
    lines += [f"  {a} --> {b}" for a, b in sorted(edges(root))]
    lines.append("```")
    return "\n".join(lines)


if __name__ == "__main__":
    print(graph(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
