"""A real PostgreSQL server for the store tests (Debian's postgresql), and the store over each backend."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port
from thirdspace.store import Database

NEEDS_POSTGRES = (
    "the store tests need PostgreSQL's server binaries (initdb, pg_ctl): install Debian's postgresql: "
    "apt-get install postgresql; scripts/test.sh does this when run as root"
)
NEEDS_PSYCOPG = 'the store tests need psycopg 3: pip install "psycopg[binary]>=3.1"'


def postgres_bin() -> Path:
    """The newest installed server's bin directory (Debian keeps them in /usr/lib/postgresql/VERSION/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path and Path(on_path).with_name("initdb").exists():
        return Path(on_path).parent
    pytest.fail(NEEDS_POSTGRES, pytrace=False)


@dataclass
class Postgres:
    bin: Path
    root: Path  # data directory, socket directory and log
    port: int
    as_user: list[str]  # runuser -u postgres -- when the tests run as root: PostgreSQL refuses to run as root
    names = itertools.count(1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bin / tool), *args], cwd=self.root, capture_output=True, text=True, timeout=120)

    def create_database(self) -> str:
        """A new, empty database: its URL."""
        import psycopg

        name = f"store_{os.getpid()}_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def start_postgres() -> Postgres:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(NEEDS_PSYCOPG, pytrace=False)
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="thirdspace-postgres-"))  # not under pytest's tmp dir: that is private to root
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.fail("running as root, the store tests need runuser (util-linux) to start PostgreSQL as postgres", pytrace=False)
        shutil.chown(root, "postgres", "postgres")
        as_user = [runuser, "-u", "postgres", "--"]
    server = Postgres(binaries, root, free_port(), as_user)
    initdb = server.run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale")
    if initdb.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
    options = [
        f"-p {server.port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={root}",
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",  # a throw-away server: speed over durability
        "-c max_connections=100",
    ]
    log = str(root / "postgres.log")
    started = server.run("pg_ctl", "-D", str(root / "data"), "-l", log, "-o", " ".join(options), "-w", "-t", "60", "start")
    if started.returncode != 0:
        raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{server.log()}")
    return server


def stop_postgres(server: Postgres) -> None:
    server.run("pg_ctl", "-D", str(server.root / "data"), "-m", "fast", "-w", "stop")
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path) -> Path | str:
    """Where a fresh store lives: a SQLite file, or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "thirdspace.sqlite3"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def db(target) -> Iterator[Database]:
    database = Database(target)
    yield database
    database.close()
