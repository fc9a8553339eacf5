"""A real PostgreSQL server for tests: Debian's binaries, a data folder in a temporary directory,
listening only on a Unix socket in that directory.

    server = PostgresServer.start()      # None when no PostgreSQL binaries are installed
    url = server.url("dbname")           # postgresql://postgres@/dbname?host=/tmp/...
    server.stop()

initdb refuses to run as root, so as root the server runs as the ``postgres`` user (runuser);
the folder is made for that user. fsync is off: a test server's data need not survive a crash of
the machine. ``PRESSBOT_TEST_POSTGRES`` (a server URL, e.g. postgresql://user:pw@host/postgres)
uses a running server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

SERVER_ENV = "PRESSBOT_TEST_POSTGRES"


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's versioned folder (the
    newest version)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                     key=lambda p: int(Path(p).parent.parent.name)
                     if Path(p).parent.parent.name.isdigit() else 0)
    return Path(folders[-1]).parent if folders else None


class PostgresServer:
    def __init__(self, base: str, *, folder: Path | None = None, bin_dir: Path | None = None,
                 user: str | None = None) -> None:
        self.base = base  # a URL of the server whose path (database name) is replaced
        self.folder = folder
        self.bin_dir = bin_dir
        self.user = user

    @classmethod
    def start(cls) -> PostgresServer | None:
        if os.environ.get(SERVER_ENV):
            return cls(os.environ[SERVER_ENV])
        bin_dir = find_bin()
        if bin_dir is None:
            return None
        folder = Path(tempfile.mkdtemp(prefix="pressbot-pg-"))
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        server = cls("", folder=folder, bin_dir=bin_dir, user=user)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        server.base = f"postgresql://postgres@/postgres?host={quote(str(folder), safe='/')}"
        return server

    def _run(self, *args: str) -> None:
        assert self.bin_dir is not None
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}):"
                               f" {(done.stderr or done.stdout).strip()[-2000:]}")

    def _init_and_start(self) -> None:
        assert self.folder is not None
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        options = (f"-k {self.folder} -c listen_addresses='' -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "-t", "60", "start")

    def url(self, database: str) -> str:
        parts = urlsplit(self.base)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))

    def stop(self) -> None:
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w",
                          "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
