"""Normalisation for comparing articles: case, ё, punctuation and number formatting folded,
tokens lemmatised, stop words dropped."""

from __future__ import annotations

import re

from bot.text.morph import lemma, words

# Function words and the commonest news verbs of saying: they carry no story.
STOP_WORDS = frozenset("""
а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до
его ее если есть еще же за здесь и из или им их к как ко когда кто ли либо между меня мне может
мы на над надо наш не него нее нет ни них но ну о об однако он она они оно от очень по под при
про с сам свой себя со так также такой там те тем то того тоже той только том ты у уже хотя чего
чей чем что чтобы чье чья эта эти это этот я который которая которое которые этой этого этим этих
свою своей своего своих ним ней нем сказать сообщить отметить заявить подчеркнуть рассказать
также мочь весь самый каждый другой её кроме после через около вокруг против ради среди тот этом
год году года г т.е т д др тыс млн млрд руб
""".split())

_THOUSANDS = re.compile(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d),(?=\d)")


def fold_numbers(text: str) -> str:
    """'1 000 000' -> '1000000', '15,6' -> '15.6' so number formatting does not matter."""
    return _DECIMAL.sub(".", _THOUSANDS.sub("", text))


def content_lemmas(text: str) -> list[str]:
    """The lemmas that carry meaning, in text order."""
    out = []
    for w in words(fold_numbers(text)):
        lem = lemma(w)
        if lem not in STOP_WORDS and (len(lem) > 1 or lem.isdigit()):
            out.append(lem)
    return out
