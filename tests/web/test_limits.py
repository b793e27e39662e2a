"""Per-address and whole-server connection limits (docs/deploy.md "Limits"), against ``thirdspace serve`` on a real port.

Loopback has many addresses: 127.0.0.1 plays one visitor's machine, 127.0.0.2 a trusted reverse proxy,
127.0.0.3 and up other machines, so one server can show each limit apart."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.curate.conftest import add_users
from tests.processes import Node, start_node, stop

PER_ADDRESS = 20
MAX_CONNECTIONS = 60
RESERVE = 10
BURST = 40


@pytest.fixture(scope="module")
def node(scenes_dir, tmp_path_factory) -> Iterator[tuple[Node, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("limits")
    data = tmp / "data"
    data.mkdir()
    tokens = add_users(data / "thirdspace.sqlite3")
    env = {
        "THIRDSPACE_LIMITS_EXEMPT": "",  # loopback is spared by default (load tests); here it stands for visitors
        "THIRDSPACE_TRUSTED_PROXIES": "127.0.0.2",
        "THIRDSPACE_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
        "THIRDSPACE_REQUESTS_PER_S": "0.5",
        "THIRDSPACE_REQUEST_BURST": str(BURST),
        "THIRDSPACE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "THIRDSPACE_CONNECTION_RESERVE": str(RESERVE),
    }
    running = start_node("limits", "", data, scenes_dir, tmp, env=env)
    yield running, tokens
    stop(running)
    shutil.rmtree(data, ignore_errors=True)


class Conn:
    """A raw HTTP/1.1 connection from a chosen loopback address."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, source: str = "127.0.0.1") -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        return cls(reader, writer)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        head = f"GET {path} HTTP/1.1\r\nHost: test\r\n" + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
        self.writer.write(head.encode())
        return await read_response(self.reader)

    def close(self) -> None:
        self.writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await asyncio.wait_for(reader.readline(), 10)
    assert status_line, "the server closed the connection without an answer"
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 10)
    return status, headers, body


def refusal_lines(log: Path, address: str) -> list[str]:
    return [
        line for line in log.read_text().splitlines() if "thirdspace.web.limits" in line and re.search(rf"\b{re.escape(address)}\b", line)
    ]


async def test_connections_past_the_per_address_limit_are_refused_but_healthz_answers(node) -> None:
    """R4: one address holding connections open gets 429 past its limit; /healthz still answers; one log line, not one per refusal."""
    running, _ = node
    held = [await Conn.open(running.port) for _ in range(PER_ADDRESS)]
    try:
        assert (await held[0].get("/api/scenes"))[0] == 200  # those within the limit are served
        extra = [await Conn.open(running.port) for _ in range(PER_ADDRESS)]  # as many again wait, on probation
        # Past twice the limit a connection is answered at once, before it says anything, and closed.
        late = await Conn.open(running.port)
        status, headers, body = await read_response(late.reader)
        assert status == 429 and orjson.loads(body)["limit"] == "connections_per_address"
        assert await late.reader.read() == b""
        late.close()
        answers = [await conn.get("/api/scenes") for conn in extra[:10]]
        for status, headers, body in answers:
            assert status == 429
            assert headers["content-type"].startswith("application/json")
            assert int(headers["retry-after"]) >= 1
            assert orjson.loads(body)["limit"] == "connections_per_address"
            assert headers.get("connection", "").lower() == "close"
        for conn in extra:
            conn.close()
        # A health check from the same address, while it holds all it may, is answered.
        probe = await Conn.open(running.port)
        status, _, body = await probe.get("/healthz")
        assert status == 200 and orjson.loads(body)["status"] == "ok"
        probe.close()
    finally:
        for conn in held:
            conn.close()
    await asyncio.sleep(0.3)
    lines = refusal_lines(running.log, "127.0.0.1")
    assert 1 <= len(lines) <= 2, lines  # 30-odd refusals, one line (the next comes a minute later, with the count)


async def test_forwarded_for_counts_only_from_a_trusted_proxy(node) -> None:
    """Behind the trusted proxy (127.0.0.2) each X-Forwarded-For client has its own budget; from anyone else the header is ignored."""
    running, _ = node
    proxy = await Conn.open(running.port, "127.0.0.2")
    statuses = [(await proxy.get("/api/scenes", {"X-Forwarded-For": "203.0.113.5"}))[0] for _ in range(BURST + 5)]
    assert statuses[: BURST - 1].count(200) == BURST - 1
    assert statuses[-1] == 429
    status, headers, body = await proxy.get("/api/scenes", {"X-Forwarded-For": "203.0.113.5"})
    assert status == 429 and orjson.loads(body)["limit"] == "requests_per_s" and int(headers["retry-after"]) >= 1
    assert (await proxy.get("/api/scenes", {"X-Forwarded-For": "203.0.113.6"}))[0] == 200  # another client behind the proxy
    proxy.close()

    # A direct peer (not a trusted proxy) that names someone else in X-Forwarded-For spends its own budget, not theirs.
    direct = await Conn.open(running.port, "127.0.0.7")
    spoofed = [(await direct.get("/api/scenes", {"X-Forwarded-For": "203.0.113.9"}))[0] for _ in range(BURST + 5)]
    assert spoofed[-1] == 429
    direct.close()
    proxy = await Conn.open(running.port, "127.0.0.2")
    assert (await proxy.get("/api/scenes", {"X-Forwarded-For": "203.0.113.9"}))[0] == 200  # 203.0.113.9's budget is untouched
    proxy.close()
    await asyncio.sleep(0.3)
    assert len(refusal_lines(running.log, "203.0.113.5")) == 1
    assert refusal_lines(running.log, "203.0.113.9") == []


async def test_a_full_server_keeps_its_reserve_for_health_checks_and_staff(node) -> None:
    """Past max_connections only /healthz, /readyz and signed-in staff are served (503 to others); past the reserve, 503 at once."""
    running, tokens = node
    held: list[Conn] = []
    try:
        for source in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):  # three machines, each within its own limit
            held += [await Conn.open(running.port, source) for _ in range(PER_ADDRESS)]
        assert (await held[0].get("/api/scenes"))[0] == 200
        visitor = await Conn.open(running.port, "127.0.0.6")
        status, headers, body = await visitor.get("/api/scenes")
        assert status == 503 and orjson.loads(body)["limit"] == "max_connections" and "retry-after" in headers
        health = await Conn.open(running.port, "127.0.0.6")
        assert (await health.get("/healthz"))[0] == 200
        admin = await Conn.open(running.port, "127.0.0.6")
        assert (await admin.get("/api/admin/rooms", {"Authorization": f"Bearer {tokens['admin']}"}))[0] == 200
        stranger = await Conn.open(running.port, "127.0.0.6")
        assert (await stranger.get("/api/admin/rooms", {"Authorization": "Bearer not-a-token"}))[0] == 503
        # Fill the reserve with connections that say nothing: each new one pushes out the oldest silent one,
        # so a health check that asks at once still gets in.
        silent = [await Conn.open(running.port, "127.0.0.8") for _ in range(RESERVE + 5)]
        health2 = await Conn.open(running.port, "127.0.0.9")
        assert (await health2.get("/healthz"))[0] == 200
        for conn in (visitor, health, admin, stranger, health2, *silent):
            conn.close()
    finally:
        for conn in held:
            conn.close()
