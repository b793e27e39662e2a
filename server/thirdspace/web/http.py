"""HTTP routes: health, the client, the scene API and assets."""

from __future__ import annotations

import re
from typing import Any

import orjson
import prometheus_client
from aiohttp import web

from thirdspace.web.keys import ASSETS, HUB, SCENE_ASSETS, SETTINGS

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    """An error response whose JSON body says what is wrong and, where it applies, which field."""
    return json_response({"error": message, **extra}, status)


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def index(request: web.Request) -> web.StreamResponse:
    page = request.app[SETTINGS].client_dir / "index.html"
    if not page.is_file():
        return json_error(503, "the web client is not built: run `thirdspace build-client`")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


async def list_scenes(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return json_response({"scenes": [scene.summary() for scene in hub.scenes.values()]})


async def get_scene(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    scene_id = request.match_info["scene_id"]
    scene = hub.scenes.get(scene_id)
    if scene is None:
        return json_error(404, f"no scene {scene_id!r}", field="scene_id")
    assets = request.app[SCENE_ASSETS][scene_id]
    rooms = [{"id": r.id, "visitors": len(r.visitors), "capacity": r.capacity} for r in hub.directory.rooms(scene_id)]
    return json_response(
        {
            "scene": scene.document,
            "assets": {a.id: {"url": a.url, "sha256": a.sha256, "size": a.size, "source": a.source} for a in assets},
            "rooms": rooms,
        }
    )


async def get_asset(request: web.Request) -> web.StreamResponse:
    sha = request.match_info["sha256"]
    path = request.app[ASSETS].path_for(sha) if SHA256.match(sha) else None
    if path is None or not path.is_file():
        return json_error(404, f"no asset {sha!r}", field="sha256")
    etag = f'"{sha}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "model/gltf-binary",
            "ETag": etag,
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


async def metrics(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    rooms = hub.directory.rooms()
    lines = [
        "# HELP thirdspace_rooms Open rooms.",
        "# TYPE thirdspace_rooms gauge",
        f"thirdspace_rooms {len(rooms)}",
        "# HELP thirdspace_visitors Visitors in rooms.",
        "# TYPE thirdspace_visitors gauge",
        f"thirdspace_visitors {sum(len(r.visitors) for r in rooms)}",
        "",
    ]
    body = prometheus_client.generate_latest() + "\n".join(lines).encode()
    return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    from thirdspace.web.ws import websocket_handler

    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/scenes", list_scenes)
    app.router.add_get("/api/scenes/{scene_id}", get_scene)
    app.router.add_get("/assets/{sha256}.glb", get_asset)
    app.router.add_get("/ws", websocket_handler)
    client_dir = app[SETTINGS].client_dir
    if client_dir.is_dir():
        app.router.add_static("/static", client_dir)
