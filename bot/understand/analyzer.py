"""Everything pressbot understands of one article, in one pure call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Settings, TopicConfig
from bot.understand.entities import Entities, extract
from bot.understand.places import places_in
from bot.understand.summary import MAX_CHARS, summarize
from bot.understand.topics import Tagger, TopicTag, read


@dataclass(frozen=True)
class Understood:
    topics: tuple[TopicTag, ...] = ()
    summary: str | None = None
    key_figures: tuple[str, ...] = ()
    entities: Entities = field(default_factory=Entities)


class Understanding:
    """Configured once (taxonomy, summary length), then applied to each article. With `ner`
    natasha's models run: NER for names, and syntax for the key figures' phrases (loaded on
    the first figure); without it no model is loaded (places by gazetteer, figures by the
    words around the amount)."""

    def __init__(self, topics: Sequence[TopicConfig], summary_chars: int = MAX_CHARS,
                 ner: bool = True) -> None:
        self.tagger = Tagger(topics)
        self.summary_chars = summary_chars
        self.ner = ner

    @classmethod
    def from_settings(cls, settings: Settings) -> Understanding:
        return cls(settings.topics, settings.summary_chars, settings.ner)

    def __call__(self, title: str, text: str) -> Understood:
        summary = summarize(title, text, self.summary_chars, parse=self.ner)
        reading = read(title, text)
        return Understood(topics=tuple(self.tagger.tag(title, text, reading)),
                          summary=summary.text or None, key_figures=summary.key_figures,
                          entities=extract(title, text) if self.ner else Entities(
                              places=places_in(reading.title + reading.text)))
