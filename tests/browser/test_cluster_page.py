"""A page in a real two-node cluster (a real redis-server, nodes as separate processes): when its node shuts
down or dies, the page carries on in the other node, in the same place."""

from __future__ import annotations

import signal

import pytest

from tests.cluster.conftest import start_redis
from tests.processes import free_port, start_node, stop
from thirdspace.client import ThirdSpaceClient

BACK = "thirdspace.resumes === 1 && thirdspace.status === 'ready'"


@pytest.fixture
def cluster(server, scenes_dir, tmp_path):
    """Two nodes that accept each other's pages (allowed_origins names both origins)."""
    import shutil

    from thirdspace.web.keys import DB

    data = tmp_path / "data"
    shutil.copytree(server.app[DB].path.parent / "assets", data / "assets")
    redis = start_redis(tmp_path)
    ports = [free_port(), free_port()]
    origins = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    env = {"THIRDSPACE_ALLOWED_ORIGINS": origins}
    nodes = [
        start_node(name, redis.url, data, scenes_dir, tmp_path, port=port, env=env)
        for name, port in zip(("page-a", "page-b"), ports, strict=True)
    ]
    yield nodes
    for node in nodes:
        stop(node)
    redis.process.terminate()


def unexpected(errors: list[str], node) -> list[str]:
    """Console errors, less Chromium's lines for reaching the node that is gone: the reconnect attempts, and
    the page's own requests (it was loaded from that node; behind one front address they go to a live one)."""
    expected = (f"WebSocket connection to '{node.ws}' failed: ", "Failed to load resource: net::ERR_CONNECTION_")
    return [e for e in errors if not e.startswith(expected)]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_the_page_follows_its_room_to_the_other_node(cluster, visit, how):
    a, b = cluster
    v = await visit()
    me = await v.join(a.http, "gallery", "Ama")
    assert me["room"].startswith("gallery-")
    async with await ThirdSpaceClient.connect(b.ws, "gallery", "Bo", reconnect=True) as bo:
        assert bo.room == me["room"] and bo.ws.remote_address[1] == a.port  # node B sent Bo to the room on A
        await v.page.wait_for_function(f"thirdspace.avatars().some(a => a.id === {bo.id})")
        await bo.send_chat("before")
        await v.page.wait_for_function("thirdspace.chat().some(l => l.text === 'before')")
        seen = len(bo.messages)

        a.kill(getattr(signal, how))
        await v.page.wait_for_function(BACK, timeout=10000)  # how long this takes: benchmarks/failover.py
        await bo.wait_for(lambda c: c.resumes == 1, timeout=10)

        state = await v.page.evaluate("({id: thirdspace.visitorId, room: thirdspace.room})")
        assert state == {"id": me["id"], "room": me["room"]}
        assert bo.ws.remote_address[1] == b.port
        await bo.send_chat("after")
        await v.page.wait_for_function("thirdspace.chat().some(l => l.text === 'after')")
        texts = [line["text"] for line in await v.page.evaluate("thirdspace.chat()")]
        assert texts.count("before") == 1
        assert [m for m in bo.messages[seen:] if m.get("type") in ("join", "leave")] == []  # nobody saw the page go
        await v.page.wait_for_function(f"thirdspace.avatars().some(a => a.id === {bo.id})")
    assert unexpected(v.errors, a) == [], v.errors
