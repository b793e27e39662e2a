"""HTTP routes: health, the client, the scene API and assets."""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import prometheus_client
from aiohttp import web

from thirdspace.assets.manifest import build_manifest
from thirdspace.assets.recipes import RECIPES
from thirdspace.cluster.node import ClusterUnavailable
from thirdspace.web.keys import ASSETS, CLUSTER, ROOMS, SCENE_ASSETS, SETTINGS, STATE

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


READ_CHUNK = 256 * 1024  # bytes taken from the socket at a time
SPOOL_WRITE = 1024 * 1024  # bytes gathered before a spooled body is written out (in a thread)
ROLE_PREFIXES = (("/api/curate/", "curator"), ("/api/admin/", "curator"))  # a body sent here is read only after this check


def too_large(limit: int, what: str = "body") -> web.HTTPException:
    """413 naming the limit: ``{"error", "field", "limit_bytes"}``."""
    from thirdspace.web.auth import http_error

    return http_error(413, f"the {what} is larger than the limit of {limit} bytes", "body", limit_bytes=limit)


def largest_body(settings: Any) -> int:
    """The largest body any route takes: an upload (``import_max_file_mb``) or a JSON document (``json_body_max_kb``)."""
    return max(int(settings.import_max_file_mb * 1024 * 1024), settings.json_body_max_kb * 1024)


def body_limit(request: web.Request, limit: int) -> int:
    """``limit``, or for someone not signed in the (smaller) ``anonymous_body_kb``."""
    from thirdspace.web.auth import USER

    if request.get(USER) is None:
        return min(limit, request.app[SETTINGS].anonymous_body_kb * 1024)
    return limit


async def body_chunks(request: web.Request, limit: int, what: str = "body") -> AsyncIterator[bytes]:
    """The body as it arrives, 413 as soon as it is past ``limit`` (before anything is read, when Content-Length says so).

    Chunked bodies and ones whose Content-Length is wrong are counted as they come."""
    limit = body_limit(request, limit)
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit, what)
    seen = 0
    while True:
        chunk = await request.content.read(READ_CHUNK)
        if not chunk:
            return
        seen += len(chunk)
        if seen > limit:
            raise too_large(limit, what)
        yield chunk


async def read_body(request: web.Request, limit: int, what: str = "body") -> bytes:
    """The whole body, at most ``limit`` bytes (413 with JSON naming the limit past it)."""
    parts = [chunk async for chunk in body_chunks(request, limit, what)]
    return b"".join(parts)


@contextlib.asynccontextmanager
async def spooled_body(request: web.Request, limit: int, directory: Path, what: str = "file") -> AsyncIterator[Path]:
    """The body written to a temporary file in ``directory`` as it arrives (in a thread), removed afterwards.

    Nothing but :data:`SPOOL_WRITE` bytes of it is held in memory at a time; 413 past ``limit``."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    handle = await asyncio.to_thread(tempfile.NamedTemporaryFile, "wb", dir=directory, prefix="upload-", suffix=".part", delete=False)
    path = Path(handle.name)
    try:
        try:
            pending: list[bytes] = []
            size = 0
            async for chunk in body_chunks(request, limit, what):
                pending.append(chunk)
                size += len(chunk)
                if size >= SPOOL_WRITE:
                    await asyncio.to_thread(handle.writelines, pending)
                    pending, size = [], 0
            if pending:
                await asyncio.to_thread(handle.writelines, pending)
        finally:
            await asyncio.to_thread(handle.close)
        yield path
    finally:
        await asyncio.to_thread(path.unlink, True)


@web.middleware
async def body_middleware(request: web.Request, handler):
    """No body is read before it may be: a route that needs a role answers 401/403 first, a stranger's big body 413 first.

    aiohttp's own 413 (``client_max_size``, for a body read some other way) becomes the JSON one."""
    from thirdspace.web.auth import require

    if request.can_read_body:
        role = next((role for prefix, role in ROLE_PREFIXES if request.path.startswith(prefix)), None)
        if role is not None:
            require(request, role)
        limit = body_limit(request, largest_body(request.app[SETTINGS]))
        if request.content_length is not None and request.content_length > limit:
            raise too_large(limit)
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as err:
        if err.content_type == "application/json":
            raise
        raise too_large(largest_body(request.app[SETTINGS])) from None


async def read_json(request: web.Request, fields: set[str] | None, allow_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object (at most ``json_body_max_kb``); 400 naming the problem (``body``, or the first unknown field)."""
    from thirdspace.web.auth import http_error

    raw = await read_body(request, request.app[SETTINGS].json_body_max_kb * 1024)
    if not raw.strip() and allow_empty:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise http_error(400, "the body must be JSON", "body") from None
    if not isinstance(body, dict):
        raise http_error(400, "the body must be a JSON object", "body")
    unknown = sorted(set(body) - fields) if fields is not None else []
    if unknown:
        raise http_error(400, f"unknown field; known: {', '.join(sorted(fields))}", unknown[0])
    return body


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    """An error response whose JSON body says what is wrong and, where it applies, which field."""
    return json_response({"error": message, **extra}, status)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers.  In cluster mode it also says whether Redis does (without failing on it)."""
    body: dict[str, Any] = {"status": "ok"}
    cluster = request.app.get(CLUSTER)
    if cluster is not None:
        body |= {"node": cluster.node_id, "redis": "ok" if await cluster.ping() else "unreachable"}
    return json_response(body)


async def readyz(request: web.Request) -> web.Response:
    """Readiness: take visitors here?  Not while starting or draining, nor in cluster mode without Redis."""
    problems = []
    if not request.app[STATE]["ready"] or request.app[ROOMS].draining:
        problems.append("starting or shutting down")
    cluster = request.app.get(CLUSTER)
    if cluster is not None and not await cluster.ping():
        problems.append(f"Redis at {cluster.redis_url} is unreachable")
    if problems:
        return json_response({"status": "unavailable", "problems": problems}, 503)
    return json_response({"status": "ready"})


async def index(request: web.Request) -> web.StreamResponse:
    return client_page(request, "index.html")


def client_page(request: web.Request, name: str) -> web.StreamResponse:
    page = request.app[SETTINGS].client_dir / name
    if not page.is_file():
        return json_error(503, "the web client is not built: run `thirdspace build-client`")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


async def list_scenes(request: web.Request) -> web.Response:
    hub = request.app[ROOMS]
    return json_response({"scenes": [scene.summary() for scene in hub.scenes.values()]})


async def get_scene(request: web.Request) -> web.Response:
    hub = request.app[ROOMS]
    scene_id = request.match_info["scene_id"]
    scene = hub.scenes.get(scene_id)
    if scene is None:
        return json_error(404, f"no scene {scene_id!r}", field="scene_id")
    assets = request.app[SCENE_ASSETS][scene_id]
    if hub.cluster is not None:  # every node's rooms of the scene, from the directory
        try:
            rooms = await hub.cluster.scene_rooms(scene_id)
        except ClusterUnavailable:
            return json_error(503, "the cluster directory (Redis) cannot be reached; try again shortly")
    else:
        rooms = [{"id": r.id, "visitors": len(r.visitors), "capacity": r.capacity} for r in hub.directory.rooms(scene_id)]
    return json_response(
        {
            "scene": scene.document,
            "assets": {
                a.id: {"url": a.url, "sha256": a.sha256, "size": a.size, "source": a.source, "generated": a.generated} for a in assets
            },
            "manifest": f"/api/scenes/{scene_id}/manifest",
            "rooms": rooms,
        }
    )


async def get_manifest(request: web.Request) -> web.Response:
    scene_id = request.match_info["scene_id"]
    scene = request.app[ROOMS].scenes.get(scene_id)
    if scene is None:
        return json_error(404, f"no scene {scene_id!r}", field="scene_id")
    return json_response(build_manifest(scene.document, request.app[SCENE_ASSETS][scene_id]))


async def get_walk(request: web.Request) -> web.Response:
    """The scene's walk grid (binary, docs/scene-format.md "Walkable space"); 404 if it has none."""
    scene_id = request.match_info["scene_id"]
    scene = request.app[ROOMS].scenes.get(scene_id)
    if scene is None:
        return json_error(404, f"no scene {scene_id!r}", field="scene_id")
    if scene.walk is None:
        return json_error(404, f"scene {scene_id!r} has no walk grid: visitors may walk anywhere in its bounds", field="scene_id")
    data, etag = scene.walk.served
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    response = web.Response(body=data, content_type="application/octet-stream", headers={"ETag": etag, "Cache-Control": "no-cache"})
    response.enable_compression()
    return response


async def get_languages(request: web.Request) -> web.Response:
    """GET /api/scenes/{id}/languages: per language, which overlays and tour stops lack text, audio or captions."""
    from thirdspace.tours.languages import report

    scene_id = request.match_info["scene_id"]
    scene = request.app[ROOMS].scenes.get(scene_id)
    if scene is None:
        return json_error(404, f"no scene {scene_id!r}", field="scene_id")
    return json_response({"scene": scene_id, **report(scene.document)})


async def get_asset_record(request: web.Request) -> web.Response:
    sha = request.match_info["sha256"]
    record = request.app[ASSETS].store.record(sha) if SHA256.match(sha) else None
    if record is None:
        return json_error(404, f"no asset {sha!r}", field="sha256")
    return json_response({key: value for key, value in record.items() if key != "pipeline"})


async def list_recipes(request: web.Request) -> web.Response:
    return json_response({"recipes": [recipe.describe() for recipe in RECIPES.values()]})


def _accepts(header: str) -> dict[str, float]:
    """Content codings and their q-values from an Accept-Encoding header."""
    out: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if name:
            out[name.strip().lower()] = q
    return out


def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) for one ``bytes=`` range; None to ignore the header; False if it cannot be satisfied."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else size - 1
        elif last:
            start, end = max(size - int(last), 0), size - 1
        else:
            return None
    except ValueError:
        return None
    if start >= size or start > end or start < 0:
        return False
    return start, min(end, size - 1)


async def get_asset(request: web.Request) -> web.StreamResponse:
    """A stored GLB: strong ETag per encoding, immutable caching, Range, and br/gzip by Accept-Encoding."""
    sha = request.match_info["sha256"]
    store = request.app[ASSETS].store
    if not SHA256.match(sha) or store.file(sha) is None:
        return json_error(404, f"no asset {sha!r}", field="sha256")
    accepted = _accepts(request.headers.get("Accept-Encoding", ""))
    encoding = next((e for e in ("br", "gzip") if accepted.get(e, accepted.get("*", 0)) > 0 and store.file(sha, e)), None)
    path = store.file(sha, encoding)
    etag = f'"{sha}-{encoding}"' if encoding else f'"{sha}"'
    headers = {
        "Content-Type": "model/gltf-binary",
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
        "Accept-Ranges": "bytes",
    }
    if encoding:
        headers["Content-Encoding"] = encoding
    if_none_match = request.headers.get("If-None-Match", "")
    if if_none_match.strip() == "*" or etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}:
        return web.Response(status=304, headers=headers)
    data = await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
    wanted = request.headers.get("Range")
    if wanted and request.headers.get("If-Range", etag) == etag:
        span = _byte_range(wanted, len(data))
        if span is False:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(data)}"})
        if span is not None:
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return web.Response(status=206, body=data[start : end + 1], headers=headers)
    return web.Response(body=data, headers=headers)


async def metrics(request: web.Request) -> web.Response:
    hub = request.app[ROOMS]
    rooms = hub.directory.rooms()
    away = sum(1 for r in rooms for v in r.visitors.values() if v.away_until is not None)
    lines = [
        "# HELP thirdspace_rooms Open rooms on this node.",
        "# TYPE thirdspace_rooms gauge",
        f"thirdspace_rooms {len(rooms)}",
        "# HELP thirdspace_visitors Visitors in rooms on this node, connected or away (inside their resume window).",
        "# TYPE thirdspace_visitors gauge",
        f'thirdspace_visitors{{state="connected"}} {sum(len(r.visitors) for r in rooms) - away}',
        f'thirdspace_visitors{{state="away"}} {away}',
        "# HELP thirdspace_cluster_redis_up Whether this node reached Redis on its last call (cluster mode).",
        "# TYPE thirdspace_cluster_redis_up gauge",
        f"thirdspace_cluster_redis_up {int(hub.cluster.reachable) if hub.cluster else 0}",
        "",
    ]
    body = prometheus_client.generate_latest() + "\n".join(lines).encode()
    return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})


async def chat_phrases(request: web.Request) -> web.Response:
    from thirdspace.chat.quick import phrases

    return json_response({"phrases": phrases()})


async def chat_languages(request: web.Request) -> web.Response:
    """Which translation backend runs and what it can translate (for Argos: the installed pairs)."""
    from thirdspace.chat.translate import TranslationError

    translator = request.app[ROOMS].translations.translator
    body: dict[str, Any] = {"backend": translator.name, "languages": []}
    try:
        body["languages"] = sorted(await translator.languages())
        if hasattr(translator, "pairs"):
            body["pairs"] = sorted(f"{a}-{b}" for a, b in translator.pairs())
    except TranslationError as err:
        body["error"] = str(err)
    return json_response(body)


async def curate_page(request: web.Request) -> web.StreamResponse:
    return client_page(request, "curate.html")


async def openapi_document(request: web.Request) -> web.Response:
    from thirdspace.web.openapi import document

    return json_response(document())


def add_routes(app: web.Application) -> None:
    from thirdspace.web import admin, auth, curate
    from thirdspace.web.ws import websocket_handler

    app.router.add_get("/", index)
    app.router.add_get("/curate", curate_page)
    app.router.add_get("/api/openapi.json", openapi_document)
    app.router.add_get("/api/chat/phrases", chat_phrases)
    app.router.add_get("/api/chat/languages", chat_languages)
    app.router.add_post("/api/session", auth.sign_in)
    app.router.add_get("/api/session", auth.whoami)
    app.router.add_delete("/api/session", auth.sign_out)
    curate.add_routes(app)
    admin.add_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/scenes", list_scenes)
    app.router.add_get("/api/scenes/{scene_id}", get_scene)
    app.router.add_get("/api/scenes/{scene_id}/manifest", get_manifest)
    app.router.add_get("/api/scenes/{scene_id}/languages", get_languages)
    app.router.add_get("/api/scenes/{scene_id}/walk", get_walk)
    app.router.add_get("/api/assets/{sha256}", get_asset_record)
    app.router.add_get("/api/recipes", list_recipes)
    app.router.add_get("/assets/{sha256}.glb", get_asset)
    app.router.add_get("/ws", websocket_handler)
    client_dir = app[SETTINGS].client_dir
    if client_dir.is_dir():
        app.router.add_static("/static", client_dir)
