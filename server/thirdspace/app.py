"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import urllib.parse

from aiohttp import web

from thirdspace.assets.checks import ImportLimits
from thirdspace.assets.library import AssetError, AssetLibrary
from thirdspace.assets.store import AssetStore, StoreSettings
from thirdspace.cluster.node import Cluster, ClusterUnavailable
from thirdspace.config import Settings
from thirdspace.logs import NODE_ID, request_id_middleware
from thirdspace.protocol.constants import CLOSE_GOING_AWAY
from thirdspace.rooms.room import RoomRules
from thirdspace.scenes.model import load_directory
from thirdspace.services.assets import AssetJobFailed, AssetWorkers, AsyncAssetLibrary
from thirdspace.services.replication import ClusterReplication
from thirdspace.services.rooms import LiveRooms
from thirdspace.services.store import AsyncDatabase
from thirdspace.services.translation import ChatTranslations, make_translator
from thirdspace.services.voice import Voice, voice_rules
from thirdspace.startup import Steps, warm_up_kernels
from thirdspace.sync.engine import SyncSettings
from thirdspace.web.auth import auth_middleware, issue_browser_cookie
from thirdspace.web.heartbeat import Heartbeats
from thirdspace.web.http import add_routes, body_middleware, largest_body
from thirdspace.web.keys import ASSETS, CLUSTER, DB, HEARTBEATS, PUBLISHER, ROOMS, SCENE_ASSETS, SETTINGS, STATE
from thirdspace.web.limits import LIMITS, Limits, limits_middleware, quiet_fd_errors, raise_fd_limit
from thirdspace.web.publishing import Publisher

log = logging.getLogger(__name__)
STARTUP = web.AppKey("startup", Steps)


def startup_steps(settings: Settings) -> int:
    """How many start-up steps ``create_app``'s application reports (for :meth:`Steps.plan`)."""
    return 4 if settings.redis_url else 3


def create_app(settings: Settings, steps: Steps | None = None) -> web.Application:
    """The application; its services start in ``on_startup``: the store and the asset workers, the kernels, then the scenes.

    Each of those is a numbered step of ``steps`` (in cluster mode, joining the cluster is one more); whoever
    passes ``steps`` plans them (:func:`startup_steps`) with its own."""
    # Limits (docs/deploy.md "Limits"): per address first, then who is asking, then no body read before it may be.
    # Bodies are read by web/http.py's readers, which count as they read; client_max_size bounds any other read.
    app = web.Application(
        client_max_size=largest_body(settings) + 1,
        middlewares=[request_id_middleware, limits_middleware, auth_middleware, body_middleware],
    )
    app[SETTINGS] = settings
    quiet_fd_errors()  # the event loop's "Too many open files": one line a minute, not thousands a second
    app[LIMITS] = Limits(settings, raise_fd_limit())  # LimitedRunner counts connections against it
    app.on_response_prepare.append(issue_browser_cookie)  # the per-browser identity cookie (web/auth.py)
    if steps is None:
        steps = Steps()
        steps.plan(startup_steps(settings))
    app[STARTUP] = steps
    store = AssetStore(settings.data_dir / "assets", StoreSettings(max_error_m=settings.quantise_max_error_mm / 1000))
    db = AsyncDatabase.from_settings(settings)  # PostgreSQL with database_url, else SQLite in data_dir; opened at startup
    workers = AssetWorkers(
        settings.asset_workers,
        settings.asset_queue,
        settings.asset_worker_memory_mb,
        settings.asset_job_cpu_s,
        timeout_s=settings.asset_job_timeout_s,
    )

    async def registry(asset_id: str) -> str | None:
        row = await db.asset(asset_id)
        return row["sha256"] if row else None

    limits = ImportLimits.from_settings(settings)
    library = AsyncAssetLibrary(AssetLibrary(settings.assets_dir, store, limits), workers, registry)
    rules = RoomRules(
        tick_hz=settings.tick_hz,
        max_speed_mps=settings.max_speed_mps,
        teleport_range_m=settings.teleport_range_m,
        chat_history=settings.chat_history,
        chat_burst=settings.chat_burst,
        chat_per_s=settings.chat_per_s,
        sync=SyncSettings(
            interest_radius_m=settings.interest_radius_m,
            max_visible=settings.max_visible,
            budget_bytes=settings.snapshot_budget_bytes,
        ),
        voice=voice_rules(settings),
    )
    scene_assets: dict = {}
    voice = Voice(settings)
    hub = LiveRooms({}, rules, settings.resume_window_s, voice=voice)
    hub.store, hub.mute_minutes, hub.session_recheck_s = db, settings.mute_minutes, settings.session_recheck_s  # bans, revocation
    translator = make_translator(settings.translator, settings.translator_url, settings.translator_api_key, settings.translator_timeout_s)
    hub.translations = ChatTranslations(translator, settings.translator_timeout_s, settings.translator_concurrency)
    publisher = Publisher(db, library, hub, scene_assets)
    app[DB] = db
    app[ASSETS] = library
    app[SCENE_ASSETS] = scene_assets
    app[ROOMS] = hub
    app[PUBLISHER] = publisher
    app[STATE] = {"ready": False}
    app[HEARTBEATS] = heartbeats = Heartbeats()

    async def open_services(app: web.Application) -> None:
        where = "PostgreSQL" if settings.database_url else f"SQLite in {settings.data_dir / 'thirdspace.sqlite3'}"
        steps.begin(f"opening the store ({where}) and starting {settings.asset_workers} asset worker(s)")
        await db.start()  # connect and migrate, in the store's threads
        await workers.start()  # spawn the asset workers (they import numpy, trimesh and scipy) and check their limits
        problem = voice.problem()
        if problem:
            raise SystemExit(f"thirdspace: {problem}")
        try:
            await voice.start()  # voice = janus: a session with Janus for this node's rooms
        except Exception as err:
            raise SystemExit(f"thirdspace: voice = janus, but Janus at {settings.janus_url} does not answer: {err}") from None

    async def compile_kernels(app: web.Application) -> None:
        # The first visitor must not wait for a JIT compile: load or build the kernels now.
        await warm_up_kernels(steps)

    async def load_scenes(app: web.Application) -> None:
        await prepare_assets(db, library, settings, steps)
        await publisher.import_directory(settings.scenes_dir, settings.reimport_scenes)  # files the store does not know yet
        await publisher.refresh_all()

    async def close_rooms(app: web.Application) -> None:
        app[STATE]["ready"] = False
        await app[ROOMS].drain(settings.drain_timeout_s)  # cluster mode: rooms and visitors go to other nodes
        await app[ROOMS].close(CLOSE_GOING_AWAY, "server shutting down")

    async def close_services(app: web.Application) -> None:
        await heartbeats.stop()
        await voice.close()
        await workers.close()
        await db.close()
        if hasattr(translator, "close"):
            await translator.close()

    app.on_startup.extend([open_services, compile_kernels, load_scenes])
    if settings.redis_url:
        join_cluster(app, settings, hub, publisher)  # appends its own start: after the scenes are loaded

    async def mark_ready(app: web.Application) -> None:
        heartbeats.start()
        app[STATE]["ready"] = True

    app.on_startup.append(mark_ready)
    app.on_shutdown.append(close_rooms)
    app.on_cleanup.append(close_services)
    add_routes(app)
    return app


def join_cluster(app: web.Application, settings: Settings, hub: LiveRooms, publisher: Publisher) -> None:
    """Cluster mode: register with Redis, hand out rooms through its directory, hear the other nodes' events."""
    public_url = settings.public_url or f"ws://{settings.host}:{settings.port}/ws"
    node_id = settings.node_name or f"{socket.gethostname()}-{settings.port}-{os.getpid()}"
    cluster = Cluster(settings.redis_url, node_id, public_url, settings.chat_history)
    NODE_ID["value"] = node_id
    tasks: set[asyncio.Task[None]] = set()

    def announce(kind: str, fields: dict) -> None:
        async def send() -> None:
            try:
                await cluster.publish(kind, **fields)
            except ClusterUnavailable as err:
                log.warning("could not tell the other nodes about %s: %s", kind, err)

        task = asyncio.get_running_loop().create_task(send())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def on_event(event: dict) -> None:
        kind = event["kind"]
        if kind == "scene":  # a curator published on another node: the store has the new revision
            await publisher.refresh(event["scene"], announce=False)
        elif kind == "unpublish":
            await publisher.unpublish(event["scene"], event["message"], announce=False)
        elif kind == "draft":
            hub.notify_draft(event["scene"], event["message"], announce=False)
        elif kind == "tour":  # a guide started a tour in a room on another node
            hub.deliver_offer(event["scene"], event["offer"])

    cluster.on_event = on_event
    hub.replication = ClusterReplication(hub, cluster, announce)
    publisher.announce = announce
    app[CLUSTER] = cluster

    async def start(app: web.Application) -> None:
        url = urllib.parse.urlsplit(settings.redis_url)
        redis_at = url._replace(netloc=url.netloc.rpartition("@")[2])
        app[STARTUP].begin(f"joining the cluster through Redis ({redis_at.geturl()}) as {node_id}")  # the URL without its password
        try:
            await cluster.start()
        except ClusterUnavailable as err:
            raise SystemExit(f"thirdspace: cluster mode needs Redis: {err}") from None

    async def stop(app: web.Application) -> None:
        await cluster.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


async def prepare_assets(db: AsyncDatabase, library: AsyncAssetLibrary, settings: Settings, steps: Steps) -> None:
    """Begin the start-up step that loads the scenes: build (the first time) the assets of scene files new to the store, counting them.

    A failure is left to the scene import, which names the scene."""
    scenes, _ = await asyncio.to_thread(load_directory, settings.scenes_dir)
    new = [scene for scene_id, scene in scenes.items() if not await db.scene_exists(scene_id)]
    asset_ids = sorted({asset_id for scene in new for asset_id in scene.asset_ids})
    steps.begin("loading the scenes")
    # Assets added through the authoring API are served after a restart whether or not a scene uses them yet.
    await asyncio.to_thread(library.library.serve_stored, [row["sha256"] for row in await db.assets()])
    what = f"building their assets (once: they are kept under {settings.data_dir / 'assets'})"
    for done, asset_id in enumerate(asset_ids):
        steps.count(done, len(asset_ids), what)
        try:
            await library.resolve(asset_id)
        except (AssetError, AssetJobFailed):
            continue
    if asset_ids:
        steps.count(len(asset_ids), len(asset_ids), what)
