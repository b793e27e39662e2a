"""Each connection's budgets hold against a hostile client on a real socket (docs/protocol.md, "Limits"):
a pose flood, a chat flood, a socket that never says hello and one that sends without reading are
closed with their documented codes, while a well-behaved visitor in the same room carries on."""

import asyncio
import time
from collections.abc import Callable

import numpy as np
import orjson
import pytest
import websockets

from tests.conftest import start_server
from thirdspace.client import ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.constants import CLOSE_FLOOD, CLOSE_POLICY, CLOSE_SLOW_READER, FLAG_ACK

PARTS = np.array([[0, 1.6, 2, 0, 0, 0, 1]] * 3, np.float32)


@pytest.fixture(scope="module")
async def budget_server(scenes_dir, tmp_path_factory):
    settings = Settings.load(
        environ={}, scenes_dir=scenes_dir, data_dir=tmp_path_factory.mktemp("budgets"), hello_timeout_s=1.0, read_timeout_s=3.0
    )
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


def hello(name: str) -> str:
    return orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": name}).decode()


async def join_raw(url: str, name: str, **options) -> tuple[websockets.ClientConnection, dict]:
    ws = await websockets.connect(url, **options)
    await ws.send(hello(name))
    welcome = orjson.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return ws, welcome


async def flood(ws: websockets.ClientConnection, frame: Callable[[int], bytes | str], seconds: float) -> int | None:
    """Send ``frame(i)`` as fast as the socket takes it until the server closes (its code) or ``seconds`` pass (None)."""
    deadline = time.monotonic() + seconds
    sent = 0
    try:
        while time.monotonic() < deadline:
            for _ in range(50):
                await ws.send(frame(sent))
                sent += 1
            await asyncio.sleep(0)
    except websockets.ConnectionClosed:
        pass
    try:
        await asyncio.wait_for(ws.wait_closed(), 5)
    except TimeoutError:
        return None
    return ws.close_code


async def test_a_pose_flood_is_closed_with_4008_and_the_room_carries_on(budget_server):
    async with await ThirdSpaceClient.connect(budget_server.ws, "gallery", "Probe") as probe:
        ws, welcome = await join_raw(budget_server.ws, "Flooder")
        await probe.wait_for(lambda c: welcome["id"] in c.visitors)
        pose = encode_pose(PARTS, FLAG_ACK, ack=1)
        code = await flood(ws, lambda i: pose, seconds=8)
        assert code == CLOSE_FLOOD
        before = probe.snapshots
        await probe.wait_for(lambda c: c.snapshots >= before + 10)  # the probe is still in the room, getting snapshots
        assert not probe.closed


async def test_a_chat_flood_is_closed_with_4008_after_rate_limited_replies(budget_server):
    async with await ThirdSpaceClient.connect(budget_server.ws, "gallery", "Listener") as listener:
        ws, welcome = await join_raw(budget_server.ws, "Chatterbox")
        code = await flood(ws, lambda i: orjson.dumps({"type": "chat", "text": f"buy now {i}"}).decode(), seconds=8)
        assert code == CLOSE_FLOOD
        heard = [m for m in listener.chat if m["from"] == welcome["id"]]
        assert 1 <= len(heard) <= 10  # the room's chat limit let a burst through, and nothing after
        await listener.send({"type": "chat", "text": "still here"})
        await listener.wait_for(lambda c: any(m["text"] == "still here" for m in c.chat))


async def test_sockets_that_never_say_hello_are_closed_with_1008(budget_server):
    # They answer pings (the client library does) but never say hello.
    sockets = [await websockets.connect(budget_server.ws) for _ in range(20)]
    try:
        await asyncio.wait_for(asyncio.gather(*(ws.wait_closed() for ws in sockets)), 10)
        assert {ws.close_code for ws in sockets} == {CLOSE_POLICY}
        assert {ws.close_reason for ws in sockets} == {"no hello within 1 s"}
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_a_client_that_sends_poses_but_never_reads_is_closed_with_4009(budget_server):
    async with await ThirdSpaceClient.connect(budget_server.ws, "gallery", "Witness") as witness:
        # max_queue=1: the library stops reading after one unread frame; the poses keep acknowledging snapshot 1.
        ws, welcome = await join_raw(budget_server.ws, "Deaf", max_queue=1)
        await witness.wait_for(lambda c: welcome["id"] in c.visitors)
        runner = next(r for r in budget_server.rooms.runners.values() if welcome["id"] in r.sessions)
        try:
            for _ in range(20 * 10):  # 10 s of poses at 20 a second
                await ws.send(encode_pose(PARTS, FLAG_ACK, ack=1))
                await asyncio.sleep(0.05)
                if welcome["id"] not in runner.sessions:
                    break
        except websockets.ConnectionClosed:
            pass
        assert welcome["id"] not in runner.sessions  # the server let go of it (the 4009 close frame may never be read)
        before = witness.snapshots
        await witness.wait_for(lambda c: c.snapshots >= before + 5)
        await ws.close()
        assert ws.close_code in (CLOSE_SLOW_READER, 1006)  # 1006: the server dropped the socket without a close frame
