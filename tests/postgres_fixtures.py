"""A PostgreSQL server for tests (a pytest plugin, registered in tests/conftest.py).

With `ATTRITION_TEST_POSTGRES_URL` set (a libpq URL of a role that may CREATE DATABASE), every
test gets a fresh database `attrition_test_<hex>` on that server, dropped afterwards. Without
it, the session initdb's a throwaway cluster from the server binaries on PATH or under
/usr/lib/postgresql/*/bin, listening on a unix socket only (a temp dir, a free port), and stops
it by its postmaster PID at the end. initdb refuses to run as root, so as root the cluster is
run as the `postgres` user through `runuser`. If neither works the PostgreSQL cases skip,
saying why.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from glob import glob
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

POSTGRES_URL_ENV = "ATTRITION_TEST_POSTGRES_URL"

# ----------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------


def _server_bin_dir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4])
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """A throwaway PostgreSQL cluster in a temp dir, reachable on a unix socket only."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.run_as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no `postgres` user") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root and there is no `runuser`")
            self.run_as = [runuser, "-u", "postgres", "--"]
        self.dir = Path(tempfile.mkdtemp(prefix="attrition-pg-"))
        if owner is not None:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = _free_port()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.run_as, str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> str:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses= -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                  options, "start")  # fmt: skip
        return f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"

    def stop(self) -> None:
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split("\n", 1)[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.05)
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A URL of a role that may create databases, or a skip saying why there is none."""
    given = os.environ.get(POSTGRES_URL_ENV)
    if given:
        yield given
        return
    bin_dir = _server_bin_dir()
    if bin_dir is None:
        pytest.skip(f"no PostgreSQL: set {POSTGRES_URL_ENV} or install the server (pg_ctl)")
    try:
        cluster = LocalCluster(bin_dir)
    except RuntimeError as exc:
        pytest.skip(f"cannot start a PostgreSQL cluster: {exc}")
    try:
        url = cluster.start()
    except RuntimeError as exc:
        cluster.stop()
        pytest.skip(f"cannot start a PostgreSQL cluster: {exc}")
    try:
        yield url
    finally:
        cluster.stop()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"attrition_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_server_url, name)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_accepts_connections(server_url: str, database_url: str, accept: bool) -> None:
    """Take a test's database out of service (its sessions ended, new ones refused), or put it
    back: a real outage of one database, the server and the other tests' databases untouched."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(accept).lower()}')
        if not accept:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )


@contextlib.contextmanager
def database_outage(server_url: str, database_url: str) -> Iterator[None]:
    """The database out of service for the duration of the block."""
    database_accepts_connections(server_url, database_url, False)
    try:
        yield
    finally:
        database_accepts_connections(server_url, database_url, True)
