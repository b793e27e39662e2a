"""Heartbeats on real sockets: an idle client that answers pings stays, one that does not is dropped without a
close frame and keeps its place for the resume window, and the server answers the client's own pings."""

import asyncio
import base64
import contextlib
import os

import orjson
import pytest
import websockets

from thirdspace.web.keys import HEARTBEATS

INTERVAL_S, PONG_WAIT_S = 0.4, 0.3


@pytest.fixture
def quick_heartbeats(server):
    heartbeats = server.app[HEARTBEATS]
    saved = heartbeats.interval_s, heartbeats.pong_wait_s, heartbeats.sweep_s
    heartbeats.interval_s, heartbeats.pong_wait_s, heartbeats.sweep_s = INTERVAL_S, PONG_WAIT_S, 0.05  # from its next sweep
    yield heartbeats
    heartbeats.interval_s, heartbeats.pong_wait_s, heartbeats.sweep_s = saved


def hello(name: str) -> str:
    return orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": name}).decode()


def masked_text(text: str) -> bytes:
    """A client's text frame (RFC 6455: masked), payload under 126 bytes."""
    payload = text.encode()
    key = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def opcodes(stream: bytes) -> list[int]:
    """The opcodes of the server's (unmasked) frames in ``stream``, whole frames only."""
    found, at = [], 0
    while at + 2 <= len(stream):
        length, start = stream[at + 1] & 0x7F, at + 2
        if length == 126:
            length, start = int.from_bytes(stream[at + 2 : at + 4], "big"), at + 4
        elif length == 127:
            length, start = int.from_bytes(stream[at + 2 : at + 10], "big"), at + 10
        if start + length > len(stream):
            break
        found.append(stream[at] & 0x0F)
        at = start + length
    return found


async def test_an_idle_client_that_answers_pings_stays_connected(server, quick_heartbeats):
    async with websockets.connect(server.ws, ping_interval=None) as ws:  # sends nothing of its own accord
        await ws.send(hello("Quiet"))
        welcome = orjson.loads(await ws.recv())
        session = next(s for r in server.rooms.runners.values() for v, s in r.sessions.items() if v == welcome["id"])
        dropped = quick_heartbeats.dropped
        pongs: list[dict] = []

        async def read() -> None:  # reads everything (snapshots too); the library answers each ping meanwhile
            async for message in ws:
                if isinstance(message, str) and orjson.loads(message).get("type") == "pong":
                    pongs.append(orjson.loads(message))

        reading = asyncio.ensure_future(read())
        await asyncio.sleep(4 * (INTERVAL_S + PONG_WAIT_S))
        assert session.pinged_at > 0 and session.heard_at > session.pinged_at  # it was pinged, and answered
        assert quick_heartbeats.dropped == dropped
        await ws.send(orjson.dumps({"type": "ping", "nonce": "still here"}).decode())
        for _ in range(100):
            if pongs:
                break
            await asyncio.sleep(0.05)
        assert pongs and pongs[0]["nonce"] == "still here"
        reading.cancel()


async def test_a_client_that_answers_nothing_is_dropped_and_keeps_its_place(server, quick_heartbeats):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.write(masked_text(hello("Gone")))
    dropped = quick_heartbeats.dropped
    received = b""
    with contextlib.suppress(ConnectionError):
        async with asyncio.timeout(10):
            while chunk := await reader.read(65536):  # never answers the ping, never closes
                received += chunk
    assert quick_heartbeats.dropped == dropped + 1
    kinds = opcodes(received)
    assert 0x9 in kinds  # it was pinged first
    assert 0x8 not in kinds  # and dropped without a close frame, as a lost network would be
    away = [v for r in server.rooms.runners.values() for v in r.room.visitors.values() if v.name == "Gone"]
    assert len(away) == 1  # its place is kept for the resume window
    writer.close()


async def test_the_server_answers_the_clients_pings(server):
    async with websockets.connect(server.ws, ping_interval=0.1, ping_timeout=0.5) as ws:
        await ws.send(hello("Pinging"))
        assert orjson.loads(await ws.recv())["type"] == "welcome"
        latency = await asyncio.wait_for(await ws.ping(), 2)
        assert latency >= 0
        await asyncio.sleep(1.0)  # ten pings of the library's own, each answered in time or it would close
        assert ws.state is websockets.State.OPEN
