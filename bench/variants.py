"""Reprint variants of real articles, as outlets make them: a new title, a lead-in line, site
chrome, one or two paragraphs dropped, paragraphs reordered, the first 40% only, and all at once.
Deterministic for a given seed."""

from __future__ import annotations

import random
import re

LEAD_INS = [
    "ТОМСК, {d} — РИА Томск.",
    "Как сообщает пресс-служба администрации региона,",
    "Об этом сообщили в пресс-службе ведомства.",
    "{d}. Новости Сибири.",
    "Редакция получила пресс-релиз следующего содержания.",
]
CHROME = [
    "Подписывайтесь на наш канал в Telegram, чтобы первыми узнавать главные новости региона.",
    "Фото: пресс-служба администрации",
    "Читайте также: {other}",
    "Поделиться ВКонтакте Одноклассники Telegram",
    "Нашли ошибку? Выделите её и нажмите Ctrl+Enter",
    "Реклама. ООО «Ромашка», ИНН 7017000000",
]
TITLE_PREFIXES = ["Новость дня:", "Важно:", "Официально:", "Регион:"]
KINDS = ("new_title", "lead_in", "chrome", "drop", "reorder", "first40", "combined")


def paragraphs(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"\n\s*\n|\s{2,}", text) if p.strip()]
    return parts or [text]


def strip_dateline(text: str) -> str:
    """'МОСКВА, 4 дек - РИА Новости. Текст' -> 'Текст'."""
    return re.sub(r"^[А-ЯЁ][А-ЯЁ\- ]+,\s*\d{1,2}\s+\w+\s*[-—–]\s*РИА Новости\.\s*", "", text)


def first_share(paras: list[str], share: float) -> list[str]:
    total = sum(len(p) for p in paras)
    out, size = [], 0
    for p in paras:
        if out and size >= share * total:
            break
        if size + len(p) > share * total * 1.3 and out:
            break
        out.append(p)
        size += len(p)
    if len(out) == len(paras) and len(paras) == 1:  # one paragraph: cut by sentences
        sentences = re.split(r"(?<=[.!?])\s+", paras[0])
        keep = max(1, round(len(sentences) * share))
        out = [" ".join(sentences[:keep])]
    return out


def make_variant(title: str, text: str, kind: str, rng: random.Random,
                 other_title: str = "Другая новость") -> tuple[str, str]:
    paras = paragraphs(text)
    day = f"{rng.randint(1, 28)} {rng.choice(['янв', 'фев', 'мар', 'окт', 'дек'])}"
    kinds = {"new_title", "lead_in", "chrome", "drop", "reorder", "first40"} \
        if kind == "combined" else {kind}
    if "first40" in kinds:
        paras = first_share(paras, 0.4)
    if "drop" in kinds and len(paras) >= 3:
        for _ in range(min(rng.choice([1, 2]), len(paras) - 2)):
            paras.pop(rng.randrange(1, len(paras)))
    if "reorder" in kinds and len(paras) >= 2:
        head, rest = paras[:1], paras[1:]
        rng.shuffle(rest)
        paras = rest + head if rng.random() < 0.3 else head + rest
    if "lead_in" in kinds:
        paras = [rng.choice(LEAD_INS).format(d=day), *paras]
    if "chrome" in kinds:
        paras = paras + [c.format(other=other_title) for c in rng.sample(CHROME, 3)]
    if "new_title" in kinds:
        title = f"{rng.choice(TITLE_PREFIXES)} {title.lower()}"
    return title, "\n\n".join(paras)
