"""The WebSocket endpoint ``/ws``: decode, validate, hand to the room."""

from __future__ import annotations

import logging
import time

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from thirdspace.cluster.node import ClusterUnavailable
from thirdspace.logs import ROOM_ID
from thirdspace.metrics import BYTES_IN, CHAT_MESSAGES, CHAT_SECONDS, POSES
from thirdspace.protocol.codec import (
    Chat,
    Hello,
    Ping,
    ProtocolError,
    Quick,
    Report,
    TourAction,
    Watch,
    decode_control,
    decode_pose,
    encode_control,
)
from thirdspace.protocol.constants import CLOSE_POLICY, MAX_FRAME_BYTES
from thirdspace.store import ROLES, NotFound
from thirdspace.web.auth import identify, origin_allowed
from thirdspace.web.http import json_error
from thirdspace.web.hub import Redirect
from thirdspace.web.keys import DB, HUB, SETTINGS
from thirdspace.web.session import Session

log = logging.getLogger(__name__)

TEXT_IN = BYTES_IN.labels("text")
BINARY_IN = BYTES_IN.labels("binary")
POSES_ACCEPTED = POSES.labels("accepted")
POSES_DROPPED = POSES.labels("dropped")


def watch_error(code: str, message: str, field: str) -> ProtocolError:
    err = ProtocolError(code, message, field)
    err.message_type = "watch"  # answered with an error, like a faulty hello; the connection stays open
    return err


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    hub = request.app[HUB]
    if not origin_allowed(request):
        return json_error(403, f"WebSocket connections from {request.headers['Origin']!r} are not allowed", field="Origin")
    try:
        user, _ = identify(request)
    except web.HTTPException as err:
        return web.Response(status=err.status, body=err.text, content_type="application/json")
    identity = f"user:{user.id}" if user else f"addr:{request.remote}"
    watching: str | None = None  # a curator's connection that watches a draft instead of joining
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=20.0, compress=False, decode_text=False)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the client went away during the handshake
        return ws
    session = Session(ws, request.transport, settings.send_queue_messages)
    member = None  # (runner, visitor) once the hello is accepted
    errors = 0

    async def close(code: int, reason: str) -> None:
        await session.close(code, reason)

    left_on_purpose = False  # the client closed with 1000 or 1001: no resume window

    try:
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.CLOSE:
                left_on_purpose = msg.data in (WSCloseCode.OK, WSCloseCode.GOING_AWAY)
                break
            if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                break
            try:
                if msg.type == WSMsgType.TEXT:
                    TEXT_IN.inc(len(msg.data))
                    message = decode_control(msg.data)
                    if isinstance(message, Ping):
                        session.send(encode_control({"type": "pong", "nonce": message.nonce}))
                    elif isinstance(message, Watch):
                        if member is not None:
                            raise ProtocolError("bad_request", "a visitor's connection cannot also watch a draft", "type")
                        if user is None or ROLES.index(user.role) < ROLES.index("curator"):
                            raise watch_error("forbidden", "watching a draft needs the curator role", "type")
                        try:
                            record = request.app[DB].scene(message.scene)
                        except NotFound:
                            raise watch_error("unknown_scene", f"no scene {message.scene!r}", "scene") from None
                        if watching is not None:
                            hub.unwatch(session)
                        watching = message.scene
                        hub.watch(watching, session)
                        session.send(encode_control({"type": "watching", "scene": record.id, "revision": record.draft_revision}))
                    elif member is None:
                        if watching is not None:
                            raise ProtocolError("bad_request", "a watching connection cannot join a room", "type")
                        if not isinstance(message, Hello):
                            await close(CLOSE_POLICY, "send hello first")
                            break
                        scene = hub.scenes.get(message.scene)
                        if scene is None:
                            err = ProtocolError("unknown_scene", f"no scene {message.scene!r}", "scene")
                            err.message_type = "hello"  # answered with an error; a corrected hello may follow
                            raise err
                        can_guide = user is not None and ROLES.index(user.role) >= ROLES.index("guide")
                        try:
                            admitted = await hub.admit(scene, message, session, identity, can_guide)
                        except ClusterUnavailable as exc:
                            log.warning("cannot place a visitor: %s", exc)
                            err = ProtocolError("unavailable", "the server cannot place visitors right now; try again shortly", "scene")
                            err.message_type = "hello"
                            raise err from None
                        if isinstance(admitted, Redirect):  # the room is on another node: the client reconnects there
                            session.send(encode_control({"type": "welcome", "redirect": admitted.url, "room": admitted.room}))
                            await close(WSCloseCode.OK, "redirected")
                            break
                        member = admitted
                        ROOM_ID.set(member[0].room.id)
                    elif isinstance(message, Chat | Quick):
                        runner, visitor = member
                        received = time.perf_counter()
                        async with runner.chat_lock:  # lines are kept and delivered in the order they are numbered
                            if isinstance(message, Chat):
                                outbound = runner.room.chat(visitor.id, message.text, time.monotonic())
                            else:
                                quick = {"phrase": message.phrase} | ({"thing": message.thing} if message.thing else {})
                                outbound = runner.room.chat(visitor.id, "", time.monotonic(), quick=quick)
                            line = outbound[0].message if outbound else {}
                            if line.get("type") == "chat":
                                await hub.record_chat(runner, line)  # cluster mode: in Redis before anyone sees it
                            runner.deliver(outbound)
                        if line.get("type") == "chat":
                            CHAT_MESSAGES.inc()
                            CHAT_SECONDS.observe(time.perf_counter() - received)
                            if "quick" not in line:  # phrases come from curated tables; free text may need translating
                                hub.translate(runner, line)
                    elif isinstance(message, TourAction):
                        runner, visitor = member
                        outbound = runner.room.tour(visitor.id, message.action, message.tour, message.stop, message.to)
                        runner.deliver(outbound)
                        await hub.save_tours(runner)
                        if message.action in ("start", "lead") and not any(o.message["type"] == "error" for o in outbound):
                            hub.offer_tour(runner, message.tour)
                    elif isinstance(message, Report):
                        runner, visitor = member
                        line = next((m for m in runner.room.chat_log if m["id"] == message.message), None)
                        if line is None:
                            raise ProtocolError("bad_request", f"no recent line {message.message} in this room", "message")
                        who = f"{visitor.name} ({identity})"
                        request.app[DB].add_report(runner.room.id, runner.room.scene.id, line, message.reason, who)
                        session.send(encode_control({"type": "reported", "message": message.message}))
                    else:
                        raise ProtocolError("bad_request", "hello was already accepted", "type")
                elif msg.type == WSMsgType.BINARY:
                    BINARY_IN.inc(len(msg.data))
                    if member is None:
                        await close(CLOSE_POLICY, "send hello first")
                        break
                    flags, ack, parts = decode_pose(msg.data)
                    runner, visitor = member
                    accepted = runner.room.accept_pose(visitor.id, flags, parts, time.monotonic(), ack)
                    (POSES_ACCEPTED if accepted else POSES_DROPPED).inc()
                else:  # ERROR: aiohttp has already closed the connection (1009 for a frame too big)
                    left_on_purpose = isinstance(msg.data, WebSocketError)  # a protocol violation, not a lost network
                    break
            except ProtocolError as err:
                if err.close_code is not None:
                    await close(err.close_code, err.message)
                    break
                if member is None and watching is None and err.message_type not in ("hello", "watch"):
                    await close(CLOSE_POLICY, "send hello first")  # only a hello may come first, even a faulty one
                    break
                errors += 1
                if errors > settings.max_errors:
                    await close(CLOSE_POLICY, "too many invalid messages")
                    break
                session.send(encode_control(err.to_message()))
            except ClusterUnavailable as exc:  # Redis is away: this line or tour step could not be kept
                log.warning("room %s: %s", member[0].room.id if member else "-", exc)
                session.send(
                    encode_control({"type": "error", "code": "unavailable", "message": "the server could not keep that; try again"})
                )
    finally:
        if member is not None:
            keep = not left_on_purpose and not session.closed_by_server
            await hub.release(*member, session, keep)
        hub.unwatch(session)
        await session.finish()
        if not ws.closed:
            await ws.close()
    return ws
