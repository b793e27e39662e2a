"""Servers in their own processes, for tests that kill them or measure them from outside."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


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


def start_node(
    name: str,
    redis_url: str,
    data_dir: Path,
    scenes_dir: Path,
    logs: Path,
    *extra: str,
    wait: bool = True,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Node:
    """``thirdspace serve`` in its own process (in cluster mode when ``redis_url`` is given), ready to take visitors."""
    port = port or free_port()
    log = logs / f"{name}.log"
    command = [
        sys.executable, "-c", "import sys; from thirdspace.cli import main; sys.exit(main())",
        "serve", "--no-build", "--port", str(port), "--data-dir", str(data_dir), "--scenes", str(scenes_dir), *extra,
    ]  # fmt: skip
    if redis_url:
        command += ["--redis", redis_url, "--node-name", name]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | (env or {})
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
    stop_process(node.process, 30)


def stop_process(process: subprocess.Popen, timeout_s: float = 10) -> None:
    """Terminate a server the tests started; kill it if it does not stop within ``timeout_s``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
