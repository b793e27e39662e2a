"""From stored revisions to what visitors see: the published, reviewed view of each scene.

The publisher imports the scene files at first start, and after every publish,
roll-back or review decision recomputes a scene's visitor view (published
revision, minus assets and texts that no person has approved), resolves its
assets and hands it to the hub, which sends it to the scene's rooms at once.

Everything it waits on runs off the event loop: the store in its threads, the assets
in the asset workers (a scene's new models are built one after another, waiting for
a worker rather than being refused: the publish is already stored).  Refreshes of one
scene run one at a time, so the rooms always end on the newest published revision.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thirdspace.assets.library import Asset, AssetError
from thirdspace.assets.walkable import build_walk_file, walk_key
from thirdspace.scenes import walk
from thirdspace.scenes.editing import machine_share, text_subject, visitor_view
from thirdspace.scenes.importing import IMPORT_AUTHOR, changed_since_stored, import_message, summary
from thirdspace.scenes.model import Scene, SceneError, load_directory, validate
from thirdspace.services.assets import AssetJobFailed, AsyncAssetLibrary
from thirdspace.services.rooms import LiveRooms
from thirdspace.services.store import AsyncDatabase
from thirdspace.store import Conflict, NotFound

log = logging.getLogger(__name__)


WALK_GRIDS_KEPT = 64  # walk grids kept in memory by key (the files stay in the store)


class Publisher:
    def __init__(self, db: AsyncDatabase, library: AsyncAssetLibrary, hub: LiveRooms, scene_assets: dict[str, list[Asset]]):
        self.db = db
        self.library = library
        self.hub = hub
        self.scene_assets = scene_assets
        self.announce: Callable[[str, dict[str, Any]], None] | None = None  # tell the other nodes (cluster mode)
        self._locks: dict[str, asyncio.Lock] = {}
        self._walk_grids: OrderedDict[str, walk.WalkGrid] = OrderedDict()  # by walk_key, least recently used first
        self._walk_ready = False

    async def import_directory(self, directory: Path, reimport: bool = False) -> None:
        """Add scene files whose ids the store does not know yet, published as revision 1.

        A file changed since its scene was stored (scenes/importing.py) is named in one warning with the
        command that imports it; with ``reimport`` it becomes the scene's next draft revision instead."""
        scenes, issues = await asyncio.to_thread(load_directory, directory)
        for issue in issues:
            log.error("invalid scene %s", issue)
        changed: list[str] = []
        for scene_id, scene in scenes.items():
            if await self.db.scene_exists(scene_id):
                if await self._changed_file(scene, reimport):
                    changed.append(str(scene.source))
                continue
            if not await self._assets_resolve(scene):
                continue
            try:
                await self.db.create_scene(scene.document, IMPORT_AUTHOR, f"imported from {directory.name}/{scene_id}.json", publish=True)
            except FileExistsError:  # another node sharing the store imported it at the same moment
                continue
            log.info("imported scene %s", scene_id)
        if changed:
            log.warning(
                "scene file(s) changed since the store took them, the store's drafts are used: %s; "
                "bring them in as new draft revisions with: thirdspace scene import %s (or start with --reimport-scenes)",
                ", ".join(changed),
                " ".join(changed),
            )

    async def _assets_resolve(self, scene: Scene) -> bool:
        try:
            for asset_id in scene.asset_ids:
                await self.library.resolve(asset_id)
        except (AssetError, AssetJobFailed) as err:
            log.error("invalid scene %s: %s", scene.id, err)
            return False
        return True

    async def _changed_file(self, scene: Scene, reimport: bool) -> bool:
        """True if the scene's file changed since its draft head and was not brought in (``reimport``)."""
        assert scene.source is not None
        try:
            record = await self.db.scene(scene.id)
        except NotFound:  # taken down: its file stays out
            return False
        head = await self.db.revision(scene.id, record.draft_revision)
        if not await asyncio.to_thread(changed_since_stored, scene.source, scene.document, head):
            return False
        if not reimport:
            return True
        if not await self._assets_resolve(scene):
            return False
        try:
            message = import_message(scene.source)
            updated = await self.db.write_draft(scene.id, record.draft_revision, scene.document, IMPORT_AUTHOR, message)
        except Conflict:  # another node re-imported it, or a curator saved, at the same moment
            return False
        log.info(
            "re-imported scene %s from %s as draft revision %d (%s); publish it in the curator page",
            scene.id,
            scene.source,
            updated.draft_revision,
            summary(head["document"], scene.document),
        )
        return False

    async def visitor_document(self, scene_id: str, document: dict[str, Any]) -> dict[str, Any]:
        """Files in the asset directory are trusted; assets added through the API need an approval if generated."""
        text_reviews = await self.db.review_statuses("text")
        asset_reviews = await self.db.review_statuses("asset")
        return await asyncio.to_thread(  # a copy of the whole document and a hash per text: off the loop
            visitor_view,
            document,
            lambda asset_id: asset_reviews.get(asset_id) in (None, "approved"),
            lambda path, language, text: text_reviews.get(text_subject(scene_id, path, language, text)),
        )

    async def refresh(self, scene_id: str, announce: bool = True) -> bool:
        """Recompute one scene's visitor view and send it live; False if it cannot be shown."""
        lock = self._locks.setdefault(scene_id, asyncio.Lock())
        async with lock:
            try:
                record = await self.db.scene(scene_id)
            except NotFound:
                return False
            if record.published_revision is None:
                return False
            document = (await self.db.revision(scene_id, record.published_revision))["document"]
            try:
                view = await self.visitor_document(scene_id, document)
                scene: Scene = await asyncio.to_thread(validate, view, f"{scene_id} revision {record.published_revision}")
                scene = dataclasses.replace(scene, blocklist=tuple(document.get("chat", {}).get("blocklist", [])))
                assets = [await self.library.resolve(asset_id) for asset_id in scene.asset_ids]
                made = await asyncio.to_thread(machine_share, view, {a.id: a.generated for a in assets})
            except (SceneError, AssetError, AssetJobFailed) as err:
                log.error("cannot show scene %s: %s", scene_id, err)
                return False
            scene = dataclasses.replace(scene, walk=await self.walk_grid(scene, assets), made=made)
            self.scene_assets[scene_id] = assets
            self.hub.update_scene(scene, record.published_revision)
        if announce and self.announce is not None:
            self.announce("scene", {"scene": scene_id})
        return True

    async def walk_grid(self, scene: Scene, assets: list[Asset]) -> walk.WalkGrid | None:
        """The scene's walkable space: kept beside the assets under a key over everything it depends on, built in
        an asset worker the first time.  None (no walk check) if it cannot be built."""
        store = self.library.store
        key = await asyncio.to_thread(walk_key, scene.document, {a.id: a.sha256 for a in assets})
        grid = self._walk_grids.get(key)
        if grid is not None:
            self._walk_grids.move_to_end(key)
            return grid
        path = store.root / f"walk-{key}.bin"
        try:
            grid = await asyncio.to_thread(_load_grid, path)
            if grid is None:
                glbs = {a.id: str(store.root / f"{a.sha256}.glb") for a in assets}
                built = await self.library.workers.run(build_walk_file, scene.document, glbs, str(path), wait=True)
                log.info("scene %s: walk grid of %d cells, %d walkable", scene.id, built["cells"], built["walkable"])
                for index in built["stranded_spawns"]:
                    log.warning("scene %s: spawn point %d is not on walkable ground", scene.id, index)
                grid = await asyncio.to_thread(_load_grid, path)
                if grid is None:
                    raise OSError(f"{path} was not written")
            if not self._walk_ready:  # the per-pose kernels, compiled (or loaded from cache) before the first pose
                await asyncio.to_thread(walk.warm_up)
                self._walk_ready = True
        except (AssetJobFailed, OSError, ValueError) as err:
            log.error("scene %s: no walk check: its walk grid could not be built: %s", scene.id, err)
            return None
        if grid.walkable_cells == 0:
            log.error("scene %s: no walk check: no spawn point stands on walkable ground", scene.id)
            return None
        self._walk_grids[key] = grid  # the most recent few: a scene published again reuses its own
        while len(self._walk_grids) > WALK_GRIDS_KEPT:
            self._walk_grids.popitem(last=False)
        return grid

    async def refresh_all(self) -> None:
        for record in await self.db.scenes():
            await self.refresh(record.id, announce=False)
        log.info("serving %d scene(s): %s", len(self.hub.scenes), ", ".join(sorted(self.hub.scenes)) or "none")

    async def unpublish(self, scene_id: str, message: str, announce: bool = True) -> None:
        async with self._locks.setdefault(scene_id, asyncio.Lock()):
            self.scene_assets.pop(scene_id, None)
            await self.hub.remove_scene(scene_id, message)
        if announce and self.announce is not None:
            self.announce("unpublish", {"scene": scene_id, "message": message})


def _load_grid(path: Path) -> walk.WalkGrid | None:
    """The walk grid stored at ``path`` (None if there is none yet), with its served bytes, ETag and walkable
    count already computed: parsing, hashing and counting a large grid is work for a thread, not the loop."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    grid = walk.WalkGrid.from_bytes(data)
    grid.served, grid.walkable_cells  # noqa: B018 (computed once, here, and kept)
    return grid
