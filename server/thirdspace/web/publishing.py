"""From stored revisions to what visitors see: the published, reviewed view of each scene.

The publisher imports the scene files at first start, and after every publish,
roll-back or review decision recomputes a scene's visitor view (published
revision, minus assets and texts that no person has approved), resolves its
assets and hands it to the hub, which sends it to the scene's rooms at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thirdspace.assets.library import Asset, AssetError, AssetLibrary
from thirdspace.scenes.editing import text_subject, visitor_view
from thirdspace.scenes.model import Scene, SceneError, load_directory, validate
from thirdspace.store import Database, NotFound
from thirdspace.services.rooms import LiveRooms

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, db: Database, library: AssetLibrary, hub: LiveRooms, scene_assets: dict[str, list[Asset]]):
        self.db = db
        self.library = library
        self.hub = hub
        self.scene_assets = scene_assets
        self.announce: Callable[[str, dict[str, Any]], None] | None = None  # tell the other nodes (cluster mode)

    def import_directory(self, directory: Path) -> None:
        """Add scene files whose ids the store does not know yet, published as revision 1."""
        scenes, issues = load_directory(directory)
        for issue in issues:
            log.error("invalid scene %s", issue)
        for scene_id, scene in scenes.items():
            if self.db.scene_exists(scene_id):
                continue
            try:
                for asset_id in scene.asset_ids:
                    self.library.resolve(asset_id)
            except AssetError as err:
                log.error("invalid scene %s: %s", scene_id, err)
                continue
            try:
                self.db.create_scene(scene.document, "import", f"imported from {directory.name}/{scene_id}.json", publish=True)
            except FileExistsError:  # another node sharing the store imported it at the same moment
                continue
            log.info("imported scene %s", scene_id)

    def asset_visible(self, asset_id: str) -> bool:
        """Files in the asset directory are trusted; assets added through the API need an approval if generated."""
        return self.db.review_status("asset", asset_id) in (None, "approved")

    def visitor_document(self, scene_id: str, document: dict[str, Any]) -> dict[str, Any]:
        hidden_texts = self.db.unapproved_texts()
        return visitor_view(
            document,
            self.asset_visible,
            lambda path, language, text: text_subject(scene_id, path, language, text) not in hidden_texts,
        )

    def refresh(self, scene_id: str, announce: bool = True) -> bool:
        """Recompute one scene's visitor view and send it live; False if it cannot be shown."""
        try:
            record = self.db.scene(scene_id)
        except NotFound:
            return False
        if record.published_revision is None:
            return False
        document = self.db.revision(scene_id, record.published_revision)["document"]
        try:
            scene: Scene = validate(self.visitor_document(scene_id, document), f"{scene_id} revision {record.published_revision}")
            scene = dataclasses.replace(scene, blocklist=tuple(document.get("chat", {}).get("blocklist", [])))
            assets = [self.library.resolve(asset_id) for asset_id in scene.asset_ids]
        except (SceneError, AssetError) as err:
            log.error("cannot show scene %s: %s", scene_id, err)
            return False
        self.scene_assets[scene_id] = assets
        self.hub.update_scene(scene, record.published_revision)
        if announce and self.announce is not None:
            self.announce("scene", {"scene": scene_id})
        return True

    def refresh_all(self) -> None:
        for record in self.db.scenes():
            self.refresh(record.id, announce=False)
        log.info("serving %d scene(s): %s", len(self.hub.scenes), ", ".join(sorted(self.hub.scenes)) or "none")

    async def unpublish(self, scene_id: str, message: str, announce: bool = True) -> None:
        self.scene_assets.pop(scene_id, None)
        await self.hub.remove_scene(scene_id, message)
        if announce and self.announce is not None:
            self.announce("unpublish", {"scene": scene_id, "message": message})
