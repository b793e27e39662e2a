"""The WebSocket endpoint ``/ws``: frames in, actions out.

The protocol's rules live in :class:`~thirdspace.protocol.connection.Connection`
(no I/O) and the requests it yields are carried out by
:class:`~thirdspace.services.visitors.VisitorRequests`; this adapter only reads
frames, feeds them in with the time, and performs what comes back.
"""

from __future__ import annotations

import time
from collections import deque

from aiohttp import WebSocketError, WSMsgType, web

from thirdspace.metrics import BYTES_IN
from thirdspace.protocol.connection import Budgets, Close, Connection, Event, Send
from thirdspace.protocol.constants import CLOSE_FLOOD, MAX_FRAME_BYTES
from thirdspace.services.visitors import VisitorRequests
from thirdspace.web.auth import identify, origin_allowed, visitor_identities
from thirdspace.web.http import json_error
from thirdspace.web.keys import DB, HEARTBEATS, ROOMS, SETTINGS
from thirdspace.web.limits import LIMITS
from thirdspace.web.peers import peer_address
from thirdspace.web.session import Session

TEXT_IN = BYTES_IN.labels("text")
BINARY_IN = BYTES_IN.labels("binary")


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        return json_error(403, f"WebSocket connections from {request.headers['Origin']!r} are not allowed", field="Origin")
    user, _ = identify(request)  # the auth middleware has answered 401 for an unknown token already
    settings = request.app[SETTINGS]
    # aiohttp closes with 1009 at max_msg_size; the Connection enforces the limit itself (frames of exactly MAX are fine).
    # The heartbeat is web/heartbeat.py's (pings are answered below): aiohttp's would cost a timer per chunk received.
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES + 1, autoping=False, compress=False, decode_text=False)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the client went away during the handshake
        return ws
    session = Session(ws, request.transport, settings.send_queue_messages)
    heartbeats = request.app[HEARTBEATS]
    heartbeats.sessions.add(session)
    budgets = Budgets.for_tick(
        settings.tick_hz,
        control_per_s=settings.control_per_s,
        control_burst=settings.control_burst,
        hello_timeout_s=settings.hello_timeout_s,
        read_timeout_s=settings.read_timeout_s,
    )
    connection = Connection(settings.max_errors, budgets=budgets, opened_at=time.monotonic())
    identity = visitor_identities(request, user)  # "user:ID browser:ID addr:IP": what kicks and mutes hold on to
    requests = VisitorRequests(request.app[ROOMS], request.app[DB], session, connection, user, identity)

    async def perform(events: list[Event]) -> None:
        pending = deque(events)
        while pending:
            event = pending.popleft()
            if isinstance(event, Send):
                session.send(event.data)
            elif isinstance(event, Close):
                if event.code == CLOSE_FLOOD:  # read no more of the flood, and keep its address out for a while
                    if request.transport is not None:
                        request.transport.pause_reading()
                    limits = request.app.get(LIMITS)
                    if limits is not None:
                        limits.penalise(peer_address(request))
                    await session.close(event.code, event.reason, timeout=0.5)
                else:
                    await session.close(event.code, event.reason)
            else:
                pending.extend(await requests.handle(event))

    try:
        while not connection.closed:
            now = time.monotonic()
            due = connection.check(now, session.unsent_for(now))
            if due:
                await perform(due)
                if connection.closed:
                    break
            wait = connection.check_every(now)  # only before the hello: a member's silence is the heartbeat's to notice
            try:
                msg = await (ws.receive() if wait is None else ws.receive(timeout=max(wait, 0.01)))
            except TimeoutError:
                continue
            session.heard_at = time.monotonic()
            if msg.type == WSMsgType.TEXT:
                TEXT_IN.inc(len(msg.data))
                await perform(connection.receive_text(msg.data, time.monotonic()))
            elif msg.type == WSMsgType.BINARY:
                events = connection.receive_binary(msg.data, time.monotonic())
                if not requests.take_pose(events):  # a pose frame's bytes are counted by its room, per tick
                    BINARY_IN.inc(len(msg.data))
                    await perform(events)
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                pass  # an answer to the heartbeat's ping: heard
            elif msg.type == WSMsgType.ERROR and isinstance(msg.data, WebSocketError):
                connection.receive_violation()  # aiohttp has closed the connection (1009 for a frame too big)
            else:  # CLOSE from the client; CLOSING, CLOSED; ERROR of a lost network
                connection.receive_close(msg.data if msg.type == WSMsgType.CLOSE else None)
    finally:
        heartbeats.sessions.discard(session)
        await requests.end()
        await session.finish()
        if not ws.closed:
            await ws.close()
    return ws
