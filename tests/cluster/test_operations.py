"""Running a cluster: several workers on one port, Redis going away and coming back, JSON logs, clear errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import orjson
import pytest

from tests.cluster.conftest import start_redis
from tests.processes import Node, free_port, start_node, stop, wait_until
from thirdspace.client import JoinError, ThirdSpaceClient

SERVE = [sys.executable, "-m", "thirdspace", "serve", "--no-build"]


def free_run(count: int) -> int:
    """A port P with P..P+count all free."""
    for _ in range(50):
        base = free_port()
        sockets = []
        try:
            for port in range(base, base + count + 1):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


def test_workers_without_redis_is_a_clear_error(tmp_path):
    result = subprocess.run([*SERVE, "--workers", "2", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--workers needs cluster mode" in result.stderr and "--redis" in result.stderr


def test_cluster_mode_with_redis_unreachable_at_start_is_a_clear_error(tmp_path, scenes_dir):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [*SERVE, "--redis", dead, "--port", str(free_port()), "--data-dir", str(tmp_path), "--scenes", str(scenes_dir)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cluster mode needs Redis" in result.stderr and dead in result.stderr


async def test_workers_share_one_port_and_place_visitors_together(redis, cluster_data, scenes_dir, tmp_path):
    port = free_run(2)
    log = open(tmp_path / "workers.log", "wb")
    parent = subprocess.Popen(
        [*SERVE, "--workers", "2", "--port", str(port), "--redis", redis.url, "--data-dir", str(cluster_data), "--scenes", str(scenes_dir)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    shared = Node("shared", port, parent, tmp_path / "workers.log")
    try:
        own = {f"ws://127.0.0.1:{port + i}/ws" for i in (1, 2)}

        def registered() -> bool:
            urls = set()
            for key in redis.cli("--scan", "--pattern", "thirdspace:node:*").split():
                urls.add(orjson.loads(redis.cli("GET", key))["url"])
            return own <= urls

        wait_until(lambda: registered() and shared.ready(), 120, "two workers registered and ready")
        clients = [await ThirdSpaceClient.connect(shared.ws, "market", f"W{i}") for i in range(6)]
        try:
            assert len({c.room for c in clients}) == 1  # whichever worker accepted them, they meet
            assert {c.ws.remote_address[1] for c in clients} <= {port, port + 1, port + 2}
            await clients[0].send_chat("shared port")
            for client in clients:
                await client.wait_for(lambda c: any(line["text"] == "shared port" for line in c.chat))
        finally:
            for client in clients:
                await client.close()
        parent.send_signal(signal.SIGTERM)
        started = time.monotonic()
        parent.wait(30)
        assert parent.returncode == 0 and time.monotonic() - started < 20
        wait_until(lambda: not registered(), 5, "workers leaving the directory")
    finally:
        stop(shared)
        log.close()


async def test_redis_going_away_and_coming_back(tmp_path, cluster_data, scenes_dir):
    redis = start_redis(tmp_path)
    node = start_node("node-lonely", redis.url, cluster_data, scenes_dir, tmp_path, "--log-format", "json")
    try:
        visitor = await ThirdSpaceClient.connect(node.ws, "gallery", "Ama")
        redis.process.kill()
        redis.process.wait()
        wait_until(lambda: node.get("/readyz")[0] == 503, 10, "readyz turning 503")
        status, body = node.get("/readyz")
        assert any("Redis" in problem for problem in orjson.loads(body)["problems"])
        status, body = node.get("/healthz")
        assert status == 200 and orjson.loads(body)["redis"] == "unreachable"
        # Visitors already in a room keep moving; what must be kept in Redis is refused clearly, not lost silently.
        seen = visitor.snapshots
        await visitor.wait_for(lambda c: c.snapshots > seen + 5)
        await visitor.send_chat("while Redis is away")
        error = await visitor.wait_for(lambda c: [e for e in c.errors if e["code"] == "unavailable"], timeout=10)
        assert error
        with pytest.raises(JoinError) as refused:
            await ThirdSpaceClient.connect(node.ws, "market", "Bo")
        assert refused.value.message["code"] == "unavailable"

        revived = subprocess.Popen(
            ["redis-server", "--port", str(redis.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: node.get("/readyz")[0] == 200, 15, "readyz back to 200")
            async with await ThirdSpaceClient.connect(node.ws, "market", "Bo") as bo:
                assert bo.room.startswith("market-")
            await visitor.close()
        finally:
            revived.terminate()
            revived.wait(10)
    finally:
        stop(node)
    lines = [orjson.loads(line) for line in node.log.read_text().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    joined = [line for line in lines if "joined room" in line["message"]]
    assert joined and all(line.get("request_id") and line.get("node") == "node-lonely" for line in joined)
    assert any(line.get("room", "").startswith("gallery-") for line in lines)
