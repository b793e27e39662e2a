"""The asset library: turns asset ids used by scenes into content-addressed GLB files.

An asset id ``ID`` names either a curator's file ``assets/ID.glb`` or a recipe
preset ``assets/ID.json`` (``{"recipe": NAME, "params": {...}}``) that the
project's procedural code builds.  Built bytes are stored once, by sha256, under
``DATA_DIR/assets/`` and served from ``/assets/SHA256.glb``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from thirdspace.assets.recipes import RecipeError, build_glb


class AssetError(ValueError):
    pass


@dataclass(frozen=True)
class Asset:
    id: str
    sha256: str
    size: int
    source: str  # "file" or "recipe:NAME"

    @property
    def url(self) -> str:
        return f"/assets/{self.sha256}.glb"


class AssetLibrary:
    def __init__(self, source_dir: Path, store_dir: Path):
        self.source_dir = source_dir
        self.store_dir = store_dir
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._by_id: dict[str, Asset] = {}

    def resolve(self, asset_id: str) -> Asset:
        """Build or import ``asset_id`` once and return its stored record."""
        if asset_id in self._by_id:
            return self._by_id[asset_id]
        glb_path = self.source_dir / f"{asset_id}.glb"
        preset_path = self.source_dir / f"{asset_id}.json"
        if glb_path.is_file():
            data, source = glb_path.read_bytes(), "file"
        elif preset_path.is_file():
            try:
                preset = json.loads(preset_path.read_text("utf-8"))
                data = build_glb(preset["recipe"], preset.get("params"))
            except (json.JSONDecodeError, KeyError, TypeError, RecipeError) as exc:
                raise AssetError(f"{preset_path.name}: {exc}") from None
            source = f"recipe:{preset['recipe']}"
        else:
            raise AssetError(f"no asset {asset_id!r}: expected {glb_path.name} or {preset_path.name} in {self.source_dir}")
        sha = hashlib.sha256(data).hexdigest()
        stored = self.store_dir / f"{sha}.glb"
        if not stored.exists():
            tmp = stored.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(stored)
        asset = Asset(asset_id, sha, len(data), source)
        self._by_id[asset_id] = asset
        return asset

    def path_for(self, sha256: str) -> Path | None:
        """The stored file for a sha256 this library has resolved, else None."""
        if any(a.sha256 == sha256 for a in self._by_id.values()):
            return self.store_dir / f"{sha256}.glb"
        return None
