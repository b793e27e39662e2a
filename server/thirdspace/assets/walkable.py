"""A scene's walk grid from its placed glTF assets (asset work: it runs in an asset worker process).

``scene_triangles`` loads each placed asset's stored GLB with trimesh, applies the node's
transform (and its parents'), and hands every triangle to ``thirdspace.scenes.walk.build_grid``.
``build_walk_file`` writes the result beside the assets, named by a key over everything the grid
depends on (``walk_key``), so a scene published again with the same geometry, or a restart,
reuses it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import trimesh

from thirdspace.scenes import walk

WALK_VERSION = 1  # bump when the grid's rules change: every scene's grid is built again


def walk_key(document: dict[str, Any], asset_shas: dict[str, str]) -> str:
    """A name for the grid of ``document`` with these assets: the same inputs give the same grid."""
    nodes = [{k: node.get(k) for k in ("id", "asset", "parent", "position", "rotation", "scale", "walk")} for node in document["nodes"]]
    inputs = {
        "version": WALK_VERSION,
        "bounds": document["bounds"],
        "spawns": [s["position"] for s in document["spawn_points"]],
        "walk": document.get("walk"),
        "nodes": nodes,
        "assets": {a: asset_shas[a] for a in sorted(asset_shas)},
        "rules": [walk.CELL_M, walk.STEP_M, walk.CLEARANCE_M, walk.LEAN_M, walk.LAYER_M],
    }
    return hashlib.sha256(orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _node_matrix(node: dict[str, Any]) -> np.ndarray:
    x, y, z, w = node.get("rotation", [0.0, 0.0, 0.0, 1.0])
    matrix = trimesh.transformations.quaternion_matrix([w, x, y, z])  # trimesh quaternions are w first
    matrix[:3, :3] = matrix[:3, :3] @ np.diag(node.get("scale", [1.0, 1.0, 1.0]))
    matrix[:3, 3] = node.get("position", [0.0, 0.0, 0.0])
    return matrix


def _asset_triangles(path: Path) -> np.ndarray:
    loaded = trimesh.load(str(path), file_type="glb", force="scene", process=False)
    parts = []
    for name in loaded.graph.nodes_geometry:
        transform, geometry = loaded.graph[name]
        mesh = loaded.geometry[geometry]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        vertices = trimesh.transformations.transform_points(mesh.vertices, transform)
        parts.append(vertices[mesh.faces])
    return np.concatenate(parts) if parts else np.zeros((0, 3, 3))


def scene_triangles(document: dict[str, Any], glb_paths: dict[str, Path]) -> np.ndarray:
    """Every triangle of every placed asset in scene coordinates, shape (n, 3, 3); nodes marked
    ``"walk": "ignore"`` (and their children) are left out."""
    by_id = {node["id"]: node for node in document["nodes"]}
    cache: dict[str, np.ndarray] = {}
    out = []
    for node in document["nodes"]:
        if "asset" not in node or node["asset"] not in glb_paths:
            continue
        matrix = np.eye(4)
        current: dict[str, Any] | None = node
        ignored = False
        seen: set[str] = set()
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            ignored = ignored or current.get("walk") == "ignore"
            matrix = _node_matrix(current) @ matrix
            current = by_id.get(current["parent"]) if "parent" in current else None
        if ignored:
            continue
        asset = node["asset"]
        if asset not in cache:
            cache[asset] = _asset_triangles(glb_paths[asset])
        triangles = cache[asset]
        if len(triangles):
            out.append(trimesh.transformations.transform_points(triangles.reshape(-1, 3), matrix).reshape(-1, 3, 3))
    return np.concatenate(out) if out else np.zeros((0, 3, 3))


def grid_of(document: dict[str, Any], glb_paths: dict[str, Path]) -> walk.WalkGrid:
    bounds = document["bounds"]
    spawns = [tuple(s["position"]) for s in document["spawn_points"]]
    return walk.build_grid(scene_triangles(document, glb_paths), bounds["min"], bounds["max"], spawns, document.get("walk"))


def build_walk_file(document: dict[str, Any], glb_paths: dict[str, str], path: str) -> dict[str, Any]:
    """Build the grid and write it to ``path`` (atomically); a summary: cells, walkable cells, spawn points on none."""
    grid = grid_of(document, {a: Path(p) for a, p in glb_paths.items()})
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_bytes(grid.to_bytes())
    os.replace(temporary, target)
    return summary(document, grid)


def summary(document: dict[str, Any], grid: walk.WalkGrid) -> dict[str, Any]:
    stranded = [i for i, s in enumerate(document["spawn_points"]) if grid.floor_at(s["position"][0], s["position"][2]) is None]
    return {"cells": grid.shape[0] * grid.shape[1], "walkable": grid.walkable_cells, "stranded_spawns": stranded}
