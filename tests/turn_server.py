"""A real TURN server (Debian's coturn) on loopback for the voice tests, with the shared-secret credentials
(`use-auth-secret`) that `turn_secret` mints for each visitor (docs/voice.md)."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.processes import stop_process

NEEDS_COTURN = (
    "the TURN voice tests need Debian's coturn (the turnserver command): run the README's test command as root, or apt-get install coturn"
)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningTurn:
    process: subprocess.Popen
    port: int
    secret: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)


def start_turn(directory: Path) -> RunningTurn:
    """coturn on 127.0.0.1 (UDP and TCP on one free port), relaying on loopback, REST-API credentials."""
    turnserver = shutil.which("turnserver")
    if turnserver is None:
        raise RuntimeError(NEEDS_COTURN)
    port = free_port()
    relay_low = 49160 + secrets.randbelow(8000)
    secret = secrets.token_hex(16)
    log = directory / "turnserver.log"
    args = [
        turnserver, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
        f"--min-port={relay_low}", f"--max-port={relay_low + 200}", "--use-auth-secret", f"--static-auth-secret={secret}",
        "--realm=thirdspace.test", "--fingerprint", "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls",
        "--no-multicast-peers", f"--userdb={directory / 'turndb'}", f"--log-file={log}", "--simple-log", "--verbose",
        f"--pidfile={directory / 'turnserver.pid'}",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=directory)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"turnserver exited with {process.returncode}: {log.read_text('utf-8', errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return RunningTurn(process, port, secret, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"turnserver did not listen on port {port} within 15 s")
