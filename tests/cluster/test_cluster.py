"""Two nodes in separate processes sharing one Redis: placement, redirects, chat, publishes, failure and shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import orjson
import pytest

from tests.cluster.conftest import start_redis
from tests.processes import start_node, stop, wait_until
from thirdspace.client import ThirdSpaceClient


@pytest.fixture(scope="module")
def pair(redis, cluster_data, scenes_dir, tmp_path_factory, curator_token):
    logs = tmp_path_factory.mktemp("logs")
    a = start_node("node-a", redis.url, cluster_data, scenes_dir, logs)
    b = start_node("node-b", redis.url, cluster_data, scenes_dir, logs)
    yield a, b
    stop(a)
    stop(b)


def texts(client) -> list[str]:
    return [line["text"] for line in client.chat]


def flicker(client, visitor_ids, since: int = 0) -> list[dict]:
    """Any leave or join of these visitors the client saw after its ``since``-th message."""
    return [
        m for m in client.messages[since:]
        if (m.get("type") == "leave" and m["id"] in visitor_ids) or (m.get("type") == "join" and m["visitor"]["id"] in visitor_ids)
    ]  # fmt: skip


async def test_a_room_placed_on_one_node_is_joined_through_the_other(pair, redis):
    a, b = pair
    async with await ThirdSpaceClient.connect(a.ws, "gallery", "Ama") as ama:
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == "node-a"
        async with await ThirdSpaceClient.connect(b.ws, "gallery", "Bo") as bo:
            assert bo.room == ama.room  # B sent Bo to the room on A
            assert bo.ws.request.path == "/ws" and bo.ws.remote_address[1] == a.port
            assert set(bo.welcome["nodes"]) == {a.ws, b.ws}
            # Either node lists the scene's rooms, wherever they are.
            for node in (a, b):
                rooms = orjson.loads(node.get("/api/scenes/gallery")[1])["rooms"]
                assert {"id": ama.room, "visitors": 2, "capacity": 30} in rooms
            await ama.wait_for(lambda c: bo.id in c.visitors)
            await bo.send_chat("Bonjour depuis B")
            await ama.wait_for(lambda c: "Bonjour depuis B" in texts(c))
            await ama.send_chat("Karibu")
            await bo.wait_for(lambda c: "Karibu" in texts(c))
            # The room's chat is kept in Redis, where it outlives node A.
            stored = redis.cli("LRANGE", f"thirdspace:chat:{ama.room}", "0", "-1").splitlines()
            kept = [orjson.loads(line)["text"] for line in stored if line]
            assert kept == ["Bonjour depuis B", "Karibu"]


async def test_visitors_entering_by_both_nodes_chat_across_them(pair):
    a, b = pair
    clients = [await ThirdSpaceClient.connect(node.ws, "market", f"V{i}") for i, node in enumerate([a, b, b, a])]
    try:
        assert len({c.room for c in clients}) == 1
        await clients[2].send_chat("one room, two doors")
        for client in clients:
            await client.wait_for(lambda c: "one room, two doors" in texts(c))
    finally:
        for client in clients:
            await client.close()


async def test_a_publish_on_one_node_reaches_the_other(pair, curator_token):
    a, b = pair
    headers = {"Authorization": f"Bearer {curator_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{b.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "cluster-copy"}) as reply:
            assert reply.status == 201, await reply.text()
            etag = reply.headers["ETag"]
        async with http.post(f"{b.http}/api/curate/scenes/cluster-copy/publish", headers={"If-Match": etag}) as reply:
            assert reply.status == 200
            etag = reply.headers["ETag"]
        # Node A hears of the publish over Redis (asynchronously): the new scene goes live there too.
        wait_until(lambda: a.get("/api/scenes/cluster-copy")[0] == 200, 5, "the publish reaching node A")
        async with await ThirdSpaceClient.connect(a.ws, "cluster-copy", "Ama") as ama:
            path = "/api/curate/scenes/cluster-copy/nodes/plinth-1"
            async with http.patch(b.http + path, json={"position": [-4.5, 0, -1.5]}, headers={"If-Match": etag}) as reply:
                assert reply.status == 200, await reply.text()
                etag = reply.headers["ETag"]
            async with http.post(f"{b.http}/api/curate/scenes/cluster-copy/publish", headers={"If-Match": etag}) as reply:
                assert reply.status == 200
            document = await ama.wait_for(lambda c: c.scene_document)
            plinth = next(n for n in document["nodes"] if n["id"] == "plinth-1")
            assert plinth["position"] == [-4.5, 0, -1.5]


async def test_health_readiness_and_metrics_in_cluster_mode(pair):
    a, _ = pair
    status, body = a.get("/healthz")
    assert status == 200 and orjson.loads(body) == {"status": "ok", "node": "node-a", "redis": "ok"}
    assert a.get("/readyz")[0] == 200
    async with await ThirdSpaceClient.connect(a.ws, "gallery", "Counted") as client:
        await client.send_chat("counted")
        await client.wait_for(lambda c: "counted" in texts(c))
    metrics = a.get("/metrics")[1].decode()
    samples = dict(line.rsplit(" ", 1) for line in metrics.splitlines() if line and not line.startswith("#"))
    assert float(samples['thirdspace_redis_seconds_count{op="chat"}']) >= 1
    assert float(samples['thirdspace_redis_seconds_count{op="heartbeat"}']) >= 1
    assert float(samples["thirdspace_cluster_redis_up"]) == 1
    assert float(samples["thirdspace_chat_seconds_count"]) >= 1


async def test_killing_a_node_moves_its_visitors_to_the_other(cluster_data, scenes_dir, tmp_path):
    redis = start_redis(tmp_path)  # a cluster of its own: no other test's nodes
    doomed = start_node("node-doomed", redis.url, cluster_data, scenes_dir, tmp_path)
    survivor = start_node("node-survivor", redis.url, cluster_data, scenes_dir, tmp_path)
    try:
        ama = await ThirdSpaceClient.connect(doomed.ws, "caravanserai", "Ama", reconnect=True)
        bo = await ThirdSpaceClient.connect(survivor.ws, "caravanserai", "Bo", reconnect=True)
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == "node-doomed" and bo.room == ama.room
        for i, speaker in enumerate([ama, bo, ama, bo, ama]):
            await speaker.send_chat(f"line {i}")
        for client in (ama, bo):
            await client.wait_for(lambda c: "line 4" in texts(c))
        before = {"ama": ama.id, "bo": bo.id}
        seen = {client.id: len(client.messages) for client in (ama, bo)}

        doomed.kill(signal.SIGKILL)
        for client in (ama, bo):  # how long this takes is measured by benchmarks/failover.py
            await client.wait_for(lambda c: c.resumes == 1, timeout=10)

        assert {"ama": ama.id, "bo": bo.id} == before and ama.room == bo.room
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == "node-survivor"
        assert ama.ws.remote_address[1] == bo.ws.remote_address[1] == survivor.port
        for client in (ama, bo):  # no line lost, none doubled, in the order the room numbered them
            assert sorted(texts(client)) == [f"line {i}" for i in range(5)]
            assert [line["id"] for line in client.chat] == sorted(line["id"] for line in client.chat)
            assert client.welcome["chat"] == client.chat
        await bo.send_chat("still here")
        await ama.wait_for(lambda c: "still here" in texts(c))
        assert flicker(ama, {bo.id}, seen[ama.id]) == [] and flicker(bo, {ama.id}, seen[bo.id]) == []
        await ama.close()
        await bo.close()
    finally:
        stop(doomed)
        stop(survivor)
        redis.process.terminate()


async def test_sigterm_drains_a_node_and_exits_in_bound(cluster_data, scenes_dir, tmp_path):
    redis = start_redis(tmp_path)
    leaving = start_node("node-leaving", redis.url, cluster_data, scenes_dir, tmp_path)
    staying = None
    try:
        ama = await ThirdSpaceClient.connect(leaving.ws, "caravanserai", "Ama", reconnect=True)
        bo = await ThirdSpaceClient.connect(leaving.ws, "caravanserai", "Bo", reconnect=True)
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == "node-leaving"
        staying = start_node("node-staying", redis.url, cluster_data, scenes_dir, tmp_path)
        await ama.send_chat("before the move")
        await bo.wait_for(lambda c: "before the move" in texts(c))
        seen = len(ama.messages)

        leaving.kill(signal.SIGTERM)
        started = time.monotonic()
        for client in (ama, bo):
            await client.wait_for(lambda c: c.resumes == 1, timeout=15)
        assert any(m.get("type") == "move" and m["url"] == staying.ws for m in ama.messages)
        await asyncio.get_running_loop().run_in_executor(None, leaving.process.wait, 20)
        exited_in = time.monotonic() - started
        assert leaving.process.returncode == 0 and exited_in < 15.0  # drain_timeout_s (10) + margin
        assert ama.ws.remote_address[1] == bo.ws.remote_address[1] == staying.port and ama.room == bo.room
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == "node-staying"
        assert "before the move" in texts(bo) and flicker(ama, {bo.id}, seen) == []
        assert redis.cli("EXISTS", "thirdspace:node:node-leaving").strip() == "0"
        await ama.close()
        await bo.close()
    finally:
        stop(leaving)
        if staying is not None:
            stop(staying)
        redis.process.terminate()


async def test_moderating_a_room_through_the_node_that_does_not_hold_it(pair, redis, curator_token):
    headers = {"Authorization": f"Bearer {curator_token}"}
    async with await ThirdSpaceClient.connect(pair[0].ws, "caravanserai", "Loud") as loud:
        holder = redis.cli("HGET", "thirdspace:room-node", loud.room).strip()  # the least-loaded node at the time
        a, b = pair if holder == "node-a" else pair[::-1]
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{b.http}/api/admin/rooms") as reply:
                assert reply.status == 200
                rooms = {room["id"]: room for room in (await reply.json())["rooms"]}
            assert rooms[loud.room]["node"] == holder
            assert "Loud" in [v["name"] for v in rooms[loud.room]["visitors"]]
            async with http.post(f"{b.http}/api/admin/rooms/{loud.room}/mute", json={"visitor": loud.id}) as reply:
                assert reply.status == 200 and (await reply.json())["muted"] is True
            await loud.send_chat("can anyone hear me")
            refused = await loud.wait_for(lambda c: [e for e in c.errors if e["code"] == "muted"])
            assert refused
            async with http.post(f"{b.http}/api/admin/rooms/{loud.room}/mute", json={"visitor": 999}) as reply:
                assert reply.status == 404 and (await reply.json())["field"] == "visitor"  # node A's answer, passed on
            async with http.post(f"{b.http}/api/admin/rooms/nowhere-1/lock", json={"locked": True}) as reply:
                assert reply.status == 404 and (await reply.json())["field"] == "room_id"


async def test_a_node_that_lost_a_room_sends_its_visitors_to_the_new_owner(pair, redis):
    """As when a stalled node was taken for dead: Redis says another node owns the room now."""
    async with await ThirdSpaceClient.connect(pair[0].ws, "tiny", "Ama", reconnect=True) as ama:
        holder = redis.cli("HGET", "thirdspace:room-node", ama.room).strip()
        other = next(node for node in pair if node.name != holder)
        redis.cli("HSET", "thirdspace:room-node", ama.room, other.name)
        await ama.wait_for(lambda c: c.resumes == 1, timeout=10)
        assert ama.ws.remote_address[1] == other.port and ama.welcome["resumed"]
        assert redis.cli("HGET", "thirdspace:room-node", ama.room).strip() == other.name


async def test_rooms_are_written_back_after_redis_loses_its_data(pair, redis):
    async with await ThirdSpaceClient.connect(pair[0].ws, "tiny", "Ama") as ama:
        await ama.send_chat("remember me")
        await ama.wait_for(lambda c: "remember me" in texts(c))
        redis.cli("FLUSHALL")
        wait_until(lambda: redis.cli("HGET", "thirdspace:room-node", ama.room).strip() != "", 5, "the room written back")
        assert redis.cli("HEXISTS", f"thirdspace:members:{ama.room}", str(ama.id)).strip() == "1"
        async with await ThirdSpaceClient.connect(pair[1].ws, "tiny", "Bo") as bo:
            assert bo.room == ama.room and "remember me" in texts(bo)


async def test_a_burst_of_joins_fills_rooms_instead_of_opening_many(pair, redis):
    """Sixty visitors arriving at once through both nodes, rooms of thirty: two rooms (a third at most, when
    both nodes open one in the same instant), none over capacity, spread over the nodes."""
    clients = await asyncio.gather(*(ThirdSpaceClient.connect(pair[i % 2].ws, "gallery", f"B{i}", decode=False) for i in range(60)))
    try:
        rooms = {}
        for client in clients:
            rooms.setdefault(client.room, []).append(client)
        assert len(rooms) <= 3 and all(len(members) <= 30 for members in rooms.values())
        owners = {redis.cli("HGET", "thirdspace:room-node", room).strip() for room in rooms}
        assert owners == {"node-a", "node-b"}
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_a_tour_offered_in_a_room_on_one_node_reaches_the_rooms_on_the_other(pair, redis, curator_token):
    a, b = pair
    async with (
        await ThirdSpaceClient.connect(a.ws, "tiny", "Ama") as ama,
        await ThirdSpaceClient.connect(a.ws, "tiny", "Bo") as bo,
        await ThirdSpaceClient.connect(b.ws, "tiny", "Idris", token=curator_token) as guide,
    ):
        owners = {redis.cli("HGET", "thirdspace:room-node", room).strip() for room in (ama.room, guide.room)}
        assert bo.room == ama.room != guide.room and owners == {"node-a", "node-b"}  # the offer must cross nodes
        await guide.send({"type": "tour", "action": "start", "tour": "travelling-objects"})
        for visitor in (ama, bo):
            offer = await visitor.wait_for(lambda c: [m for m in c.messages if m.get("type") == "tour_available"])
            assert offer[0]["room"] == guide.room and offer[0]["name"] == "Idris"
        async with await ThirdSpaceClient.connect(a.ws, "tiny", "Ama", room=offer[0]["room"]) as moved:
            assert moved.room == guide.room
            await moved.send({"type": "tour", "action": "join", "tour": "travelling-objects"})
            state = await moved.wait_for(lambda c: [m for m in c.messages if m.get("type") == "tour_state"])
            assert state[0]["guide"] == guide.id and state[0]["members"] == [moved.id]
