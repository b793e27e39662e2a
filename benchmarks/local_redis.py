"""What the cluster benchmarks share: a free loopback port, and a throwaway redis-server on one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server() -> Iterator[tuple[str, Path]]:
    """(Redis URL, a scratch folder) for the length of the block; SystemExit(2) without Debian's redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("needs Debian's redis-server (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]
        redis = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            yield f"redis://127.0.0.1:{port}/0", Path(tmp)
        finally:
            redis.terminate()
            redis.wait(10)
