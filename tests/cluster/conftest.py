"""Cluster tests: a real ``redis-server`` on a free loopback port, and nodes as separate ``thirdspace serve`` processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from thirdspace.store import Database

NEEDS_REDIS = (
    "the cluster tests need Debian's redis-server on PATH: apt-get install redis-server "
    "(scripts/test.sh installs it when run as root)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


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


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen
    log: Path
    extra: list[str] = field(default_factory=list)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.http + path, timeout=3) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def ready(self) -> bool:
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.process.send_signal(sig)


def start_node(name: str, redis_url: str, data_dir: Path, scenes_dir: Path, logs: Path, *extra: str, wait: bool = True) -> Node:
    port = free_port()
    log = logs / f"{name}.log"
    command = [
        sys.executable, "-c", "import sys; from thirdspace.cli import main; sys.exit(main())",
        "serve", "--no-build", "--port", str(port), "--redis", redis_url, "--node-name", name,
        "--data-dir", str(data_dir), "--scenes", str(scenes_dir), *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")}
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    node = Node(name, port, process, log, list(extra))
    if wait:
        try:
            wait_until(lambda: node.ready() or process.poll() is not None, 120, f"node {name} ready")
        finally:
            if process.poll() is not None:
                raise RuntimeError(f"node {name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
    return node


def stop(node: Node) -> None:
    if node.process.poll() is None:
        node.process.terminate()
        try:
            node.process.wait(30)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


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
