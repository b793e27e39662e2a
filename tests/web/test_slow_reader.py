"""A visitor whose connection stops reading never grows the server's memory
without bound nor slows the room."""

import asyncio
import socket

import orjson
import websockets

from thirdspace.client import ThirdSpaceClient


async def test_a_connection_that_stops_reading_is_bounded_then_dropped(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "watcher") as watcher:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        # max_queue=1: the client library stops reading from the socket after one unread frame.
        slow = await websockets.connect(server.ws, sock=sock, max_queue=1, close_timeout=1)
        await slow.send(orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": "slow"}).decode())
        slow_id = orjson.loads(await slow.recv())["id"]
        await watcher.wait_for(lambda c: slow_id in c.visitors)
        runner = next(r for r in server.rooms.runners.values() if slow_id in r.sessions)
        session = runner.sessions[slow_id]

        snapshots_before = watcher.snapshots
        padding = "x" * 8000
        most_queued = 0
        sent = 0
        while not session.ws.closed and slow_id in runner.sessions and sent < 5000:
            session.send(orjson.dumps({"type": "chat", "text": padding}))
            session.offer_snapshot(b"\x02" + bytes(7))
            sent += 1
            most_queued = max(most_queued, session.queued)
            if sent % 20 == 0:
                await asyncio.sleep(0.01)
        # The room did not wait for the slow socket: the watcher kept getting snapshots.
        await watcher.wait_for(lambda c: c.snapshots >= snapshots_before + 5)
        # The connection was dropped; its visitor keeps the place for the resume window, unseen by the others.
        await watcher.wait_for(lambda c: slow_id not in runner.sessions)
        assert runner.room.visitors[slow_id].away_until is not None
        assert not [m for m in watcher.messages if m.get("type") == "leave"]
        assert sent < 5000, "the server never noticed the connection stopped reading"
        assert most_queued == session.queue_limit  # the queue filled to its bound, then the connection went
        assert session.snapshots_replaced > 0  # newest snapshot replaced unsent ones
        assert slow_id not in runner.sessions
        await slow.close()
