"""Hostile but well-formed GLBs, as bytes: the shapes of file that once stalled or broke the asset pipeline.

Each builder makes a file that passes the container and reference checks, so what it exercises is the
pipeline's cost (graph walks, connected parts, per-triangle work) rather than a parse error.  The
benchmarks import these too: keep the names and signatures stable.
"""

from __future__ import annotations

import numpy as np

from thirdspace.assets.gltf import BufferBuilder, Gltf, pack

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


def _glb(positions: np.ndarray, faces: np.ndarray | None, nodes: list[dict], roots: list[int]) -> bytes:
    """One mesh (float32 positions, optional uint32 indices) used by the nodes given; one scene with ``roots``."""
    document: dict = {"asset": {"version": "2.0", "generator": "thirdspace hostile test builder"}}
    builder = BufferBuilder(document)
    primitive: dict = {"attributes": {"POSITION": builder.accessor(positions.astype(np.float32), target=ARRAY_BUFFER, bounds=True)}}
    if faces is not None:
        primitive["indices"] = builder.accessor(faces.reshape(-1).astype(np.uint32), target=ELEMENT_ARRAY_BUFFER)
    document["meshes"] = [{"primitives": [primitive]}]
    document["nodes"] = nodes
    document["scenes"] = [{"nodes": roots}]
    document["scene"] = 0
    return pack(Gltf(document, builder.binary()))


def _triangle() -> np.ndarray:
    return np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def node_chain_glb(n: int) -> bytes:
    """``n`` nodes, each the only child of the one before (depth ``n``), the last holding a triangle."""
    nodes: list[dict] = [{"children": [i + 1], "translation": [0.0, 0.001, 0.0]} for i in range(n - 1)]
    nodes.append({"mesh": 0})
    return _glb(_triangle(), None, nodes, [0])


def loose_triangles_glb(n: int, seed: int = 1) -> bytes:
    """``n`` separate triangles (no shared vertices), overlapping in a 1 m cube: ``n`` connected parts of one mesh."""
    rng = np.random.default_rng(seed)
    corners = rng.random((n, 1, 3)) + rng.random((n, 3, 3)) * 0.2
    positions = corners.reshape(-1, 3)
    return _glb(positions, np.arange(3 * n).reshape(-1, 3), [{"mesh": 0}], [0])


def grid_with_triangles_glb(grid_n: int, extra: int, seed: int = 2) -> bytes:
    """A 10 m ``grid_n`` x ``grid_n`` quad grid (one connected part, 2 grid_n^2 triangles) plus ``extra`` loose
    triangles, each a little bigger than the grid and just above it, all in one primitive: the grid is then
    one of the smaller parts, to be compared with every bigger one."""
    rng = np.random.default_rng(seed)
    side = np.linspace(0.0, 10.0, grid_n + 1)
    x, z = np.meshgrid(side, side, indexing="ij")
    grid = np.stack([x.ravel(), np.zeros(x.size), z.ravel()], axis=1)
    index = np.arange((grid_n + 1) ** 2).reshape(grid_n + 1, grid_n + 1)
    a, b, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
    quads = np.concatenate([np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)])
    shape = np.array([[-2.0, 0.0, -2.0], [14.0, 0.0, -2.0], [-2.0, 0.0, 14.0]])  # a 16 m right triangle over the grid
    loose = (shape[None] + rng.random((extra, 1, 3)) * [0.5, 0.0, 0.5] + [0.0, 0.01, 0.0] + rng.random((extra, 3, 3)) * 0.05).reshape(-1, 3)
    positions = np.concatenate([grid, loose])
    faces = np.concatenate([quads, len(grid) + np.arange(3 * extra).reshape(-1, 3)])
    return _glb(positions, faces, [{"mesh": 0}], [0])


def repeated_root_glb(n: int) -> bytes:
    """One node holding a triangle, listed ``n`` times as a root of the scene."""
    return _glb(_triangle(), None, [{"mesh": 0}], [0] * n)
