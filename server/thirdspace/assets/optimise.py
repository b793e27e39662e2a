"""Levels of detail and quantised vertex attributes for any checked GLB.

Each level simplifies every triangle-list primitive to a share of its triangles
with ``fast-simplification`` (quadric edge collapse, replayed so that every kept
vertex keeps its own normal, UVs, colours and skin weights), then stores
positions, normals and UVs as normalised integers (``KHR_mesh_quantization``)
when that keeps every position within ``max_error_m`` of the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import fast_simplification
import numpy as np
import orjson
import scipy.sparse
import scipy.sparse.csgraph
import trimesh.triangles

from thirdspace.assets import provenance
from thirdspace.assets.gltf import (
    COMPONENT_DTYPES,
    NORMALISED_MAX,
    BufferBuilder,
    Gltf,
    compact,
    pack,
    read_accessor,
    triangle_count,
)

QUANTISATION = "KHR_mesh_quantization"
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


@dataclass(frozen=True)
class Level:
    level: int  # 0 is full detail
    ratio: float  # the share of the source's triangles asked for
    glb: bytes
    triangles: int
    vertices: int
    quantised: bool
    max_error_m: float  # the largest position error quantisation introduced (0 if not quantised)


# (share of triangles to aim for, largest geometric error as a share of the asset's size) per level.
DEFAULT_LEVELS = ((1.0, 0.0), (0.25, 0.015), (0.05, 0.04))
MIN_SIMPLIFY_TRIANGLES = 32  # parts with fewer triangles (boxes, prisms) are kept whole or dropped whole
COVER_PAIRS = 10_000_000  # point-box comparisons when looking for small parts hidden by bigger ones, per level
COVER_BLOCK = 250_000  # point-box pairs compared at once (a few MB of memory)


def build_levels(source: Gltf, levels=DEFAULT_LEVELS, max_error_m: float = 0.0005, derived_from: str | None = None) -> list[Level]:
    """Levels from full detail down; a level is kept only if it has fewer triangles than the one above."""
    out_levels: list[Level] = []
    for ratio, tolerance in levels:
        gltf = Gltf(orjson.loads(orjson.dumps(source.document)), source.binary)
        builder = BufferBuilder(gltf.document, gltf.binary)
        if ratio < 1:
            _reduce(gltf, builder, ratio, tolerance)
        gltf.binary = builder.binary()  # quantisation reads the simplified attributes
        users = _mesh_users(gltf.document)
        errors = [_quantise(gltf, builder, m, users.get(m, []), max_error_m) for m in range(len(gltf.document.get("meshes", [])))]
        quantised = [e for e in errors if e is not None]
        if quantised:
            _require(gltf.document, QUANTISATION)
        out = compact(gltf, builder)
        triangles = triangle_count(out.document)
        if out_levels and triangles >= out_levels[-1].triangles:
            continue
        packet = provenance.read_packet(out.document)
        if packet is not None:
            packet = {**packet, "thirdspace:level": len(out_levels), "thirdspace:triangleRatio": ratio}
            if derived_from:
                packet["thirdspace:derivedFrom"] = derived_from
            provenance.embed(out.document, packet)
        vertices = sum(
            out.document["accessors"][p["attributes"]["POSITION"]]["count"] for m in out.document.get("meshes", []) for p in m["primitives"]
        )
        out_levels.append(Level(len(out_levels), ratio, pack(out), triangles, vertices, bool(quantised), max(quantised, default=0.0)))
    return out_levels


def _require(document: dict, extension: str) -> None:
    for key in ("extensionsUsed", "extensionsRequired"):
        names = document.setdefault(key, [])
        if extension not in names:
            names.append(extension)


def _write_like(builder: BufferBuilder, values: np.ndarray, accessor: dict, target: int | None, bounds: bool = False) -> int:
    """Store ``values`` (floats if the source was normalised) with the source accessor's component type."""
    dtype = COMPONENT_DTYPES[accessor["componentType"]]
    normalised = bool(accessor.get("normalized"))
    if normalised and accessor["componentType"] in NORMALISED_MAX:
        values = np.round(values * NORMALISED_MAX[accessor["componentType"]])
    return builder.accessor(values.astype(dtype), target=target, normalised=normalised, bounds=bounds)


def _node_matrices(document: dict) -> dict[int, np.ndarray]:
    """World matrices of nodes reachable from the default scene (column vectors)."""
    nodes = document.get("nodes", [])
    out: dict[int, np.ndarray] = {}

    def local(node: dict) -> np.ndarray:
        if "matrix" in node:
            return np.asarray(node["matrix"], dtype=float).reshape(4, 4).T
        x, y, z, w = node.get("rotation", (0, 0, 0, 1))
        rotation = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
        matrix = np.eye(4)
        matrix[:3, :3] = rotation * np.asarray(node.get("scale", (1, 1, 1)), dtype=float)
        matrix[:3, 3] = node.get("translation", (0, 0, 0))
        return matrix

    scenes = document.get("scenes", [])
    roots = scenes[document.get("scene", 0)].get("nodes", []) if scenes else range(len(nodes))
    # An explicit stack, not recursion: a chain of nodes is as deep as the file makes it.
    stack: list[tuple[int, np.ndarray]] = [(root, np.eye(4)) for root in reversed(list(roots))]
    while stack:
        index, parent = stack.pop()
        if index in out:  # the checks refuse shared nodes; a node is placed once whatever a file says
            continue
        out[index] = parent @ local(nodes[index])
        stack.extend((child, out[index]) for child in reversed(nodes[index].get("children", [])))
    return out


@dataclass
class _Part:
    """One connected component of a primitive, in the asset's world space."""

    mesh: int
    primitive: int
    faces: np.ndarray  # rows of the primitive's triangles (original vertex indices)
    low: np.ndarray
    high: np.ndarray
    world_points: np.ndarray
    dropped: bool = False

    @property
    def size(self) -> float:
        return float(np.linalg.norm(self.high - self.low))


def _reduce(gltf: Gltf, builder: BufferBuilder, ratio: float, tolerance: float) -> None:
    """Drop small parts that lie within the error bound of bigger ones, then simplify the detailed parts.

    The error bound is ``tolerance`` times the asset's size.  A part is dropped when it is itself
    smaller than the bound or every one of its points is within the bound of a bigger part's box.
    """
    document = gltf.document
    matrices = _node_matrices(document)
    users = _mesh_users(document)
    parts: list[_Part] = []
    prepared: dict[tuple[int, int], dict] = {}
    for m, mesh in enumerate(document.get("meshes", [])):
        placed = users.get(m, [])
        if len(placed) != 1 or "skin" in document["nodes"][placed[0]] or placed[0] not in matrices:
            continue
        matrix = matrices[placed[0]]
        stretch = np.linalg.svd(matrix[:3, :3], compute_uv=False)
        if stretch.min() <= 1e-9 * stretch.max() or not stretch.max() > 0:
            continue  # scaled to nothing along some axis (often until an animation grows it): its size says nothing, keep it whole
        for p, primitive in enumerate(mesh["primitives"]):
            data = _prepare(gltf, primitive)
            if data is None:
                continue
            prepared[(m, p)] = {**data, "scale": float(np.abs(np.linalg.svd(matrix[:3, :3], compute_uv=False)).max())}
            world = data["positions"] @ matrix[:3, :3].T + matrix[:3, 3]
            for faces in data["components"]:
                points = world[np.unique(faces)]
                parts.append(_Part(m, p, faces, points.min(axis=0), points.max(axis=0), points))
    if not parts:
        return
    low = np.min([part.low for part in parts], axis=0)
    high = np.max([part.high for part in parts], axis=0)
    bound = tolerance * float(np.linalg.norm(high - low))
    sizes = np.linalg.norm(np.array([part.high - part.low for part in parts]), axis=1)
    order = np.argsort(sizes, kind="stable")
    parts = [parts[i] for i in order]
    _mark_hidden(parts, bound, sizes[order])
    by_primitive: dict[tuple[int, int], list[_Part]] = {}
    for part in parts:
        by_primitive.setdefault((part.mesh, part.primitive), []).append(part)
    emptied: set[int] = set()
    for (m, p), group in by_primitive.items():
        data = prepared[(m, p)]
        pieces = [_simplify_part(data, part.faces, ratio, bound / data["scale"]) for part in group if not part.dropped]
        primitive = document["meshes"][m]["primitives"][p]
        if not pieces:
            primitive["_empty"] = True
            continue
        _write_primitive(gltf, builder, primitive, data, pieces)
    for m, mesh in enumerate(document.get("meshes", [])):
        mesh["primitives"] = [p for p in mesh["primitives"] if not p.pop("_empty", False)]
        if not mesh["primitives"]:
            emptied.add(m)
    if emptied:
        _remove_meshes(document, emptied)


def _mark_hidden(parts: list[_Part], bound: float, sizes: np.ndarray) -> None:
    """Mark the parts (sorted smallest first) to drop: those no bigger than ``bound``, and those whose every
    point lies within ``bound`` of the box of a bigger part.

    Comparing every part with every bigger one costs points x parts, which a file of many loose triangles makes
    quadratic: past ``COVER_PAIRS`` point-box comparisons in all, each part is compared with the
    ``COVER_PAIRS / points`` biggest parts only (the ones likeliest to cover it), so the cost stays in proportion
    to the file.  Each comparison is done in blocks of at most ``COVER_BLOCK`` point-box pairs, so memory does too.
    """
    count = len(parts)
    points = np.array([len(part.world_points) for part in parts], dtype=np.int64)
    pairs = int(np.dot(points, np.arange(count - 1, -1, -1, dtype=np.int64)))
    biggest = count if pairs <= COVER_PAIRS else max(1, COVER_PAIRS // max(1, int(points.sum())))
    lows = np.array([part.low for part in parts])
    highs = np.array([part.high for part in parts])
    for i, part in enumerate(parts):
        if sizes[i] <= bound:
            part.dropped = True
            continue
        left = part.world_points
        start = max(i + 1, count - biggest)
        while len(left) and start < count:
            stop = min(count, start + max(1, COVER_BLOCK // len(left)))
            gaps = np.maximum(lows[None, start:stop] - left[:, None], 0)
            gaps += np.maximum(left[:, None] - highs[None, start:stop], 0)
            distance = np.sqrt(np.einsum("ijk,ijk->ij", gaps, gaps)).min(axis=1)
            left = left[distance > bound]
            start = stop
        part.dropped = i + 1 < count and not len(left)


def _prepare(gltf: Gltf, primitive: dict) -> dict | None:
    """A primitive's attributes, welded topology and connected components, if it can be simplified."""
    document = gltf.document
    attributes = primitive["attributes"]
    if primitive.get("mode", 4) != 4 or "targets" in primitive or document["accessors"][attributes["POSITION"]]["componentType"] != 5126:
        return None
    values = {name: read_accessor(gltf, index) for name, index in attributes.items()}
    positions = values["POSITION"].astype(np.float64)
    if "indices" in primitive:
        faces = read_accessor(gltf, primitive["indices"]).reshape(-1, 3).astype(np.int64)
    else:
        faces = np.arange(len(positions) - len(positions) % 3).reshape(-1, 3)
    if len(faces) == 0:
        return None
    # Flat-shaded meshes repeat each corner; weld on position (and UVs, so texture seams stay) for topology.
    key = positions if "TEXCOORD_0" not in values else np.hstack([positions, values["TEXCOORD_0"]])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    welded = inverse.reshape(-1)[faces]
    labels = _components(welded, len(first))
    order = np.argsort(labels[welded[:, 0]], kind="stable")
    splits = np.flatnonzero(np.diff(labels[welded[order, 0]])) + 1
    return {
        "values": values,
        "positions": positions,
        "faces": faces,
        "first": first,
        "welded": welded,
        "flat": len(np.unique(faces)) == faces.size,
        "components": [faces[rows] for rows in np.split(order, splits)],
    }


def _components(faces: np.ndarray, count: int) -> np.ndarray:
    """A connected-component label per vertex, joining the vertices of each triangle."""
    rows = np.concatenate([faces[:, 0], faces[:, 1]])
    cols = np.concatenate([faces[:, 1], faces[:, 2]])
    graph = scipy.sparse.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(count, count))
    return scipy.sparse.csgraph.connected_components(graph, directed=False)[1]


def _simplify_part(data: dict, faces: np.ndarray, ratio: float, bound: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(source vertex per new vertex, new positions, new faces) for one part; simplified only within the bound."""
    used, local = np.unique(faces, return_inverse=True)
    unchanged = (used, data["positions"][used], local.reshape(-1, 3))
    if len(faces) < MIN_SIMPLIFY_TRIANGLES:
        return unchanged
    first = data["first"]
    welded_ids, welded_local = np.unique(_weld(data, faces), return_inverse=True)
    welded_local = welded_local.reshape(-1, 3)
    points = data["positions"][first[welded_ids]]
    # The simplifier's thresholds are absolute and it refuses collapses in very flat parts: run it on a copy scaled
    # to about a unit cube (no axis thinner than a twentieth), then replay its collapses on the real points.
    extent = np.ptp(points, axis=0)
    extent = np.maximum(extent, extent.max() / 20) if extent.max() > 0 else np.ones(3)
    unit = (points - points.min(axis=0)) / extent
    for share in (ratio, ratio * 2, ratio * 4):
        target = max(4, math.ceil(len(faces) * share))
        if target >= len(faces):
            break
        _, _, collapses = fast_simplification.simplify(unit, welded_local, target_count=target, return_collapses=True, preserve_border=True)
        new_points, new_faces, mapping = fast_simplification.replay_simplification(points, welded_local.astype(np.int32), collapses)
        if len(new_faces) == 0 or len(new_faces) >= len(faces):
            continue
        if _surface_error(points, new_points, new_faces, mapping) > bound:
            continue
        # Each surviving vertex keeps the attributes of one original vertex that collapsed into it.
        survivor = np.zeros(len(new_points), dtype=np.int64)
        survivor[mapping[::-1]] = np.arange(len(mapping))[::-1]
        return first[welded_ids[survivor]], new_points, new_faces.astype(np.int64)
    return unchanged


def _surface_error(points: np.ndarray, new_points: np.ndarray, new_faces: np.ndarray, mapping: np.ndarray) -> float:
    """How far the original vertices lie from the simplified surface (each against the triangles around its survivor)."""
    incident_vertex = new_faces.reshape(-1)
    incident_face = np.repeat(np.arange(len(new_faces)), 3)
    order = np.argsort(incident_vertex, kind="stable")
    starts = np.searchsorted(incident_vertex[order], np.arange(len(new_points) + 1))
    degree = np.diff(starts)[mapping]
    original = np.repeat(np.arange(len(points)), degree)
    offsets = np.arange(len(original)) - np.repeat(np.cumsum(degree) - degree, degree)
    faces = incident_face[order][np.repeat(starts[mapping], degree) + offsets]
    error = np.linalg.norm(points - new_points[mapping], axis=1)  # vertices whose survivor has no triangle left
    if len(original):
        closest = trimesh.triangles.closest_point(new_points[new_faces[faces]], points[original])
        distance = np.linalg.norm(closest - points[original], axis=1)
        np.minimum.at(error, original, distance)
    return float(error.max())


def _weld(data: dict, faces: np.ndarray) -> np.ndarray:
    lookup = np.empty(len(data["positions"]), dtype=np.int64)
    lookup[data["faces"].reshape(-1)] = data["welded"].reshape(-1)
    return lookup[faces]


def _write_primitive(gltf: Gltf, builder: BufferBuilder, primitive: dict, data: dict, pieces: list) -> None:
    sources, positions, faces, normals = [], [], [], []
    offset = 0
    for source, points, piece_faces in pieces:
        if data["flat"] and len(source) != piece_faces.size:
            # A simplified flat-shaded part: one vertex per corner, with its face's normal.
            corners = piece_faces.reshape(-1)
            source, points = source[corners], points[corners]
            triangle = points.reshape(-1, 3, 3)
            normal = np.cross(triangle[:, 1] - triangle[:, 0], triangle[:, 2] - triangle[:, 0])
            length = np.linalg.norm(normal, axis=1, keepdims=True)
            normal = np.where(length > 0, normal / np.maximum(length, 1e-30), [0.0, 1.0, 0.0])
            normals.append(np.repeat(normal, 3, axis=0))
            piece_faces = np.arange(len(corners)).reshape(-1, 3)
        elif "NORMAL" in data["values"]:
            normals.append(data["values"]["NORMAL"][source])
        sources.append(source)
        positions.append(points)
        faces.append(piece_faces + offset)
        offset += len(source)
    source = np.concatenate(sources)
    document = gltf.document
    attributes = primitive["attributes"]
    for name, index in list(attributes.items()):
        accessor = document["accessors"][index]
        if name == "POSITION":
            values = np.concatenate(positions)
        elif name == "NORMAL":
            values = np.concatenate(normals)
        else:
            values = data["values"][name][source]
        attributes[name] = _write_like(builder, values, accessor, ARRAY_BUFFER, bounds=name == "POSITION")
    index_type = np.uint16 if offset < 65535 else np.uint32
    primitive["indices"] = builder.accessor(np.concatenate(faces).reshape(-1).astype(index_type), target=ELEMENT_ARRAY_BUFFER)


def _remove_meshes(document: dict, emptied: set[int]) -> None:
    remap = {}
    meshes = []
    for m, mesh in enumerate(document["meshes"]):
        if m not in emptied:
            remap[m] = len(meshes)
            meshes.append(mesh)
    if meshes:
        document["meshes"] = meshes
    else:  # glTF has no empty arrays
        document.pop("meshes")
    for node in document.get("nodes", []):
        if "mesh" in node:
            if node["mesh"] in emptied:
                del node["mesh"]
            else:
                node["mesh"] = remap[node["mesh"]]


def _mesh_users(document: dict) -> dict[int, list[int]]:
    """The nodes that show each mesh, found in one pass over the nodes."""
    users: dict[int, list[int]] = {}
    for index, node in enumerate(document.get("nodes", [])):
        if "mesh" in node:
            users.setdefault(node["mesh"], []).append(index)
    return users


def _quantise(gltf: Gltf, builder: BufferBuilder, mesh_index: int, nodes: list[int], max_error_m: float) -> float | None:
    """Store one mesh's positions (the mesh shown by ``nodes``) as normalised int16 around its centre; None if skipped or too lossy."""
    document = gltf.document
    mesh = document["meshes"][mesh_index]
    if not nodes or any("skin" in document["nodes"][i] for i in nodes):
        return None
    primitives = mesh["primitives"]
    if any("targets" in p or document["accessors"][p["attributes"]["POSITION"]]["componentType"] != 5126 for p in primitives):
        return None
    positions = [read_accessor(gltf, p["attributes"]["POSITION"]).astype(np.float64) for p in primitives]
    everything = np.vstack(positions)
    low, high = everything.min(axis=0), everything.max(axis=0)
    centre = (low + high) / 2
    half = float(max((high - low).max() / 2, 1e-6))
    quantised = [np.round((p - centre) / half * 32767).astype(np.int16) for p in positions]
    error = max(float(np.abs(q / 32767.0 * half + centre - p).max()) for q, p in zip(quantised, positions, strict=True))
    if error > max_error_m:
        return None
    for primitive, q in zip(primitives, quantised, strict=True):
        attributes = primitive["attributes"]
        attributes["POSITION"] = builder.accessor(q, target=ARRAY_BUFFER, normalised=True, bounds=True)
        for name, index in list(attributes.items()):
            accessor = document["accessors"][index]
            if accessor["componentType"] != 5126:
                continue
            if name in ("NORMAL", "TANGENT"):
                values = read_accessor(gltf, index)
                if name == "TANGENT":
                    values[:, 3] = np.sign(values[:, 3])
                attributes[name] = builder.accessor(np.round(values * 127).astype(np.int8), target=ARRAY_BUFFER, normalised=True)
            elif name.startswith("TEXCOORD_"):
                values = read_accessor(gltf, index)
                if values.min() >= 0 and values.max() <= 1:
                    attributes[name] = builder.accessor(np.round(values * 65535).astype(np.uint16), target=ARRAY_BUFFER, normalised=True)
    # Dequantise with a node transform; a child node keeps the original node's own transform and children intact.
    for i in nodes:
        node = document["nodes"][i]
        del node["mesh"]
        document["nodes"].append({"mesh": mesh_index, "translation": [float(c) for c in centre], "scale": [half, half, half]})
        node.setdefault("children", []).append(len(document["nodes"]) - 1)
    return error
