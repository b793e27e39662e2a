"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from aiohttp import web

from thirdspace.assets.checks import ImportLimits
from thirdspace.assets.library import AssetLibrary
from thirdspace.assets.store import AssetStore, StoreSettings
from thirdspace.cluster.node import Cluster, ClusterUnavailable
from thirdspace.config import Settings
from thirdspace.logs import NODE_ID, request_id_middleware
from thirdspace.protocol.constants import CLOSE_GOING_AWAY
from thirdspace.rooms.room import RoomRules
from thirdspace.services.assets import AssetWorkers, AsyncAssetLibrary
from thirdspace.services.replication import ClusterReplication
from thirdspace.services.rooms import LiveRooms
from thirdspace.services.store import AsyncDatabase
from thirdspace.services.translation import ChatTranslations, make_translator
from thirdspace.sync.engine import SyncSettings, warm_up
from thirdspace.web.auth import auth_middleware
from thirdspace.web.http import add_routes
from thirdspace.web.keys import ASSETS, CLUSTER, DB, PUBLISHER, ROOMS, SCENE_ASSETS, SETTINGS, STATE
from thirdspace.web.publishing import Publisher

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> web.Application:
    """The application; its services start in ``on_startup``: the store and the asset workers, the kernels, then the scenes."""
    app = web.Application(
        client_max_size=int(settings.import_max_file_mb * 1024 * 1024) + 1024, middlewares=[request_id_middleware, auth_middleware]
    )
    app[SETTINGS] = settings
    store = AssetStore(settings.data_dir / "assets", StoreSettings(max_error_m=settings.quantise_max_error_mm / 1000))
    db = AsyncDatabase.from_settings(settings)  # PostgreSQL with database_url, else SQLite in data_dir; opened at startup
    workers = AssetWorkers(settings.asset_workers, settings.asset_queue, settings.asset_worker_memory_mb, settings.asset_job_cpu_s)

    async def registry(asset_id: str) -> str | None:
        row = await db.asset(asset_id)
        return row["sha256"] if row else None

    limits = ImportLimits(max_file_bytes=int(settings.import_max_file_mb * 1024 * 1024))
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
    )
    scene_assets: dict = {}
    hub = LiveRooms({}, rules, settings.resume_window_s)
    translator = make_translator(settings.translator, settings.translator_url, settings.translator_api_key, settings.translator_timeout_s)
    hub.translations = ChatTranslations(translator, settings.translator_timeout_s, settings.translator_concurrency)
    publisher = Publisher(db, library, hub, scene_assets)
    app[DB] = db
    app[ASSETS] = library
    app[SCENE_ASSETS] = scene_assets
    app[ROOMS] = hub
    app[PUBLISHER] = publisher
    app[STATE] = {"ready": False}

    async def open_services(app: web.Application) -> None:
        await db.start()  # connect and migrate, in the store's threads
        await workers.start()  # spawn the asset workers (they import numpy, trimesh and scipy) and check their limits

    async def compile_kernels(app: web.Application) -> None:
        # The first visitor must not wait for a JIT compile: load or build the kernels now.
        await asyncio.get_running_loop().run_in_executor(None, warm_up)

    async def load_scenes(app: web.Application) -> None:
        await publisher.import_directory(settings.scenes_dir)  # scene files the store does not know yet
        await publisher.refresh_all()

    async def close_rooms(app: web.Application) -> None:
        app[STATE]["ready"] = False
        await app[ROOMS].drain(settings.drain_timeout_s)  # cluster mode: rooms and visitors go to other nodes
        await app[ROOMS].close(CLOSE_GOING_AWAY, "server shutting down")

    async def close_services(app: web.Application) -> None:
        await workers.close()
        await db.close()
        if hasattr(translator, "close"):
            await translator.close()

    app.on_startup.extend([open_services, compile_kernels, load_scenes])
    if settings.redis_url:
        join_cluster(app, settings, hub, publisher)  # appends its own start: after the scenes are loaded

    async def mark_ready(app: web.Application) -> None:
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
        try:
            await cluster.start()
        except ClusterUnavailable as err:
            raise SystemExit(f"thirdspace: cluster mode needs Redis: {err}") from None

    async def stop(app: web.Application) -> None:
        await cluster.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
