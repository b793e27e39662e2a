"""The content-addressed asset store under ``DATA_DIR/assets``.

``SHA.glb`` holds each accepted asset and each of its levels of detail, with
``SHA.glb.gz`` and ``SHA.glb.br`` beside it when compression makes them
smaller.  ``SHA.json`` is an asset's record: its provenance, and per level the
triangle count, sizes and sha256.  Files are written to a temporary name and
renamed, so a reader never sees half a file; an asset already stored is reused.

The server builds assets in worker processes (``thirdspace.services.assets``): a
worker's ``ingest`` writes the files and returns the record, and the server's own
store ``remember``s it, since ``record`` and ``file`` answer from memory.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import orjson

from thirdspace.assets import provenance
from thirdspace.assets.checks import DEFAULT_LIMITS, ImportRefused
from thirdspace.assets.gltf import Gltf, pack, unpack
from thirdspace.assets.optimise import DEFAULT_LEVELS, build_levels
from thirdspace.assets.validity import check_level

PIPELINE_VERSION = 1
ENCODINGS = {"br": ".br", "gzip": ".gz"}
# Brotli's best quality costs 2-4 s of processor time a megabyte; above this size a file is compressed at quality 6
# with a 16 MB window (a few percent larger, a hundred times faster), so a large upload stays within its job's limits.
BROTLI_BEST_UP_TO = 1 << 20


@dataclass(frozen=True)
class StoreSettings:
    levels: tuple[tuple[float, float], ...] = DEFAULT_LEVELS  # (share of triangles, error as a share of size)
    max_error_m: float = 0.0005


class AssetStore:
    def __init__(self, root: Path, settings: StoreSettings = StoreSettings()):
        self.root = root
        self.settings = settings
        self.root.mkdir(parents=True, exist_ok=True)
        self._records: dict[str, dict[str, Any]] = {}
        self._level_owner: dict[str, str] = {}

    def ingest(self, gltf: Gltf) -> dict[str, Any]:
        """Store a checked asset that carries its provenance packet, with its levels; return its record."""
        packet = provenance.read_packet(gltf.document)
        if packet is None:
            raise ValueError("an asset must carry a KHR_xmp_json_ld provenance packet before it is stored")
        data = pack(Gltf(gltf.document, gltf.binary))
        sha = hashlib.sha256(data).hexdigest()
        record = self._load(sha)
        if record is None:
            record = self._build(sha, data, gltf, packet)
        self.remember(record)
        return record

    def load(self, sha: str) -> dict[str, Any] | None:
        """The record of an asset stored earlier (by this process or a previous one), or None."""
        record = self._records.get(sha) or self._load(sha)
        if record is not None:
            self.remember(record)
        return record

    def _load(self, sha: str) -> dict[str, Any] | None:
        path = self.root / f"{sha}.json"
        try:
            record = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        levels_stored = all((self.root / f"{level['sha256']}.glb").is_file() for level in record.get("levels", []))
        complete = record.get("pipeline") == PIPELINE_VERSION and levels_stored
        return record if complete and (self.root / f"{sha}.glb").is_file() else None

    def _build(self, sha: str, data: bytes, gltf: Gltf, packet: dict[str, Any]) -> dict[str, Any]:
        built = build_levels(gltf, self.settings.levels, self.settings.max_error_m, derived_from=sha)
        for level in built:  # every level is checked before anything is written
            try:
                check_level(unpack(level.glb), DEFAULT_LIMITS.max_unpacked_bytes)
            except ImportRefused as err:
                raise ImportRefused(f"level of detail {level.level} would not be valid glTF: {err.message}", err.field) from None
        source = self._put(data)
        levels = []
        for level in built:
            stored = self._put(level.glb)
            levels.append(
                {
                    "level": level.level,
                    "ratio": level.ratio,
                    "triangles": level.triangles,
                    "vertices": level.vertices,
                    "quantised": level.quantised,
                    "max_error_mm": round(level.max_error_m * 1000, 4),
                    **stored,
                }
            )
        summary = provenance.Provenance.from_packet(packet)
        record = {
            "pipeline": PIPELINE_VERSION,
            **source,
            "provenance": summary.summary() if summary else {"generated": False, "digital_source_type": None},
            "packet": packet,
            "levels": levels,
        }
        _write_atomic(self.root / f"{sha}.json", orjson.dumps(record, option=orjson.OPT_INDENT_2))
        return record

    def _put(self, data: bytes) -> dict[str, Any]:
        """Store bytes (and their compressed forms) by sha256; return the sizes."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / f"{sha}.glb"
        encoded: dict[str, int] = {}
        if not path.is_file():
            _write_atomic(path, data)
        for encoding, suffix in ENCODINGS.items():
            compressed_path = path.with_name(path.name + suffix)
            if not compressed_path.is_file():
                compressed = _brotli(data) if encoding == "br" else gzip.compress(data, 9, mtime=0)
                if len(compressed) >= len(data):
                    continue
                _write_atomic(compressed_path, compressed)
            encoded[encoding] = compressed_path.stat().st_size
        return {"sha256": sha, "size": len(data), "url": f"/assets/{sha}.glb", "encoded": encoded}

    def remember(self, record: dict[str, Any]) -> None:
        """Serve an asset stored here (by this process or a worker): ``record`` and ``file`` know it from now on."""
        self._records[record["sha256"]] = record
        for level in record["levels"]:
            self._level_owner[level["sha256"]] = record["sha256"]

    def record(self, sha: str) -> dict[str, Any] | None:
        """The record of an asset, found by its own sha256 or a level's."""
        return self._records.get(self._level_owner.get(sha, sha))

    def file(self, sha: str, encoding: str | None = None) -> Path | None:
        """The stored file for a sha256 this store has served, in an encoding if one is stored."""
        if sha not in self._records and sha not in self._level_owner:
            return None
        path = self.root / f"{sha}.glb"
        if encoding:
            path = path.with_name(path.name + ENCODINGS[encoding])
        return path if path.is_file() else None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _brotli(data: bytes) -> bytes:
    if len(data) <= BROTLI_BEST_UP_TO:
        return brotli.compress(data, quality=11)
    return brotli.compress(data, quality=6, lgwin=24)
