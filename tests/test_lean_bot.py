"""The load generator's raw-socket bot against a real aiohttp WebSocket endpoint: its handshake, its own frame parser
(frames split anywhere, the three length forms), pings answered, errors kept, the close code read, its frames valid."""

from __future__ import annotations

import asyncio

import numpy as np
import orjson
import pytest
from aiohttp import WSMsgType, web

from thirdspace.loadtest import LeanBot, LoadTestError
from thirdspace.protocol.constants import POSE_DTYPE


async def start(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"ws://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/ws"  # type: ignore[union-attr]


async def test_a_lean_bot_joins_counts_acknowledges_answers_pings_and_reads_the_close():
    received: list[tuple[WSMsgType, bytes | str]] = []
    pong = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, autoping=False)
        await ws.prepare(request)
        hello = orjson.loads((await ws.receive()).data)
        received.append((WSMsgType.TEXT, hello["name"]))
        await ws.send_str(orjson.dumps({"type": "welcome", "id": 7, "room": "r"}).decode())
        for seq, size in ((300, 10), (301, 200), (302, 70_000)):  # the 7-bit, 16-bit and 64-bit length forms
            await ws.send_bytes(bytes([1, 0]) + seq.to_bytes(2, "little") + bytes(size))
        await ws.ping(b"are you there")
        await ws.send_str(orjson.dumps({"type": "error", "code": "rate_limited"}).decode())
        async for msg in ws:
            received.append((msg.type, msg.data))
            if msg.type == WSMsgType.PONG:
                pong.set()
            if msg.type == WSMsgType.BINARY and len(received) == 3:
                await ws.close(code=4009, message=b"too slow")
        return ws

    runner, url = await start(handler)
    try:
        bot = await LeanBot.connect(url, "gallery", "lean-1", "en", ack_delay=2)
        assert bot.id == 7 and received[0] == (WSMsgType.TEXT, "lean-1")
        await asyncio.wait_for(pong.wait(), 10)
        assert bot.snapshots == 3 and bot.ack == 301  # two back from the newest (302)
        assert bot.errors == [{"type": "error", "code": "rate_limited"}]
        frames = np.zeros(2, dtype=POSE_DTYPE)
        frames["kind"], frames["ack"] = 2, (11, 12)
        buffer, size = LeanBot.frames(frames)
        assert size == LeanBot.HEADER + POSE_DTYPE.itemsize and len(buffer) == 2 * size
        bot.write(memoryview(buffer)[size:])  # the second frame alone: the server unmasks it to the payload
        for _ in range(100):
            if bot.closed:
                break
            await asyncio.sleep(0.05)
        assert bot.closed and bot.close_code == 4009
        kind, data = received[2]
        assert kind == WSMsgType.BINARY and data == frames[1:].tobytes()
        assert received[1] == (WSMsgType.PONG, b"are you there")
    finally:
        await runner.cleanup()


async def test_a_bot_that_is_not_welcomed_says_what_it_was_told():
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.send_str(orjson.dumps({"type": "error", "code": "room_full"}).decode())
        await ws.close()
        return ws

    runner, url = await start(handler)
    try:
        with pytest.raises(LoadTestError, match="room_full"):
            await LeanBot.connect(url, "gallery", "lean-2", "en", ack_delay=1)
    finally:
        await runner.cleanup()
