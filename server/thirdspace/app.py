"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from thirdspace.assets.checks import ImportLimits
from thirdspace.assets.library import AssetError, AssetLibrary
from thirdspace.assets.store import AssetStore, StoreSettings
from thirdspace.config import Settings
from thirdspace.protocol.constants import CLOSE_GOING_AWAY
from thirdspace.rooms.room import RoomRules
from thirdspace.scenes.model import Scene, load_directory
from thirdspace.sync.engine import SyncSettings, warm_up
from thirdspace.web.http import add_routes
from thirdspace.web.hub import Hub
from thirdspace.web.keys import ASSETS, HUB, SCENE_ASSETS, SETTINGS

log = logging.getLogger(__name__)


def load_scenes(settings: Settings, library: AssetLibrary) -> tuple[dict[str, Scene], dict[str, list]]:
    """Load valid scenes and build their assets; report, and skip, the invalid ones."""
    scenes, issues = load_directory(settings.scenes_dir)
    for issue in issues:
        log.error("invalid scene %s", issue)
    usable: dict[str, Scene] = {}
    scene_assets: dict[str, list] = {}
    for scene_id, scene in scenes.items():
        try:
            scene_assets[scene_id] = [library.resolve(asset_id) for asset_id in scene.asset_ids]
        except AssetError as err:
            log.error("invalid scene %s: %s", scene_id, err)
            continue
        usable[scene_id] = scene
    log.info("serving %d scene(s): %s", len(usable), ", ".join(usable) or "none")
    return usable, scene_assets


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    store = AssetStore(settings.data_dir / "assets", StoreSettings(max_error_m=settings.quantise_max_error_mm / 1000))
    library = AssetLibrary(settings.assets_dir, store, ImportLimits(max_file_bytes=int(settings.import_max_file_mb * 1024 * 1024)))
    scenes, scene_assets = load_scenes(settings, library)
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
    app[ASSETS] = library
    app[SCENE_ASSETS] = scene_assets
    app[HUB] = Hub(scenes, rules)

    async def close_rooms(app: web.Application) -> None:
        await app[HUB].close(CLOSE_GOING_AWAY, "server shutting down")

    async def compile_kernels(app: web.Application) -> None:
        # The first visitor must not wait for a JIT compile: load or build the kernels now.
        await asyncio.get_running_loop().run_in_executor(None, warm_up)

    app.on_startup.append(compile_kernels)
    app.on_shutdown.append(close_rooms)
    add_routes(app)
    return app
