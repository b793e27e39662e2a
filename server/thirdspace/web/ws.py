"""The WebSocket endpoint ``/ws``: decode, validate, hand to the room."""

from __future__ import annotations

import time

from aiohttp import WSMsgType, web

from thirdspace.metrics import BYTES_IN, CHAT_MESSAGES, POSES
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
from thirdspace.web.keys import DB, HUB, SETTINGS
from thirdspace.web.session import Session

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
    await ws.prepare(request)
    session = Session(ws, request.transport, settings.send_queue_messages)
    member = None  # (runner, visitor) once the hello is accepted
    errors = 0

    async def close(code: int, reason: str) -> None:
        await session.close(code, reason)

    try:
        async for msg in ws:
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
                        member = hub.join(scene, message.name, message.language, message.colour, session, identity, can_guide)
                    elif isinstance(message, Chat | Quick):
                        runner, visitor = member
                        if isinstance(message, Chat):
                            outbound = runner.room.chat(visitor.id, message.text, time.monotonic())
                        else:
                            quick = {"phrase": message.phrase} | ({"thing": message.thing} if message.thing else {})
                            outbound = runner.room.chat(visitor.id, "", time.monotonic(), quick=quick)
                        runner.deliver(outbound)
                        line = outbound[0].message if outbound else {}
                        if line.get("type") == "chat":
                            CHAT_MESSAGES.inc()
                            if "quick" not in line:  # phrases come from curated tables; free text may need translating
                                hub.translate(runner, line)
                    elif isinstance(message, TourAction):
                        runner, visitor = member
                        runner.deliver(runner.room.tour(visitor.id, message.action, message.tour, message.stop, message.to))
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
    finally:
        if member is not None:
            hub.leave(*member)
        hub.unwatch(session)
        await session.finish()
        if not ws.closed:
            await ws.close()
    return ws
