"""One WebSocket connection's outgoing side: a bounded control queue and a
single snapshot slot, drained by one writer task.

The room never awaits a socket: it appends to the queue and returns.  A
snapshot offered to an idle connection (nothing queued, the writer not
sending, little waiting in the transport) is written straight to the
transport as one frame, without waking the writer.  A connection that stops
reading blocks only its own writer; when its control queue fills up the
connection is aborted, and an unsent snapshot is simply replaced by the newer
one, so memory per connection stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import time
from collections import deque

from aiohttp import WSMsgType, web

from thirdspace.metrics import BYTES_OUT

CONTROL_OUT = BYTES_OUT.labels("control")
SNAPSHOT_OUT = BYTES_OUT.labels("snapshot")

# A snapshot is written straight to the transport only while less than this waits in its buffer; above it the
# client is behind (the kernel's socket buffer is full too) and it gets the newest snapshot once it catches up.
SNAPSHOT_HIGH_WATER = 4096

_SHORT = struct.Struct("!BB").pack
_MEDIUM = struct.Struct("!BBH").pack
_LONG = struct.Struct("!BBQ").pack
_BINARY_FIN = 0x80 | WSMsgType.BINARY
PING_FRAME = bytes([0x80 | WSMsgType.PING, 0])  # final, empty, unmasked


def binary_frame(data: bytes | memoryview) -> bytes:
    """One final, unmasked, uncompressed binary WebSocket frame (RFC 6455 section 5.2), as a server sends it."""
    n = len(data)
    if n < 126:
        return _SHORT(_BINARY_FIN, n) + data
    if n < 65536:
        return _MEDIUM(_BINARY_FIN, 126, n) + data
    return _LONG(_BINARY_FIN, 127, n) + data


class Session:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, queue_limit: int):
        self.ws = ws
        self.transport = transport
        self.queue_limit = queue_limit
        self._control: deque[bytes] = deque()
        self._snapshot: bytes | None = None
        self._close: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._run())
        self._sending_since: float | None = None  # when the frame being written started to wait for the network
        self._behind_since: float | None = None  # since when every offered snapshot found the transport's buffer full
        self._busy = False  # the writer has work in hand (it may be waiting for the network)
        self.snapshots_replaced = 0
        self.heard_at = time.monotonic()  # when the client last sent a frame (web/heartbeat.py)
        self.pinged_at = -math.inf

    @property
    def closed_by_server(self) -> bool:
        """Closed on purpose with a code (kicked, room closed, bad input, shutdown), not aborted or dropped."""
        return self._close is not None and self._close[0] != 0

    def unsent_for(self, now: float) -> float:
        """How long the client has left what was sent unread (0 when nothing waits): the frame the writer is
        sending has waited for room, or every snapshot since then found the transport's buffer above the mark."""
        since = self._sending_since
        behind = self._behind_since
        if behind is not None and (since is None or behind < since):
            since = behind
        return 0.0 if since is None else now - since

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

    def offer_snapshot(self, data: bytes | memoryview) -> int:
        """Offer the newest snapshot; an unsent older one is dropped.

        Returns the bytes written to the transport now (the caller counts them in ``SNAPSHOT_OUT``), or 0 when the
        snapshot was left to the writer (control messages go first) or skipped because the client is behind."""
        if self._busy or self._control or self._close is not None or self._wake.is_set():
            if self._snapshot is not None:
                self.snapshots_replaced += 1
            self._snapshot = data
            self._wake.set()
            return 0
        transport = self.transport
        if transport is None or transport.is_closing() or self.ws.closed:
            return 0
        if transport.get_write_buffer_size() >= SNAPSHOT_HIGH_WATER:
            # Behind: this one is dropped, and a newer one is offered next tick.
            self.snapshots_replaced += 1
            if self._behind_since is None:
                self._behind_since = time.monotonic()
            return 0
        self._behind_since = None
        frame = binary_frame(data)  # a copy: the tick buffer is reused next tick
        transport.write(frame)
        return len(data)

    def ping(self) -> None:
        """Write a ping frame now (frames go to the transport whole, so it never lands inside another)."""
        transport = self.transport
        if self._close is None and transport is not None and not transport.is_closing():
            transport.write(PING_FRAME)

    def abort(self) -> None:
        """Drop the connection now; a close already chosen (its code) is kept for the record."""
        self._close = self._close or (0, "")
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
                self._busy = False
                await self._wake.wait()
                self._busy = True
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
