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
    """The world position of each node's origin (parents' position, rotation and scale applied)."""
    by_id = {node["id"]: node for node in nodes}
    out: dict[str, np.ndarray] = {}

    def place(node_id: str, depth: int = 0) -> tuple[np.ndarray, tuple, np.ndarray]:
        node = by_id[node_id]
        position = np.asarray(node.get("position", (0, 0, 0)), dtype=float)
        if "parent" not in node or depth > len(nodes):
            return position, tuple(node.get("rotation", (0, 0, 0, 1))), np.asarray(node.get("scale", (1, 1, 1)), dtype=float)
        parent_position, parent_rotation, parent_scale = place(node["parent"], depth + 1)
        world = parent_position + _rotate(parent_rotation, parent_scale * position)
        rotation = _multiply(parent_rotation, tuple(node.get("rotation", (0, 0, 0, 1))))
        return world, rotation, parent_scale * np.asarray(node.get("scale", (1, 1, 1)))

    for node_id in by_id:
        out[node_id] = place(node_id)[0]
    return out


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
