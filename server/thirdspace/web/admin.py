"""Room administration and users under /api/admin: list rooms, mute, kick, lock, close; add users."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from thirdspace.cluster.node import http_base
from thirdspace.services.rooms import LiveRooms, RoomRunner
from thirdspace.store import ROLES, Duplicate
from thirdspace.web.auth import http_error, require
from thirdspace.web.http import json_response, read_json
from thirdspace.web.keys import DB, ROOMS


async def list_rooms(request: web.Request) -> web.Response:
    """The rooms of this node, or in cluster mode of every live node (asked in turn, each for its own)."""
    require(request, "curator")
    hub = request.app[ROOMS]
    if hub.cluster is not None and request.query.get("scope") != "node":
        rooms = []
        for node in sorted((await hub.cluster.nodes()).values(), key=lambda n: n.id):
            if node.id == hub.cluster.node_id:
                rooms += [{**room, "node": node.id} for room in _local_rooms(hub)]
                continue
            reply = await _forward(request, node.url, "/api/admin/rooms?scope=node")
            if reply.status == 200:
                rooms += [{**room, "node": node.id} for room in orjson.loads(reply.body)["rooms"]]
        return json_response({"rooms": rooms})
    return json_response({"rooms": _local_rooms(hub)})


def _local_rooms(hub: LiveRooms) -> list[dict[str, Any]]:
    rooms = []
    for room in hub.directory.rooms():
        runner = hub.runners.get(room.id)
        rooms.append(
            {
                "id": room.id,
                "scene": room.scene.id,
                "capacity": room.capacity,
                "locked": room.locked,
                "visitors": [
                    {
                        **visitor.presence(),
                        "muted": visitor.id in room.muted,
                        "voice_muted": visitor.id in room.voice.room_muted,
                        "signed_in": bool(runner and runner.identities.get(visitor.id, "").startswith("user:")),
                    }
                    for visitor in room.visitors.values()
                ],
            }
        )
    return rooms


async def _forward(request: web.Request, node_url: str, path: str | None = None) -> web.Response:
    """Ask another node of the cluster the same thing, as the same person."""
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "cookie", "content-type") or k.startswith("X-")}
    url = http_base(node_url) + (path or request.path_qs)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.request(request.method, url, data=await request.read(), headers=headers) as reply:
                body = await reply.read()
                return web.Response(status=reply.status, body=body, content_type=reply.content_type)
    except (aiohttp.ClientError, TimeoutError) as err:
        raise http_error(502, f"the node holding this room did not answer: {err}", "room_id") from None


def room_action(handler: Callable[[web.Request, RoomRunner], Awaitable[web.Response]]):
    """Run a moderation action on the room here, or (cluster mode) on the node that holds it."""

    async def action(request: web.Request) -> web.Response:
        require(request, "curator")
        hub = request.app[ROOMS]
        room_id = request.match_info["room_id"]
        runner = hub.runner(room_id)
        if runner is not None:
            return await handler(request, runner)
        if hub.cluster is not None:
            owner = await hub.cluster.owner(room_id)
            if owner is not None and owner.alive and owner.node != hub.cluster.node_id:
                return await _forward(request, owner.url)
        raise http_error(404, f"no open room {room_id!r}", "room_id")

    return action


def _visitor(runner: RoomRunner, body: dict[str, Any]) -> int:
    visitor = body.get("visitor")
    if not isinstance(visitor, int) or isinstance(visitor, bool) or visitor not in runner.room.visitors:
        raise http_error(404, f"no visitor {visitor!r} in room {runner.room.id}", "visitor")
    return visitor


@room_action
async def mute(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"visitor", "muted", "only"})
    visitor = _visitor(runner, body)
    muted = body.get("muted", True)
    if not isinstance(muted, bool):
        raise http_error(400, "muted must be true or false", "muted")
    only = body.get("only")
    if only not in (None, "chat", "voice"):
        raise http_error(400, "only must be chat or voice (or left out: both)", "only")
    request.app[ROOMS].mute(runner, visitor, muted, chat=only != "voice", voice=only != "chat")
    return json_response({"room": runner.room.id, "visitor": visitor, "muted": muted, "only": only or "both"})


@room_action
async def kick(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"visitor", "minutes"})
    visitor = _visitor(runner, body)
    minutes = body.get("minutes", 10)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool) or not 0 <= minutes <= 7 * 24 * 60:
        raise http_error(400, "minutes must be a number from 0 to 10080", "minutes")
    await request.app[ROOMS].kick(runner, visitor, float(minutes))
    return json_response({"room": runner.room.id, "visitor": visitor, "banned_minutes": minutes})


@room_action
async def lock(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"locked"})
    locked = body.get("locked", True)
    if not isinstance(locked, bool):
        raise http_error(400, "locked must be true or false", "locked")
    runner.room.locked = locked
    await request.app[ROOMS].publish_room(runner.room)  # cluster mode: placement skips it on every node
    return json_response({"room": runner.room.id, "locked": locked})


@room_action
async def close(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"message"})
    message = body.get("message", "")
    if not isinstance(message, str) or not message.strip() or len(message) > 500:
        raise http_error(400, "message must be a non-empty string of at most 500 characters", "message")
    await request.app[ROOMS].close_room(runner.room.id, message.strip())
    return json_response({"room": runner.room.id, "closed": True})


async def add_user(request: web.Request) -> web.Response:
    require(request, "admin")
    body = await read_json(request, {"name", "role"})
    name, role = body.get("name"), body.get("role")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        raise http_error(400, "name must be 1 to 64 characters", "name")
    if role not in ROLES:
        raise http_error(400, f"role must be one of {', '.join(ROLES)}", "role")
    db = request.app[DB]
    if any(user.name == name.strip() for user in await db.users()):
        raise http_error(409, f"there is already a user {name.strip()!r}", "name")
    try:
        user, token = await db.add_user(name.strip(), role)
    except Duplicate:  # added by another request since the check above
        raise http_error(409, f"there is already a user {name.strip()!r}", "name") from None
    return json_response({"user": user.public(), "token": token}, 201)


async def list_users(request: web.Request) -> web.Response:
    require(request, "admin")
    return json_response({"users": [user.public() for user in await request.app[DB].users()]})


async def list_reports(request: web.Request) -> web.Response:
    require(request, "curator")
    return json_response({"reports": await request.app[DB].reports()})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/admin/reports", list_reports)
    r.add_get("/api/admin/rooms", list_rooms)
    r.add_post("/api/admin/rooms/{room_id}/mute", mute)
    r.add_post("/api/admin/rooms/{room_id}/kick", kick)
    r.add_post("/api/admin/rooms/{room_id}/lock", lock)
    r.add_post("/api/admin/rooms/{room_id}/close", close)
    r.add_get("/api/admin/users", list_users)
    r.add_post("/api/admin/users", add_user)
