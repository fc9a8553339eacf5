"""The driver of one source, end to end: fetch or read, parse, fetch full text for teasers,
run the pipeline, record the source's health. A failure of any kind marks that source alone as
failing and backs it off exponentially (interval * 2^errors, capped); the next success clears
it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import DeliveryConfig, FetchConfig, SchedulerConfig
from bot.cpu import off_loop
from bot.delivery.news import is_baseline, news_flags
from bot.ingest.addresses import is_private_host
from bot.ingest.charset import decode
from bot.ingest.extract import extract_main_text
from bot.ingest.fetch import ACCEPT_PAGE, Fetcher, FetchError, RetryLaterError
from bot.ingest.files import FileReadError, list_documents, read_document
from bot.ingest.htmltext import html_to_text
from bot.ingest.parse import FeedError, parse_feed
from bot.models import Entry, PollResult, SourceState
from bot.pipeline import Processed, process
from bot.storage.db import utcnow
from bot.storage.store import Store
from bot.understand.analyzer import Understanding

log = logging.getLogger(__name__)
_TEASER_END = re.compile(r"(\.\.\.|…|\[\s*…\s*\]|читать далее|подробнее|читать полностью)\W*$",
                         re.IGNORECASE)


# When a teaser's page is tried again after each failure; after the last, the feed's text.
TEASER_RETRIES = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=45),
                  timedelta(hours=2))


_CLIENT_ERROR = re.compile(r"^HTTP (4\d\d)\b")


def lasting(exc: FetchError) -> bool:
    """Will fetching again not help? A 4xx answer (but 408, 425 and 429) or a refused
    address; timeouts, 5xx and network errors may pass."""
    m = _CLIENT_ERROR.match(str(exc))
    if m:
        return m.group(1) not in ("408", "425", "429")
    return str(exc).startswith("refused")


def backoff_delay(interval: int, errors: int, cap: int) -> int:
    """Seconds to wait after ``errors`` consecutive failures."""
    if errors <= 0:
        return interval
    return min(interval * 2 ** min(errors, 20), cap)


def is_teaser(entry: Entry, min_chars: int) -> bool:
    if min_chars <= 0 or not entry.url:
        return False
    plain = html_to_text(entry.text) if entry.text_is_html else entry.text
    plain = plain.strip()
    return len(plain) < min_chars or bool(_TEASER_END.search(plain))


def _page_text(body: bytes, charset: str | None, url: str) -> str:
    """The main text of an article page (decoded here: trafilatura misreads charsets)."""
    html, _ = decode(body, charset)
    return extract_main_text(html, url)


def report(source: SourceState, results: list[Processed]) -> None:
    """One log line per stored article, with its ids (JSON logs carry them as fields)."""
    for r in results:
        if r.status == "duplicate":
            continue
        what = f"reprint of {r.duplicate_of}" if r.status == "reprint" else r.status
        log.info("source %s: article %s (%s), story %s: %s", source.name, r.article.id, what,
                 r.story_id, r.article.title[:80],
                 extra={"source": source.name, "article": r.article.id, "story": r.story_id})


class Poller:
    def __init__(self, store: Store, fetcher: Fetcher, fetch_config: FetchConfig,
                 scheduler_config: SchedulerConfig,
                 clock: Callable[[], datetime] = utcnow,
                 understanding: Understanding | None = None,
                 delivery: DeliveryConfig | None = None,
                 page: Callable[[int], str | None] = lambda story_id: None,
                 keep_schedule: bool = False) -> None:
        """``page`` links a story to its page in the web archive (when it is served);
        ``keep_schedule``: store what is found but leave every source's health and next
        check alone (``poll --once`` while ``pressbot run`` owns the schedule)."""
        self.store = store
        self.keep_schedule = keep_schedule
        self.page = page
        self.delivery = delivery or DeliveryConfig()
        self.understanding = understanding
        self.fetcher = fetcher
        self.fetch_config = fetch_config
        self.scheduler_config = scheduler_config
        self.clock = clock
        # Polls in progress at once: with a thousand sources due together (at start), each
        # parsed feed waits in memory for the pipeline; this bounds how many do.
        self._slots = asyncio.Semaphore(fetch_config.concurrency)
        self._running = 0
        self._tasks: set[asyncio.Task] = set()
        self._cancelling = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def poll(self, source_id: int) -> PollResult:
        """Poll one source now and record the outcome; never raises for a source's fault."""
        self._running += 1
        self._idle.clear()
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with self._slots:
                return await self._poll(source_id)
        except asyncio.CancelledError:
            if not self._cancelling:
                raise
            # stopping: what was stored is stored (each article in its own transaction)
            return PollResult(source=f"#{source_id}", status="failed", error="stopped")
        finally:
            self._running -= 1
            self._tasks.discard(task)
            if not self._running:
                self._idle.set()

    async def cancel_all(self) -> int:
        """Stop the polls in progress (at stop, after a grace period); returns how many."""
        self._cancelling = True
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no poll is in progress (at stop: what was fetched gets stored)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _poll(self, source_id: int) -> PollResult:
        source = await self.store.sources.get(source_id)
        if source is None:
            return PollResult(source=f"#{source_id}", status="failed", error="no such source")
        try:
            if source.kind == "files":
                result = await self._poll_files(source)
            else:
                result = await self._poll_feed(source)
        except RetryLaterError as exc:  # 429/503 with Retry-After: not before it
            return await self._failed(source, str(exc), at_least=exc.retry_after)
        except (FetchError, FeedError, FileReadError) as exc:
            return await self._failed(source, str(exc))
        except Exception as exc:  # a bug or an input nobody foresaw: this source only
            log.exception("source %s: unexpected failure", source.name,
                          extra={"source": source.name})
            return await self._failed(source, f"internal error: {type(exc).__name__}: {exc}")
        for warning in result.warnings:
            log.warning("source %s: %s", source.name, warning, extra={"source": source.name})
        return result

    async def _failed(self, source: SourceState, error: str, *,
                      at_least: int | None = None) -> PollResult:
        cap = self.scheduler_config.max_backoff

        def next_check(errors: int) -> datetime:
            delay = max(backoff_delay(source.interval, errors, cap), at_least or 0)
            return self.clock() + timedelta(seconds=delay)

        if self.keep_schedule:
            return PollResult(source=source.name, status="failed", error=error)
        state = await self.store.sources.record_failure(source.id, error, next_check)
        log.warning("source %s failing (%d in a row): %s; next check %s", source.name,
                    state.error_count, error, state.next_check_at, extra={"source": source.name})
        return PollResult(source=source.name, status="failed", error=error)

    async def _succeeded(self, source: SourceState, etag: str | None,
                         last_modified: str | None, min_interval: int | None = None) -> None:
        """The next check after the source's interval, or the feed's own longer one."""
        if self.keep_schedule:
            return
        keep = min_interval if min_interval is not None else source.min_interval
        delay = max(source.interval, keep or 0)
        await self.store.sources.record_success(
            source.id, etag=etag, last_modified=last_modified,
            next_check=self.clock() + timedelta(seconds=delay), min_interval=keep)

    async def _poll_feed(self, source: SourceState) -> PollResult:
        public_only = self._public_only(source)
        fetched = await self.fetcher.fetch(source.location, etag=source.etag,
                                           last_modified=source.last_modified,
                                           public_only=public_only)
        etag = fetched.etag or source.etag
        last_modified = fetched.last_modified or source.last_modified
        if fetched.not_modified:
            await self._succeeded(source, etag, last_modified)
            return PollResult(source=source.name, status="unchanged")
        feed = await off_loop(parse_feed, fetched.body, origin=source.location,
                              charset=fetched.charset, content_type=fetched.content_type,
                              base_url=fetched.url, max_entries=self.fetch_config.max_entries,
                              max_text_chars=self.fetch_config.max_article_chars * 8)
        urls = [e.url for e in feed.entries if e.url]
        stored = await self.store.articles.known_urls(urls)
        stored |= await self.store.teasers.waiting(urls)
        fresh = [e for e in feed.entries if not e.url or e.url not in stored]
        max_age = timedelta(seconds=self.delivery.max_age)
        baseline = is_baseline(source.last_success_at, self.clock(), max_age)
        news = news_flags(fresh, self.clock(), max_age, baseline=baseline,
                          first_max=self.delivery.first_poll_max)
        # Article pages linked from a feed on the public internet must be public too.
        pages_public = public_only or (not self.fetch_config.allow_private_addresses
                                       and not await is_private_host(fetched.url))
        entries, news = await self._with_full_text(source, fresh, news, feed.warnings,
                                                   pages_public)
        results, warnings = await process(self.store, entries, source_id=source.id,
                                          understanding=self.understanding, news=news,
                                          source_name=source.name, page=self.page,
                                          max_chars=self.fetch_config.max_article_chars)
        report(source, results)
        await self._succeeded(source, etag, last_modified, feed.min_interval)
        new = sum(r.stored for r in results)
        return PollResult(source=source.name, status="ok", new=new,
                          known=len(feed.entries) - new, warnings=feed.warnings + warnings)

    def _public_only(self, source: SourceState) -> bool:
        """Feeds added from chat may not reach private addresses (config feeds are trusted)."""
        return source.managed_by == "admin" and not self.fetch_config.allow_private_addresses

    async def _page(self, entry: Entry, public_only: bool) -> Entry:
        """The entry with its article page's main text (raises FetchError when the page
        cannot be fetched; the teaser stays when the page holds nothing better)."""
        assert entry.url
        page = await self.fetcher.fetch(entry.url, accept=ACCEPT_PAGE, public_only=public_only)
        text = await off_loop(_page_text, page.body, page.charset, page.url)
        teaser = html_to_text(entry.text) if entry.text_is_html else entry.text
        if not text or len(text) <= len(teaser.strip()):
            return entry
        return Entry(title=entry.title, text=text, url=entry.url, guid=entry.guid,
                     published=entry.published, origin=entry.origin)

    async def _with_full_text(self, source: SourceState, entries: list[Entry],
                              news: list[bool], warnings: list[str], public_only: bool
                              ) -> tuple[list[Entry], list[bool]]:
        """Replace teasers by their article page's main text. A teaser whose page fails
        waits (bot/storage/teasers.py) and is tried again later; it is neither stored nor
        delivered before its page came or finally failed."""
        min_chars = self.fetch_config.fulltext_min_chars

        async def one(entry: Entry, is_news: bool) -> Entry | None:
            if not is_teaser(entry, min_chars):
                return entry
            try:
                return await self._page(entry, public_only)
            except FetchError as exc:
                if lasting(exc):  # the page will not come: the feed's text it is
                    warnings.append(f"full text of {entry.url}: {exc}; kept the feed text")
                    return entry
                warnings.append(f"full text of {entry.url}: {exc}; tried again later")
                await self.store.teasers.wait(entry, source.id, is_news, str(exc),
                                              self.clock() + TEASER_RETRIES[0])
                return None

        done = await asyncio.gather(*(one(e, n) for e, n in zip(entries, news, strict=True)))
        kept = [(e, n) for e, n in zip(done, news, strict=True) if e is not None]
        return [e for e, _ in kept], [n for _, n in kept]

    async def retry_teasers(self) -> int:
        """Try the waiting teasers that are due; store those whose page came, or whose last
        attempt failed (with the feed's text). Returns how many were stored."""
        stored = 0
        for teaser in await self.store.teasers.due(self.clock()):
            source = await self.store.sources.get(teaser.source_id) \
                if teaser.source_id is not None else None
            public_only = source is None or self._public_only(source) or (
                not self.fetch_config.allow_private_addresses
                and not await is_private_host(source.location))
            entry = teaser.entry
            try:
                entry = await self._page(entry, public_only)
            except FetchError as exc:
                if teaser.attempts < len(TEASER_RETRIES) and not lasting(exc):
                    await self.store.teasers.wait(entry, teaser.source_id, teaser.news,
                                                  str(exc),
                                                  self.clock() + TEASER_RETRIES[teaser.attempts])
                    continue
                log.warning("full text of %s: %s; stored with the feed's text after %d"
                            " attempts", entry.url, exc, teaser.attempts + 1)
            results, _ = await process(self.store, [entry], source_id=teaser.source_id,
                                       understanding=self.understanding, news=[teaser.news],
                                       source_name=source.name if source else None,
                                       page=self.page,
                                       max_chars=self.fetch_config.max_article_chars)
            await self.store.teasers.done(teaser.entry.url or "")
            if source is not None:
                report(source, results)
            stored += sum(r.stored for r in results)
        return stored

    async def _poll_files(self, source: SourceState) -> PollResult:
        folder = Path(source.location)
        entries: list[Entry] = []
        warnings: list[str] = []
        paths = list_documents(folder)
        for path in paths:
            try:
                entries.extend(await off_loop(read_document, path))
            except FileReadError as exc:
                warnings.append(str(exc))
        results, more = await process(self.store, entries, source_id=source.id,
                                      understanding=self.understanding,
                                      news=[False] * len(entries))  # the baseline corpus
        report(source, results)
        new = sum(r.stored for r in results)
        if warnings:  # an unreadable file fails the source; what could be read is kept
            more_note = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            failed = await self._failed(source, warnings[0] + more_note)
            failed.new, failed.known = new, len(results) - new
            return failed
        await self._succeeded(source, None, None)
        return PollResult(source=source.name, status="ok" if new else "unchanged", new=new,
                          known=len(results) - new, warnings=more)
