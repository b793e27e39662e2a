"""The snapshot send path on real sockets: snapshots written straight to idle connections arrive whole and in
order behind the control messages queued before them; a client behind gets only the newest snapshot; one that
stops reading is closed with 4009 while the others carry on."""

import asyncio
import socket

import numpy as np
import orjson
import pytest
import websockets

from tests.conftest import start_server
from thirdspace.client import ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.constants import CLOSE_SLOW_READER, FLAG_ACK
from thirdspace.web.session import binary_frame

MARK = 0xEE  # the first byte of the test's own snapshots (no real binary frame kind)
PARTS = np.array([[0, 1.6, 2, 0, 0, 0, 1]] * 3, np.float32)


def marker(seq: int, size: int) -> bytes:
    """A snapshot-like payload that says its sequence number and is checkable byte for byte."""
    head = bytes([MARK]) + seq.to_bytes(4, "big")
    return head + bytes((seq + k) % 251 for k in range(size - len(head)))


def hello(name: str) -> str:
    return orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": name}).decode()


async def join(server, name: str, **options):
    ws = await websockets.connect(server.ws, **options)
    await ws.send(hello(name))
    welcome = orjson.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    runner = next(r for r in server.rooms.runners.values() if welcome["id"] in r.sessions)
    return ws, welcome["id"], runner


def test_binary_frames_have_the_three_header_lengths():
    assert binary_frame(b"ab") == b"\x82\x02ab"
    assert binary_frame(bytes(126))[:4] == b"\x82\x7e\x00\x7e"
    assert binary_frame(memoryview(bytes(70_000)))[:10] == b"\x82\x7f" + (70_000).to_bytes(8, "big")
    assert len(binary_frame(bytes(70_000))) == 70_010


async def test_snapshots_arrive_whole_in_order_and_behind_the_control_messages_queued_before_them(server):
    ws, visitor_id, runner = await join(server, "Orderly")
    session = runner.sessions[visitor_id]
    sizes = [40, 300, 70_000]  # the three WebSocket header lengths
    steps = 60
    for seq in range(steps):
        kind = seq % 3
        if kind == 1:  # a control message queued before the snapshot: it must arrive first
            session.send(orjson.dumps({"type": "test", "seq": seq}))
        session.offer_snapshot(marker(seq, sizes[seq % len(sizes)]))
        if kind == 2:
            session.send(orjson.dumps({"type": "test", "seq": seq}))
        await asyncio.sleep(0.01)
    session.send(orjson.dumps({"type": "test", "seq": "end"}))

    arrived: list[tuple[str, int]] = []
    while True:
        frame = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(frame, bytes):
            if frame[0] == MARK:
                seq = int.from_bytes(frame[1:5], "big")
                assert frame == marker(seq, sizes[seq % len(sizes)]), f"snapshot {seq} arrived damaged"
                arrived.append(("snapshot", seq))
            continue
        message = orjson.loads(frame)
        if message.get("type") == "test":
            if message["seq"] == "end":
                break
            arrived.append(("control", message["seq"]))
    await ws.close()

    snapshots = [seq for what, seq in arrived if what == "snapshot"]
    controls = [seq for what, seq in arrived if what == "control"]
    assert controls == [seq for seq in range(steps) if seq % 3], "a control message was lost or reordered"
    assert snapshots == sorted(set(snapshots)), "a snapshot arrived after a newer one"
    assert len(snapshots) >= steps // 2, snapshots  # a room tick may replace one in the slot, not many
    for seq in snapshots:
        if seq % 3 == 1:
            assert arrived.index(("control", seq)) < arrived.index(("snapshot", seq))


async def test_a_client_behind_gets_only_the_newest_snapshots(server):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    ws, visitor_id, runner = await join(server, "Sluggish", sock=sock, max_queue=1)
    session = runner.sessions[visitor_id]
    session.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    replaced_before = session.snapshots_replaced
    offered = 300
    for seq in range(offered):
        session.offer_snapshot(marker(seq, 2000))
        await asyncio.sleep(0.002)
    seen: list[int] = []
    loop = asyncio.get_running_loop()
    quiet_until = loop.time() + 2.0
    while loop.time() < quiet_until:  # read slowly until no test snapshot has come for 2 s (room snapshots go on)
        frame = await asyncio.wait_for(ws.recv(), 5)
        if isinstance(frame, bytes) and frame[0] == MARK:
            seen.append(int.from_bytes(frame[1:5], "big"))
            assert frame == marker(seen[-1], 2000)
            quiet_until = loop.time() + 2.0
        await asyncio.sleep(0.01)
    await ws.close()
    assert seen, "the slow client got none of the snapshots"
    assert seen == sorted(set(seen)), "a stale snapshot arrived after a newer one"
    assert len(seen) < offered  # it could not take them all: older ones were dropped for newer ones
    assert session.snapshots_replaced > replaced_before


@pytest.fixture(scope="module")
async def quick_timeout_server(scenes_dir, tmp_path_factory):
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=tmp_path_factory.mktemp("sendpath"), read_timeout_s=3.0)
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


async def test_a_client_that_acknowledges_but_never_reads_is_closed_with_4009_and_nobody_else_notices(quick_timeout_server):
    server = quick_timeout_server
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Witness") as witness:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        # max_queue=1: the library stops reading after one unread frame.  Its poses acknowledge the room's newest
        # tick, so only what waits unread on the server's side gives it away.
        ws, visitor_id, runner = await join(server, "Pretender", sock=sock, max_queue=1, close_timeout=1)
        session = runner.sessions[visitor_id]
        session.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        await witness.wait_for(lambda c: visitor_id in c.visitors)
        try:
            for _ in range(20 * 15):  # up to 15 s of poses at 20 a second, each with a big snapshot offered
                session.offer_snapshot(marker(0, 20_000))
                await ws.send(encode_pose(PARTS, FLAG_ACK, ack=runner.room.tick_number % 65536))
                await asyncio.sleep(0.05)
                if visitor_id not in runner.sessions:
                    break
        except websockets.ConnectionClosed:
            pass
        assert visitor_id not in runner.sessions, "the server never noticed the client stopped reading"
        assert session.closed_by_server and session._close[0] == CLOSE_SLOW_READER
        before = witness.snapshots
        await witness.wait_for(lambda c: c.snapshots >= before + 5)
        assert not witness.closed
        # the witness saw the pretender leave, and nobody else
        assert [m["id"] for m in witness.messages if m.get("type") == "leave"] in ([], [visitor_id])
        await ws.close()
        assert ws.close_code in (CLOSE_SLOW_READER, 1006)
