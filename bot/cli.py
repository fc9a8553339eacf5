"""The ``pressbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot import __version__, logs
from bot.config import ConfigError, Settings, is_database_url, load_settings
from bot.delivery.news import news_flags
from bot.ingest.fetch import Fetcher
from bot.ingest.files import FileReadError, list_documents, read_document
from bot.models import Entry, PollResult, SourceState
from bot.pipeline import Processed, catch_up, process
from bot.poller import Poller
from bot.storage.db import DatabaseError, damaged_hint, describe, utcnow
from bot.storage.store import Store
from bot.text.morph import lemma, words
from bot.understand.analyzer import Understanding

if TYPE_CHECKING:
    from bot.storage.leases import Leases

log = logging.getLogger("pressbot")

# The fields of `pressbot analyze --json`, in order. A contract: add, never rename.
ANALYZE_FIELDS = ("source", "title", "published", "url", "text_chars", "text", "duplicate_of",
                  "story", "topics", "places", "people", "organizations", "summary",
                  "key_figures", "similarity", "topic_evidence")


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_table(rows: list[Sequence[Any]], headers: Sequence[str], out: TextIO) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


class Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.enabled = stream.isatty() and total > 0
        self.line = ""
        if self.enabled:  # log lines clear the bar, print, and draw it again below
            logs.PROGRESS = self

    def clear(self) -> None:
        if self.line:
            self.stream.write("\r" + " " * len(self.line) + "\r")

    def redraw(self) -> None:
        if self.line:
            self.stream.write(self.line)
            self.stream.flush()

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // self.total
        self.clear()
        self.line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                     f" {label[:40]:<40}")
        self.stream.write("\r" + self.line)
        self.stream.flush()
        if self.done == self.total:
            self.stream.write("\n")
            self.line = ""
            logs.PROGRESS = None


# ---------------------------------------------------------------- commands


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import App

    role = getattr(args, "role", "all")
    if role != "all" and settings.database_url is None:
        print(f"pressbot: run --role {role} needs a PostgreSQL database ([database] url or"
              " PRESSBOT_DB = postgresql://...); on SQLite one process does all",
              file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await App(settings, console=bool(args.console), role=role).serve(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("pressbot stopped.", flush=True)
    return 0


async def poll_once(store: Store, settings: Settings, out: TextIO) -> list[PollResult]:
    from bot.storage.lock import AlreadyRunning, InstanceLock

    if settings.database_url is not None:
        return await _poll_once_shared(store, settings, out)
    lock = InstanceLock(settings.database)
    try:
        lock.acquire()
        running = False
    except AlreadyRunning:  # `pressbot run` owns the schedule: store, but leave it alone
        running = True
        out.write("pressbot run is running on this database: articles are stored, the"
                  " sources' schedule and health are left to it\n")
    try:
        return await _poll_once(store, settings, out, keep_schedule=running)
    finally:
        lock.release()


async def _poll_once_shared(store: Store, settings: Settings, out: TextIO
                            ) -> list[PollResult]:
    """On PostgreSQL other processes may be polling: a source whose lease another process
    holds, or that one polled within half its interval, is passed; while a `pressbot run`
    leads, the schedule and health are left to it."""
    from bot.storage.leases import LEADER, Leases

    leases = await Leases.open(store.db)  # type: ignore[arg-type]
    try:
        running = not await leases.take(LEADER)
        if running:
            out.write("pressbot run is running on this database: sources it is polling are"
                      " passed, the schedule and health are left to it\n")
        else:
            await leases.give_back(LEADER)
        return await _poll_once(store, settings, out, keep_schedule=running, leases=leases)
    finally:
        await leases.close()


async def _poll_once(store: Store, settings: Settings, out: TextIO, *,
                     keep_schedule: bool, leases: Leases | None = None) -> list[PollResult]:
    understanding = Understanding.from_settings(settings)
    await catch_up(store, understanding)
    states = [s for s in await store.sources.sync(settings.sources) if s.enabled]
    progress = Progress(len(states))
    async with Fetcher(settings.fetch) as fetcher:
        kwargs = dict(understanding=understanding, delivery=settings.delivery,
                      keep_schedule=keep_schedule)
        if leases is not None:
            from bot.app import LeasedPoller

            poller: Poller = LeasedPoller(store, fetcher, settings.fetch, settings.scheduler,
                                          leases=leases, **kwargs)
        else:
            poller = Poller(store, fetcher, settings.fetch, settings.scheduler, **kwargs)

        async def one(state: SourceState) -> PollResult:
            result = await poller.poll(state.id)
            progress.step(state.name)
            return result

        results = await asyncio.gather(*(one(s) for s in states))
    rows = [(r.source, r.status, r.new, r.known, r.error or "") for r in results]
    print_table(rows, ("source", "status", "new", "unchanged", "error"), out)
    total_new = sum(r.new for r in results)
    failed = sum(r.status == "failed" for r in results)
    out.write(f"\n{len(results)} sources: {total_new} new articles, {failed} failed\n")
    return list(results)


async def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.store_location,
                                semantic=settings.dedup.semantic) as store:
        results = await poll_once(store, settings, sys.stdout)
    return 1 if results and all(r.status == "failed" for r in results) else 0


def expand_paths(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(list_documents(path))
        else:
            files.append(path)
    return files


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    status = 0
    new = dup = 0
    understanding = Understanding.from_settings(settings)
    async with await Store.open(settings.store_location,
                                semantic=settings.dedup.semantic) as store:
        await catch_up(store, understanding)
        try:
            files = expand_paths(args.paths)
        except FileReadError as exc:
            print(f"pressbot: {exc}", file=sys.stderr)
            return 1
        for path in files:
            try:
                entries = read_document(path)
            except FileReadError as exc:
                print(f"pressbot: {exc}", file=sys.stderr)
                status = 1
                continue
            news = news_flags(entries, utcnow(), timedelta(seconds=settings.delivery.max_age),
                              baseline=False, first_max=0)  # old documents are not news
            results, warnings = await process(store, entries, understanding=understanding,
                                              news=news)
            for w in warnings:
                print(f"pressbot: {path}: {w}", file=sys.stderr)
            for r in results:
                new += r.stored
                dup += not r.stored
                extra = f"  (of {r.duplicate_of})" if r.status == "reprint" else ""
                print(f"{r.status:9} #{r.article.id} story {r.story_id}  "
                      f"{r.article.title[:80]}{extra}")
        total = await store.articles.count()
        where = store.path
    print(f"{new} new, {dup} already stored; {total} articles in {where}")
    return status


@dataclass(frozen=True)
class AnalyzeInput:
    label: str
    entry: Entry


def analyze_record(item: AnalyzeInput, result: Processed) -> dict[str, Any]:
    article = result.article
    record: dict[str, Any] = {
        "source": item.label,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "url": article.url,
        "text_chars": len(article.text),
        "text": article.text,
        "duplicate_of": result.duplicate_of,
        "story": result.story_id,
        "topics": [t.id for t in result.topics],
        "places": list(result.understood.entities.places),
        "people": list(result.understood.entities.people),
        "organizations": list(result.understood.entities.organizations),
        "summary": result.understood.summary,
        "key_figures": list(result.understood.key_figures),
        "similarity": result.similarity,
        "topic_evidence": {t.id: list(t.terms) for t in result.topics},
    }
    assert tuple(record) == ANALYZE_FIELDS
    return record


def analyze_inputs(path: Path) -> list[AnalyzeInput]:
    entries = read_document(path)
    if len(entries) == 1 and entries[0].url is None and entries[0].guid is None:
        return [AnalyzeInput(str(path), entries[0])]
    return [AnalyzeInput(e.url or f"{path}#{e.guid or i}", e) for i, e in enumerate(entries)]


async def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    status = 0
    target = args.db if args.db else ":memory:"
    if args.db and not is_database_url(args.db) and not Path(args.db).exists():
        print(f"pressbot: --db {args.db}: no such database", file=sys.stderr)
        return 2
    understanding = Understanding.from_settings(settings)
    async with await Store.open(target, sandbox=bool(args.db),
                                semantic=settings.dedup.semantic) as store:
        await catch_up(store, understanding)
        for raw in args.files:
            path = Path(raw)
            try:
                items = analyze_inputs(path)
            except FileReadError as exc:
                print(f"pressbot: {exc}", file=sys.stderr)
                status = 1
                continue
            for item in items:
                results, warnings = await process(store, [item.entry],
                                                  understanding=understanding)
                for w in warnings:
                    print(f"pressbot: {item.label}: {w}", file=sys.stderr)
                for result in results:
                    record = analyze_record(item, result)
                    if args.json:
                        print(json.dumps(record, ensure_ascii=False))
                    else:
                        print_analysis(record, sys.stdout)
    return status


def print_analysis(record: dict[str, Any], out: TextIO) -> None:
    out.write(f"== {record['source']}\n")
    out.write(f"title:     {record['title']}\n")
    out.write(f"published: {record['published'] or '-'}\n")
    if record["url"]:
        out.write(f"url:       {record['url']}\n")
    out.write(f"text:      {record['text_chars']} characters\n")
    if record["duplicate_of"]:
        out.write(f"reprint of: {record['duplicate_of']} (similarity {record['similarity']})\n")
    out.write(f"story:     {record['story']}\n")
    if record["topics"]:
        shown = "; ".join(f"{t} ({', '.join(terms[:3])})"
                          for t, terms in record["topic_evidence"].items())
        out.write(f"topics:    {shown}\n")
    for key in ("places", "people", "organizations"):
        if record[key]:
            out.write(f"{key + ':':<10} {', '.join(record[key])}\n")
    if record["summary"]:
        out.write(f"summary:   {record['summary']}\n")
    for figure in record["key_figures"]:
        out.write(f"figure:    {figure}\n")
    out.write("\n")


async def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "export":
        return await sources_export(args.file, settings)
    if args.action == "import":
        if not args.file:
            print("pressbot: sources import needs an OPML file: pressbot sources import"
                  " FILE.opml", file=sys.stderr)
            return 2
        return await sources_import(args.file, settings)
    async with await Store.open(settings.store_location) as store:
        states = await store.sources.sync(settings.sources) if args.sync \
            else await store.sources.all()
    if not states:
        print("no sources stored yet: run `pressbot poll --once` or `pressbot run` first")
        return 0
    rows = []
    for s in states:
        health = "disabled" if not s.enabled else (
            f"failing x{s.error_count}" if s.error_count else ("ok" if s.last_success_at
                                                              else "never polled"))
        rows.append((s.name, s.kind, health, _fmt_time(s.last_success_at),
                     _fmt_time(s.next_check_at), (s.last_error or "")[:70]))
    print_table(rows, ("source", "kind", "health", "last success", "next check", "last error"),
                sys.stdout)
    return 0


async def sources_export(target: str | None, settings: Settings) -> int:
    from bot.sourcing import export_opml

    async with await Store.open(settings.store_location) as store:
        await store.sources.sync(settings.sources)
        data = await export_opml(store)
    if target in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(target).write_bytes(data)
        print(f"exported the sources to {target}")
    return 0


async def sources_import(path: str, settings: Settings) -> int:
    from bot.ingest.opml import MAX_OPML_BYTES, OpmlError
    from bot.sourcing import import_opml

    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        print(f"pressbot: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    async with await Store.open(settings.store_location) as store:
        await store.sources.sync(settings.sources)
        try:
            report = await import_opml(store, data)
        except OpmlError as exc:
            print(f"pressbot: {path}: {exc}", file=sys.stderr)
            return 1
    for s in report.added:
        print(f"added    #{s.id} {s.name}  {s.location}")
    for feed, existing in report.known:
        print(f"known    {feed.name}  {feed.url}  (source {existing})")
    for p in report.refused:
        print(f"refused  {p.name or '-'}  {p.url or '-'}: {p.reason}")
    for w in report.warnings:
        print(f"pressbot: {path}: {w}", file=sys.stderr)
    print(f"\n{len(report.added)} added, {len(report.known)} already there,"
          f" {len(report.refused)} refused")
    return 0


def _sqlite_only(command: str, settings: Settings) -> bool:
    if settings.database_url is None:
        return False
    print(f"pressbot: {command} copies an SQLite file; the database is PostgreSQL: use the"
          " server's own tools (pg_dump, pg_restore)", file=sys.stderr)
    return True


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import backup

    if _sqlite_only("backup", settings):
        return 2
    written, size = await asyncio.to_thread(backup, settings.database, args.path)
    print(f"backed up {settings.database} to {written} ({size / 1e6:.1f} MB), "
          "integrity_check ok")
    return 0


async def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import restore

    if _sqlite_only("restore", settings):
        return 2
    saved = await asyncio.to_thread(restore, args.path, settings.database)
    async with await Store.open(settings.store_location) as store:  # upgrade an older schema
        version = await store.schema_version()
    note = f"; the previous database is kept as {saved}" if saved else ""
    print(f"restored {settings.database} from {args.path} (schema {version}){note}")
    return 0


async def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.store_location) as store:
        count = await store.stories.rebuild_search(
            lambda title, text: ([lemma(w) for w in words(title)],
                                 [lemma(w) for w in words(text)]))
    print(f"search index rebuilt: {count} articles")
    return 0


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import Database
    from bot.storage.postgres import PgDatabase, safe_url
    from bot.storage.transfer import copy_archive

    if not is_database_url(args.to):
        print(f"pressbot: migrate --to must be a postgresql:// URL, got {safe_url(args.to)}",
              file=sys.stderr)
        return 2
    if not settings.database.is_file():
        print(f"pressbot: migrate: no SQLite database at {settings.database}", file=sys.stderr)
        return 2
    async with await Database.open(settings.database) as source, \
            await PgDatabase.open(args.to) as target:
        counts = await copy_archive(
            source, target, lambda title, text: ([lemma(w) for w in words(title)],
                                                 [lemma(w) for w in words(text)]),
            force=args.force)
    print(f"copied {settings.database} to {safe_url(args.to)}:")
    width = max(len(c.table) for c in counts)
    for c in counts:
        what = "articles indexed for search (lemmas indexed again)" \
            if c.table == "article_search" else "rows"
        print(f"  {c.table:<{width}}  {c.target:>9} {what}, as in SQLite")
    print(f"all {len(counts)} counts match; set [database] url (or PRESSBOT_DB) to this URL"
          " and start pressbot")
    return 0


async def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.store_location) as store:
        articles = await store.articles.latest(args.limit)
        total = await store.articles.count()
    rows = [(a.id, _fmt_time(a.published or a.fetched_at), len(a.text), a.title[:80],
             a.label[:60]) for a in articles]
    print_table(rows, ("id", "published", "chars", "title", "source"), sys.stdout)
    print(f"\n{len(articles)} of {total} articles")
    return 0


# ---------------------------------------------------------------- parser


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pressbot", description="Press-release monitoring and digest bot for Russian "
        "regional news.")
    parser.add_argument("--version", action="version", version=f"pressbot {__version__}")
    parser.add_argument("--config", type=Path, help="TOML config file (default: $PRESSBOT_CONFIG "
                        "or the embedded defaults, see config.example.toml)")
    parser.add_argument("--database", help="SQLite file, or a postgresql:// URL (overrides the"
                        " config)")
    parser.add_argument("--log-level", default=None,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity")
    parser.add_argument("--log-format", default="text", choices=["text", "json"],
                        help="json: one object per line with source, article and chat ids")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="poll the sources on their schedule and run the Telegram bot "
                       "(console mode when no token is set) until stopped")
    p.add_argument("--console", action="store_true",
                   help="chat with the bot in this terminal even when a token is set")
    p.add_argument("--role", default="all", choices=["all", "ingest", "deliver"],
                   help="with PostgreSQL, what this process does: all (the default), ingest"
                   " (poll and store) or deliver (Telegram); see docs/postgresql.md")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("poll", help="poll every enabled source once, then print a table of new, "
                       "unchanged and failed (`pressbot run` polls on the schedule)")
    p.add_argument("--once", action="store_true",
                   help="poll each source once (what `poll` always does; the flag is kept for "
                   "scripts that name it)")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("ingest", help="store documents: seed .txt/.md, .html pages, "
                       ".xml/.json feed files, or folders of them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("analyze", help="show what the pipeline makes of files, without Telegram "
                       "and without storing anything")
    p.add_argument("--db", help="compare against this stored archive (read only)")
    p.add_argument("--json", action="store_true", help="one JSON object per article per line")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("sources", help="sources and their health (last success, error, next "
                       "check); `sources export [FILE]` writes OPML, `sources import FILE` "
                       "adds the feeds of an OPML list")
    p.add_argument("action", nargs="?", choices=("export", "import"),
                   help="export: OPML to FILE or standard output; import: the feeds of FILE")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--sync", action="store_true", help="update stored sources from the config")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("backup", help="copy the database to PATH (a file, or a folder for a "
                       "time-stamped file) with SQLite's online backup, safe while running")
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with the backup at PATH (stop "
                       "pressbot first; the current database is kept beside it)")
    p.add_argument("path", type=Path, metavar="PATH")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("reindex", help="rebuild the search index from the stored articles "
                       "(when /search reports it damaged)")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("migrate", help="copy the SQLite database (sources, articles, stories,"
                       " chats, outbox, indexes) into an empty PostgreSQL database and check"
                       " the counts")
    p.add_argument("--to", required=True, metavar="URL",
                   help="the PostgreSQL database: postgresql://user:password@host:5432/name")
    p.add_argument("--force", action="store_true",
                   help="replace whatever the PostgreSQL database holds")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("articles", help="the latest stored articles")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N")
    p.set_defaults(func=cmd_articles)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.setup(args.log_level or "WARNING", args.log_format)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"pressbot: invalid config {exc.origin}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    # A Telegram bot logs what it does; in console mode the terminal is the chat, and only
    # warnings go to stderr, unless --log-level says otherwise.
    console = args.command == "run" and (args.console or not settings.telegram.token)
    if args.command == "run" and not console and not args.log_level:
        logs.setup("INFO", args.log_format)
    if args.database is not None:
        from dataclasses import replace

        settings = replace(settings, database_url=args.database) \
            if is_database_url(args.database) \
            else replace(settings, database=Path(args.database), database_url=None)
    try:
        return asyncio.run(args.func(args, settings))
    except DatabaseError as exc:
        print(f"pressbot: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # a damaged file, a full disk, an I/O error: one line
        print(f"pressbot: database {settings.database}: {describe(exc)}"
              f"{damaged_hint(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a path that cannot be read or written
        print(f"pressbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
