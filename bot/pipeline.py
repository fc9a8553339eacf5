"""The way an entry becomes a stored article.

    entry -> prepare (pure: plain text, clean, title, content hash) -> store (exact duplicate?)

Later stages hook in after ``store``, in this order: reprint check against the archive, story
grouping, understanding (topics, places, people, summary, figures), subscriber matching. Each is a
function over plain data; ``Processed`` carries their results to the callers (poller, ingest,
analyze) and the fields stay None until the stage exists.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.clean import clean_text, clean_title
from bot.ingest.htmltext import html_to_text
from bot.models import Article, Entry
from bot.storage.articles import insert_article
from bot.storage.db import Database

SHORT_TEXT = 200  # below this many characters the hash also covers the title


def content_hash(title: str, text: str) -> str:
    """Hash of the text as a reader sees it: case, spacing and punctuation runs folded."""
    folded = re.sub(r"[\W_]+", " ", text.casefold().replace("ё", "е")).strip()
    if len(folded) < SHORT_TEXT:
        folded = re.sub(r"[\W_]+", " ", title.casefold().replace("ё", "е")).strip() + "\n" + folded
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def prepare(entry: Entry, *, source_id: int | None = None,
            markdown: bool | None = None) -> Article | None:
    """Clean an entry into an Article; None when nothing readable is left."""
    title = clean_title(html_to_text(entry.title) if "<" in entry.title else entry.title)
    raw = html_to_text(entry.text) if entry.text_is_html else entry.text
    md = markdown if markdown is not None else entry.origin.lower().endswith((".md", ".txt"))
    text = clean_text(raw, title=title, markdown=md)
    if not title and not text:
        return None
    if not title:
        title = text.split("\n", 1)[0][:120]
    return Article(title=title, text=text, url=entry.url, guid=entry.guid,
                   published=entry.published, origin=entry.origin,
                   content_hash=content_hash(title, text), source_id=source_id)


@dataclass(frozen=True)
class Processed:
    """One entry after the pipeline."""

    article: Article  # as stored (the existing one for an exact duplicate)
    status: str  # "new" | "duplicate"
    duplicate_of: Article | None = None  # the stored article an exact duplicate repeats


async def process(db: Database, entries: list[Entry], *, source_id: int | None = None,
                  fetched_at: datetime | None = None) -> tuple[list[Processed], list[str]]:
    """Run entries through the pipeline in order; return results and per-entry warnings."""
    results: list[Processed] = []
    warnings: list[str] = []
    for entry in entries:
        article = prepare(entry, source_id=source_id)
        if article is None:
            warnings.append(f"{entry.url or entry.guid or entry.origin}: no text left after "
                            "cleaning; skipped")
            continue
        if fetched_at is not None:
            article = Article(**{**article.__dict__, "fetched_at": fetched_at})
        stored, inserted = await insert_article(db, article)
        if not inserted:
            results.append(Processed(article=stored, status="duplicate", duplicate_of=stored))
            continue
        # Next stages (later issues): reprint check, story, understanding, delivery decision.
        results.append(Processed(article=stored, status="new"))
    return results, warnings
