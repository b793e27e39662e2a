"""Cluster tests: a real ``redis-server`` on a free loopback port, and nodes as separate ``thirdspace serve`` processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import Node, free_port, start_node, stop, wait_until  # noqa: F401 - used by the cluster tests
from thirdspace.store import Database

NEEDS_REDIS = (
    "the cluster tests need Debian's redis-server on PATH: apt-get install redis-server (scripts/test.sh installs it when run as root)"
)


@dataclass
class Redis:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, check=True).stdout


def start_redis(directory: Path) -> Redis:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(NEEDS_REDIS, pytrace=False)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    redis = Redis(port, process)

    def answers() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(answers, 10, "redis-server start")
    return redis


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="module")
def cluster_data(server, tmp_path_factory) -> Path:
    """One data directory for the nodes of a machine (the SQLite store and the content-addressed assets)."""
    from thirdspace.web.keys import DB

    data = tmp_path_factory.mktemp("cluster-data")
    shutil.copytree(server.app[DB].path.parent / "assets", data / "assets")  # built once by the session server
    return data


@pytest.fixture(scope="module")
def curator_token(cluster_data) -> str:
    db = Database(cluster_data / "thirdspace.sqlite3")
    try:
        return db.add_user("Cluster Curator", "curator")[1]
    finally:
        db.close()
