"""Heartbeats for WebSocket connections.

A connection the client has sent nothing on for ``interval_s`` is pinged; one still silent
``pong_wait_s`` later is dropped without a close frame, as a lost network would drop it (a
member keeps their place for the resume window: docs/protocol.md, "Reconnecting").  A visitor's
page sends a pose at least every 250 ms, so only idle connections are ever pinged.

aiohttp's own heartbeat does the same but pays on every chunk received (a callback scheduled
and a timer re-armed): at 1,000 walking visitors that was about a tenth of the server's core.
Here a frame received costs one attribute store (``Session.heard_at``, set by ``web/ws.py``),
and one task looks at every connection once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from thirdspace.web.session import Session


class Heartbeats:
    def __init__(self, interval_s: float = 20.0, pong_wait_s: float = 10.0, sweep_s: float = 1.0):
        self.interval_s, self.pong_wait_s, self.sweep_s = interval_s, pong_wait_s, sweep_s
        self.sessions: set[Session] = set()
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="websocket heartbeats")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def sweep(self, now: float) -> None:
        """Ping each connection silent for ``interval_s`` (once), and drop each one still silent ``pong_wait_s`` after its ping."""
        for session in list(self.sessions):
            if session.pinged_at < session.heard_at:  # heard since the last ping (or never pinged)
                if now - session.heard_at >= self.interval_s:
                    session.pinged_at = now
                    session.ping()
            elif now - session.pinged_at >= self.pong_wait_s:
                self.dropped += 1
                self.sessions.discard(session)
                session.abort()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            self.sweep(time.monotonic())
