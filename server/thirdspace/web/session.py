"""One WebSocket connection's outgoing side: a bounded control queue and a
single snapshot slot, drained by one writer task.

The room never awaits a socket: it appends to the queue and returns.  A
connection that stops reading blocks only its own writer; when its control
queue fills up the connection is aborted, and an unsent snapshot is simply
replaced by the newer one, so memory per connection stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from aiohttp import WSMsgType, web

from thirdspace.metrics import BYTES_OUT

CONTROL_OUT = BYTES_OUT.labels("control")
SNAPSHOT_OUT = BYTES_OUT.labels("snapshot")


class Session:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, queue_limit: int):
        self.ws = ws
        self.transport = transport
        self.queue_limit = queue_limit
        self._control: deque[bytes] = deque()
        self._snapshot: bytes | None = None
        self._close: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._run())
        self._sending_since: float | None = None  # when the frame being written started to wait for the network
        self.snapshots_replaced = 0

    @property
    def closed_by_server(self) -> bool:
        """Closed on purpose with a code (kicked, room closed, bad input, shutdown), not aborted or dropped."""
        return self._close is not None and self._close[0] != 0

    def unsent_for(self, now: float) -> float:
        """How long the frame being written has waited for the client to make room (0 when nothing waits)."""
        return 0.0 if self._sending_since is None else now - self._sending_since

    @property
    def queued(self) -> int:
        return len(self._control)

    def send(self, data: bytes) -> None:
        """Queue a control message (JSON text frame)."""
        if self._close is not None:
            return
        if len(self._control) >= self.queue_limit:
            # The writer is stuck on a connection that stopped reading.
            self.abort()
            return
        self._control.append(data)
        self._wake.set()

    def offer_snapshot(self, data: bytes | memoryview) -> None:
        """Offer the newest snapshot; an unsent older one is dropped."""
        if self._snapshot is not None:
            self.snapshots_replaced += 1
        self._snapshot = data
        self._wake.set()

    def abort(self) -> None:
        self._close = (0, "")
        self._control.clear()
        self._snapshot = None
        self._writer.cancel()
        if self.transport is not None:
            self.transport.abort()

    async def close(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Send what is queued, then close with ``code``; abort if that stalls."""
        if self._close is None:
            self._close = (code, reason)
            self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except TimeoutError:
            self.abort()
        except asyncio.CancelledError:
            self.abort()
            if asyncio.current_task().cancelling():
                raise  # we were cancelled, not just the writer

    async def finish(self) -> None:
        self._close = self._close or (0, "")
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer

    async def _run(self) -> None:
        ws = self.ws
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._control:
                    data = self._control.popleft()
                    self._sending_since = time.monotonic()
                    await ws.send_frame(data, WSMsgType.TEXT)
                    self._sending_since = None
                    CONTROL_OUT.inc(len(data))
                if self._close is not None:
                    code, reason = self._close
                    if code:
                        await ws.close(code=code, message=reason.encode()[:120])
                    return
                if self._snapshot is not None:
                    data, self._snapshot = bytes(self._snapshot), None  # copy out of the tick buffer
                    self._sending_since = time.monotonic()
                    await ws.send_frame(data, WSMsgType.BINARY)
                    self._sending_since = None
                    SNAPSHOT_OUT.inc(len(data))
        except (ConnectionError, RuntimeError):
            # The peer went away mid-send; the reader side notices and cleans up.
            return
