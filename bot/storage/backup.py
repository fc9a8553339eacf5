"""Backups with SQLite's online backup API: consistent while pressbot runs (in WAL mode the
copy reads a snapshot and never blocks the writer), checked before it replaces anything."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.db import DatabaseError
from bot.storage.migrations import MIGRATIONS

PAGES_PER_STEP = 4096  # copy in steps so that a large archive does not hold one long read


def _check(conn: sqlite3.Connection, what: str) -> int:
    """integrity_check must say ok; returns the schema version."""
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{what} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise DatabaseError(f"{what} fails integrity_check: {result}")
    try:
        version = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    except sqlite3.DatabaseError:
        raise DatabaseError(f"{what} is not a pressbot database (no schema_migrations)") from None
    newest = MIGRATIONS[-1][0]
    if version is None or version > newest:
        raise DatabaseError(f"{what} has schema {version}; this pressbot knows up to {newest}")
    return int(version)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    dest = sqlite3.connect(target)
    try:
        source.backup(dest, pages=PAGES_PER_STEP)
    finally:
        dest.close()


def backup(database: Path, target: Path | str) -> tuple[Path, int]:
    """Copy the live database to ``target`` (written beside it, checked, then renamed into
    place, so a failed backup never leaves a half file under the name). A folder (one that
    exists, or a path ending in '/', which is created) gets a time-stamped file. Returns the
    file written and its size."""
    if not database.exists():
        raise DatabaseError(f"no database at {database}")
    folder_named = str(target).endswith(("/", "\\"))
    target = Path(target).expanduser()
    if folder_named:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create folder {target}: {exc.strerror or exc}"
                                ) from None
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"pressbot-{stamp}.db"
    elif not target.parent.is_dir():
        raise DatabaseError(f"folder {target.parent} does not exist (end the path with / to"
                            " have it created)")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        _copy(source, partial)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"backup of {database} failed: {exc}") from None
    finally:
        source.close()
    check = sqlite3.connect(partial)
    try:
        _check(check, f"backup {partial}")
    finally:
        check.close()
    os.replace(partial, target)
    return target, target.stat().st_size


def restore(backup_path: Path, database: Path) -> Path | None:
    """Replace the database's content with the backup's, after checking the backup. The
    current database is first saved beside it (returned). Stop pressbot before restoring;
    the next start upgrades an older backup's schema."""
    if not backup_path.is_file():
        raise DatabaseError(f"no backup at {backup_path}")
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        _check(source, f"backup {backup_path}")
        saved = None
        if database.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            saved = database.with_name(f"{database.name}.before-restore-{stamp}")
            live = sqlite3.connect(database)
            try:
                _copy(live, saved)
            finally:
                live.close()
        database.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(database)
        try:
            dest.execute("PRAGMA busy_timeout = 5000")
            source.backup(dest)  # page by page into the live file, WAL included
        finally:
            dest.close()
        return saved
    except sqlite3.Error as exc:
        raise DatabaseError(f"restore from {backup_path} failed: {exc}") from None
    finally:
        source.close()
