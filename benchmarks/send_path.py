"""The snapshot hand-off: what one tick costs the server when it gives N connections their snapshot.

A real aiohttp WebSocket endpoint with the server's own ``Session`` per connection, and N loopback clients in a
separate process that read and discard what they get (so their CPU is not counted). A tick loop like the room's
offers every connection a slice of one tick buffer ``--hz`` times a second for ``--seconds``; the server process's
CPU time over the run, divided by the ticks, is the cost of one tick's sending (hand-off, writer tasks and socket
writes), and the hand-off loop itself is timed on its own.

    python3 benchmarks/send_path.py --clients 500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time

from aiohttp import web

from thirdspace.web.session import SNAPSHOT_OUT, Session


async def clients_main(port: int, count: int) -> None:
    """Open ``count`` WebSocket connections, then read and discard until the server goes away."""

    async def one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        received = 0
        while chunk := await reader.read(65536):
            received += len(chunk)
        writer.close()
        return received

    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(0.001)
    print("connected", flush=True)
    received = await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"received_bytes": sum(r for r in received if isinstance(r, int))}), flush=True)


async def server_main(clients: int, seconds: float, hz: float, size: int) -> dict:
    sessions: list[Session] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        session = Session(ws, request.transport, 256)
        sessions.append(session)
        async for _ in ws:
            pass
        await session.finish()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client-of", str(port), "--clients", str(clients), stdout=subprocess.PIPE
    )
    assert child.stdout is not None
    await child.stdout.readline()  # "connected": the child has sent every handshake
    while len(sessions) < clients:
        await asyncio.sleep(0.05)

    tick_buffer = bytearray(size * clients)
    view = memoryview(tick_buffer)
    period = 1.0 / hz
    loop = asyncio.get_running_loop()
    handoff: list[float] = []
    bytes_before = SNAPSHOT_OUT._value.get()
    await asyncio.sleep(0.5)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    deadline = loop.time()
    ticks = 0
    while time.perf_counter() - wall_start < seconds:
        tick_buffer[0 : len(tick_buffer) : size] = bytes([ticks % 256]) * clients  # the next tick's contents
        started = time.perf_counter()
        written = 0
        for i, session in enumerate(sessions):
            written += session.offer_snapshot(view[i * size : (i + 1) * size]) or 0
        SNAPSHOT_OUT.inc(written)
        handoff.append(time.perf_counter() - started)
        ticks += 1
        deadline += period
        await asyncio.sleep(max(0.0, deadline - loop.time()))
    await asyncio.sleep(period)  # let the last tick's writers run inside the measured window
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    sent = SNAPSHOT_OUT._value.get() - bytes_before
    replaced = sum(s.snapshots_replaced for s in sessions)
    for session in sessions:
        session.abort()  # the clients see the end of their stream
    await runner.cleanup()
    out, _ = await child.communicate()
    received = json.loads(out.decode().splitlines()[-1])["received_bytes"]
    return {
        "clients": clients,
        "ticks": ticks,
        "snapshot_bytes": size,
        "server_cpu_ms_per_tick": round(cpu / ticks * 1000, 3),
        "server_cpu_share": round(cpu / wall, 3),
        "handoff_ms_median": round(statistics.median(handoff) * 1000, 3),
        "handoff_ms_p99": round(sorted(handoff)[int(len(handoff) * 0.99)] * 1000, 3),
        "snapshots_replaced": replaced,
        "snapshot_mb_sent": round(sent / 1e6, 2),
        "mb_received_by_clients": round(received / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hz", type=float, default=20.0)
    parser.add_argument("--bytes", type=int, default=600, help="one snapshot's size (about 12 KB/s at 20 Hz)")
    parser.add_argument("--client-of", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_of:
        asyncio.run(clients_main(args.client_of, args.clients))
        return
    print(json.dumps(asyncio.run(server_main(args.clients, args.seconds, args.hz, args.bytes))))


if __name__ == "__main__":
    main()
