"""Room administration and users under /api/admin: list rooms, mute, kick, lock, close; add, revoke and remove users."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from thirdspace.cluster.node import http_base
from thirdspace.services.rooms import LiveRooms, RoomRunner
from thirdspace.store import ROLES, Duplicate, NotFound
from thirdspace.web.auth import http_error, identify, require
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


MAX_MINUTES = 7 * 24 * 60  # the longest kick or mute: a week


def _minutes(body: dict[str, Any], default: float) -> float:
    minutes = body.get("minutes", default)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_MINUTES:
        raise http_error(400, f"minutes must be a number from 0 to {MAX_MINUTES}", "minutes")
    return float(minutes)


def _moderator(request: web.Request) -> str:
    user = identify(request)[0]
    return f"user:{user.id}" if user is not None else ""


@room_action
async def mute(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"visitor", "muted", "only", "minutes"})
    visitor = _visitor(runner, body)
    muted = body.get("muted", True)
    if not isinstance(muted, bool):
        raise http_error(400, "muted must be true or false", "muted")
    only = body.get("only")
    if only not in (None, "chat", "voice"):
        raise http_error(400, "only must be chat or voice (or left out: both)", "only")
    hub = request.app[ROOMS]
    minutes = _minutes(body, hub.mute_minutes)
    await hub.moderate_mute(runner, visitor, muted, only != "voice", only != "chat", minutes, _moderator(request))
    reply = {"room": runner.room.id, "visitor": visitor, "muted": muted, "only": only or "both"}
    return json_response(reply | ({"minutes": minutes} if muted else {}))


@room_action
async def kick(request: web.Request, runner: RoomRunner) -> web.Response:
    body = await read_json(request, {"visitor", "minutes"})
    visitor = _visitor(runner, body)
    minutes = _minutes(body, 10)
    await request.app[ROOMS].kick(runner, visitor, minutes, _moderator(request))
    return json_response({"room": runner.room.id, "visitor": visitor, "banned_minutes": body.get("minutes", 10)})


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


def _user_id(request: web.Request) -> int:
    text = request.match_info["user_id"]
    if not text.isdigit():
        raise http_error(404, f"no user {text!r}", "user_id")
    return int(text)


async def revoke_user(request: web.Request) -> web.Response:
    """POST /api/admin/users/{id}/revoke: their token stops working, their sessions end, and their open
    connections close (on this node now, on the others within ``session_recheck_s``)."""
    require(request, "admin")
    body = await read_json(request, {"new_token"})
    new_token = body.get("new_token", False)
    if not isinstance(new_token, bool):
        raise http_error(400, "new_token must be true or false", "new_token")
    user_id = _user_id(request)
    db = request.app[DB]
    user = await db.user(user_id)
    if user is None:
        raise http_error(404, f"no user {user_id}", "user_id")
    try:
        token = await db.revoke_user(user_id, new_token)
    except NotFound:
        raise http_error(404, f"no user {user_id}", "user_id") from None
    await request.app[ROOMS].end_revoked(user_id)
    return json_response({"user": user.public(), "revoked": True} | ({"token": token} if token else {}))


async def remove_user(request: web.Request) -> web.Response:
    """DELETE /api/admin/users/{id}: the user is deleted, their sessions end and their connections close."""
    require(request, "admin")
    user_id = _user_id(request)
    try:
        await request.app[DB].remove_user(user_id)
    except NotFound:
        raise http_error(404, f"no user {user_id}", "user_id") from None
    await request.app[ROOMS].end_revoked(user_id)
    return web.Response(status=204)


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
    r.add_post("/api/admin/users/{user_id}/revoke", revoke_user)
    r.add_delete("/api/admin/users/{user_id}", remove_user)
