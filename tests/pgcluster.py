"""A throwaway PostgreSQL cluster for tests and benchmarks: temp dir, free port, loopback only.

The server is the system's PostgreSQL 15 (Debian's ``postgresql-15``, which ``.ci/run``
installs) or, where there is none, the one inside the ``pgserver`` wheel from PyPI (16.2,
Linux x86_64, macOS and Windows, Python 3.9-3.12), so the HQ-on-PostgreSQL tests also run on
a fresh machine. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the
``postgres`` user, or ``nobody`` where the system has no ``postgres`` user.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SYSTEM_BIN = Path("/usr/lib/postgresql/15/bin")
TOOLS = ("initdb", "pg_ctl", "postgres")
INSTALL = "apt-get install postgresql-15, or pip install pgserver on Python 3.12 or older"


def _wheel_bin() -> Path | None:
    """The server binaries inside the pgserver wheel, found without importing it."""
    spec = importlib.util.find_spec("pgserver")
    for location in (spec.submodule_search_locations or []) if spec else []:
        return Path(location) / "pginstall" / "bin"
    return None


def server_bin() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: the system's, else pgserver's."""
    for folder in (SYSTEM_BIN, _wheel_bin()):
        if folder is not None and all((folder / tool).exists() for tool in TOOLS):
            return folder
    return None


def server_user() -> str | None:
    """As root, the user the server runs as; None when not root (it runs as us)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def pg_available() -> str | None:
    """None when a cluster can be started here, else what is missing and how to install it."""
    if server_bin() is None:
        return f"PostgreSQL's server is missing: {SYSTEM_BIN}/postgres ({INSTALL})"
    if os.geteuid() == 0 and server_user() is None:
        return "running as root with neither a 'postgres' nor a 'nobody' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="posapp-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.running = False
        self.bin = server_bin() or SYSTEM_BIN
        self.user = server_user()

    def _as_postgres(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def start(self) -> PgCluster:
        reason = pg_available()
        if reason:
            raise RuntimeError(reason)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            if self.bin != SYSTEM_BIN:
                # The wheel's binaries may sit in a venv the server's user cannot reach
                # (under /root, or pytest's 0700 temp dirs): it runs a copy of its own.
                # Its binaries find their libraries at $ORIGIN/../../../pgserver.libs.
                package = self.bin.parent.parent
                copy = self.dir / "wheel"
                shutil.copytree(
                    package / "pginstall", copy / "pgserver" / "pginstall", symlinks=True
                )
                libs = package.parent / "pgserver.libs"
                if libs.is_dir():
                    shutil.copytree(libs, copy / "pgserver.libs", symlinks=True)
                self.bin = copy / "pgserver" / "pginstall" / "bin"
        init = self._as_postgres(
            self.bin / "initdb",
            "-D",
            self.data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir}"
            " -c max_connections=300 -c shared_buffers=256MB -c fsync=on"
        )
        log = self.dir / "server.log"
        started = self._as_postgres(
            self.bin / "pg_ctl",
            "-D",
            self.data,
            "-l",
            log,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if started.returncode:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr[-1000:]}\n{tail}")
        self.running = True
        atexit.register(self.stop)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.running:
            self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def conninfo(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
