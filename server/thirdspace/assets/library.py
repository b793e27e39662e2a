"""The asset library: turns the asset ids scenes use into stored, optimised, labelled assets.

An asset id ``ID`` names either a curator's model ``assets/ID.glb`` (or
``assets/ID.zip``: a ``.gltf`` with its files) or a recipe preset
``assets/ID.json``::

    {"recipe": "pagoda", "params": {"tiers": 7}, "seed": 3,
     "made_by": "Museum of the Silk Road", "made_at": "2026-11-01T00:00:00Z"}

Models go through the import checks; every asset gets a provenance packet (the
one a model declares, else ``digitalCapture``) before the store keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from thirdspace.assets import provenance
from thirdspace.assets.checks import DEFAULT_LIMITS, ImportLimits, ImportRefused, check_upload
from thirdspace.assets.gltf import Gltf, unpack
from thirdspace.assets.provenance import Provenance
from thirdspace.assets.recipes import RecipeError, build_glb
from thirdspace.assets.store import AssetStore


class AssetError(ValueError):
    pass


@dataclass(frozen=True)
class Asset:
    id: str
    record: dict[str, Any]

    @property
    def sha256(self) -> str:
        return self.record["sha256"]

    @property
    def url(self) -> str:
        return self.record["url"]

    @property
    def size(self) -> int:
        return self.record["size"]

    @property
    def generated(self) -> bool:
        return bool(self.record["provenance"].get("generated"))

    @property
    def source(self) -> str:
        recipe = self.record["provenance"].get("recipe")
        return f"recipe:{recipe}" if recipe else "file"


def label(gltf: Gltf, declared: Provenance | None, made_by: str = "unknown") -> Gltf:
    """Embed ``declared`` provenance; keep a packet the file already has; otherwise say digitalCapture."""
    if declared is not None:
        provenance.embed(gltf.document, declared.to_packet())
    elif Provenance.from_packet(provenance.read_packet(gltf.document) or {}) is None:
        generator = str(gltf.document.get("asset", {}).get("generator", "unknown"))
        provenance.embed(gltf.document, Provenance("digitalCapture", generator, "", made_by, None).to_packet())
    return gltf


class AssetLibrary:
    def __init__(
        self,
        source_dir: Path,
        store: AssetStore,
        limits: ImportLimits = DEFAULT_LIMITS,
        registry: Callable[[str], str | None] = lambda asset_id: None,
    ):
        self.source_dir = source_dir
        self.store = store
        self.limits = limits
        self.registry = registry  # asset id -> sha256 of an asset added through the authoring API
        self._by_id: dict[str, Asset] = {}

    def resolve(self, asset_id: str) -> Asset:
        """Build or import ``asset_id`` once and return its stored record."""
        cached = self.cached(asset_id)
        if cached is not None:
            return cached
        sha = self.registry(asset_id)
        record = self.stored(asset_id, sha) if sha is not None else self.build(asset_id)
        return self.remember(asset_id, record)

    # resolve in steps, for the server, which runs ``build`` in a worker process
    # (thirdspace.services.assets.AsyncAssetLibrary) and the other steps itself.

    def cached(self, asset_id: str) -> Asset | None:
        """The asset if this library has resolved it before."""
        return self._by_id.get(asset_id)

    def stored(self, asset_id: str, sha: str) -> dict[str, Any]:
        """The record of an asset added through the authoring API (the registry gave its sha256)."""
        record = self.store.load(sha)
        if record is None:
            raise AssetError(f"asset {asset_id!r}: its file {sha} is missing from the store")
        return record

    def build(self, asset_id: str) -> dict[str, Any]:
        """Check or build the asset directory's file for ``asset_id``, store it with its levels, return its record.

        The heavy step (import checks, recipe, levels of detail, compression)."""
        preset_path = self.source_dir / f"{asset_id}.json"
        model_paths = [self.source_dir / f"{asset_id}.{ext}" for ext in ("glb", "zip")]
        model = next((p for p in model_paths if p.is_file()), None)
        if model is not None:
            try:
                gltf = label(check_upload(model.read_bytes(), self.limits), None, made_by=f"curator file {model.name}")
            except ImportRefused as err:
                raise AssetError(f"{model.name}: {err}") from None
        elif preset_path.is_file():
            gltf = unpack(self._build_preset(preset_path))
        else:
            raise AssetError(f"no asset {asset_id!r}: expected {asset_id}.glb, .zip or .json in {self.source_dir}")
        try:
            return self.store.ingest(gltf)
        except ImportRefused as err:  # a level of detail would not be valid
            raise AssetError(f"asset {asset_id!r}: {err}") from None

    def serve_stored(self, shas: Iterable[str]) -> list[str]:
        """Let the store serve assets stored by an earlier run (the registry's, used by a scene or not); the sha256s missing.

        The store answers from memory, and otherwise learns of an asset only when a scene's asset is
        resolved: after a restart, a generated or uploaded asset no scene uses yet would answer 404."""
        return [sha for sha in shas if self.store.load(sha) is None]

    def remember(self, asset_id: str, record: dict[str, Any]) -> Asset:
        """Keep a resolved asset (and let the store serve its files)."""
        self.store.remember(record)
        asset = self._by_id[asset_id] = Asset(asset_id, record)
        return asset

    def file_ids(self) -> list[str]:
        """Asset ids that files in the asset directory provide."""
        return sorted({p.stem for p in self.source_dir.glob("*") if p.suffix in (".glb", ".zip", ".json")})

    @staticmethod
    def _build_preset(path: Path) -> bytes:
        try:
            preset = orjson.loads(path.read_bytes())
            return build_glb(
                preset["recipe"],
                preset.get("params"),
                seed=preset.get("seed", 0),
                made_by=preset.get("made_by", "Third Space"),
                made_at=preset.get("made_at"),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise AssetError(f"{path.name}: not a recipe preset ({exc})") from None
        except RecipeError as err:
            raise AssetError(f"{path.name}: {err}") from None
