"""A scene's asset manifest: every asset it needs, its levels, nearest first from the spawn point."""

from __future__ import annotations

from typing import Any

import numpy as np

from thirdspace.assets.library import Asset


def _rotate(quaternion, vector: np.ndarray) -> np.ndarray:
    x, y, z, w = quaternion
    u = np.array([x, y, z])
    return 2 * np.dot(u, vector) * u + (w * w - np.dot(u, u)) * vector + 2 * w * np.cross(u, vector)


def world_positions(nodes: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The world position of each node's origin (parents' position, rotation and scale applied).

    Each node is placed once, climbing to its nearest placed ancestor in a loop (no recursion, however long
    the chain of parents); a node whose parents lead back to itself is placed as if it had none."""
    by_id = {node["id"]: node for node in nodes}
    placed: dict[str, tuple[np.ndarray, tuple, np.ndarray]] = {}
    for node_id in by_id:
        chain: list[str] = []
        seen: set[str] = set()
        current = node_id
        while current not in placed and current not in seen:
            seen.add(current)
            chain.append(current)
            parent = by_id[current].get("parent")
            if parent is None or parent not in by_id:
                break
            current = parent
        for link in reversed(chain):
            node = by_id[link]
            position = np.asarray(node.get("position", (0, 0, 0)), dtype=float)
            rotation = tuple(node.get("rotation", (0, 0, 0, 1)))
            scale = np.asarray(node.get("scale", (1, 1, 1)), dtype=float)
            if node.get("parent") in placed:
                parent_position, parent_rotation, parent_scale = placed[node["parent"]]
                position = parent_position + _rotate(parent_rotation, parent_scale * position)
                rotation, scale = _multiply(parent_rotation, rotation), parent_scale * scale
            placed[link] = (position, rotation, scale)
    return {node_id: placed[node_id][0] for node_id in by_id}


def _multiply(a, b) -> tuple:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def build_manifest(document: dict[str, Any], assets: list[Asset]) -> dict[str, Any]:
    spawn = np.asarray(document["spawn_points"][0]["position"], dtype=float)
    positions = world_positions(document["nodes"])
    users: dict[str, list[str]] = {}
    for node in document["nodes"]:
        if "asset" in node:
            users.setdefault(node["asset"], []).append(node["id"])
    anchors = {a["id"]: np.asarray(a["position"], dtype=float) for a in document.get("anchors", [])}
    for overlay in document.get("overlays", []):  # reconstructions stand where their overlay is placed
        if "asset" in overlay:
            at = overlay["at"]
            place = positions.get(at.get("node"), anchors.get(at.get("anchor"), spawn)) + np.asarray(at.get("offset", (0, 0, 0)))
            positions[f"overlay:{overlay['id']}"] = place
            users.setdefault(overlay["asset"], []).append(f"overlay:{overlay['id']}")
    entries = []
    for asset in assets:
        nodes = users.get(asset.id, [])
        distance = min((float(np.linalg.norm(positions[n] - spawn)) for n in nodes), default=0.0)
        record = asset.record
        entries.append(
            {
                "id": asset.id,
                "sha256": asset.sha256,
                "distance_m": round(distance, 3),
                "nodes": nodes,
                "provenance": record["provenance"],
                "metadata_url": f"/api/assets/{asset.sha256}",
                "levels": record["levels"],
            }
        )
    entries.sort(key=lambda e: (e["distance_m"], e["id"]))
    return {
        "scene": document["id"],
        "spawn": spawn.tolist(),
        "assets": entries,
        "bytes": {
            "lowest": sum(e["levels"][-1]["size"] for e in entries),
            "full": sum(e["levels"][0]["size"] for e in entries),
        },
    }
