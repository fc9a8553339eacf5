"""Key figures: amounts with their units and what they measure, as written in the text.

"товарооборот ... вырос на 60%", "объем инвестиций – 15,6 миллиарда рублей". A number counts when
a unit or a scale word follows it (%, рублей, тонн, млрд ...); bare years, dates and ordinals
do not. What it measures is the run of words before it in the same clause (up to seven words).
"""

from __future__ import annotations

import re

_NUMBER = r"\d{1,3}(?:[\s\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = r"(?:триллион\w*|миллиард\w*|миллион\w*|тысяч\w*|трлн|млрд|млн|тыс\.?)"
_UNIT = (r"(?:%|процент\w*|руб(?:\.|л\w*)?|₽|долл(?:\.|ар\w*)?|\$|евро|€|юан\w*|сум\w*|"
         r"тонн\w*|т\b|кг|килограмм\w*|км|километр\w*|кв\.\s?м|квадратн\w+ метр\w*|м2|га\b|"
         r"гектар\w*|кубометр\w*|куб\.\s?м|мвт|гвт|квт\w*|человек|сотрудник\w*|рабоч\w+ мест\w*|"
         r"предприяти\w*|компани\w*|организаци\w*|резидент\w*|"
         r"мест\w*|единиц\w*|штук\w*|литр\w*|баррел\w*)")
FIGURE = re.compile(
    rf"(?P<num>{_NUMBER})\s*(?P<scale>{_SCALE})?\s*(?P<unit>{_UNIT})?", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:()«»\"“”]|\s[–—-]\s")


def stated_figure(sentence: str) -> bool:
    """Whether a sentence states an amount with its unit or scale (a quick test)."""
    return any(m.group("scale") or m.group("unit") for m in FIGURE.finditer(sentence))


def _context(sentence: str, start: int) -> str:
    """Up to seven words before the number, within its clause; a clause of one or two words
    ("почти", "– на") takes the clause before it too."""
    parts = _CLAUSE_BREAK.split(sentence[:start])
    words = parts[-1].split()
    if len(words) < 3 and len(parts) > 1:
        words = parts[-2].split() + words
    return " ".join(words[-7:])


def key_figures(sentences: list[str], limit: int = 10) -> list[str]:
    """Distinct figures in text order, each as 'what it measures + amount + unit'."""
    out: list[str] = []
    seen: set[str] = set()
    for sentence in sentences:
        for m in FIGURE.finditer(sentence):
            if not (m.group("scale") or m.group("unit")):
                continue
            num = m.group("num")
            unit = (m.group("unit") or "").lower()
            amount = m.group(0).strip()
            context = _context(sentence, m.start())
            figure = f"{context} {amount}".strip() if context else amount
            figure = re.sub(r"\s+", " ", figure)
            key = re.sub(r"\W+", "", num + unit)
            if key in seen or len(figure) < 3:
                continue
            seen.add(key)
            out.append(figure)
            if len(out) >= limit:
                return out
    return out
