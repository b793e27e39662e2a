"""Walkable space: where a visitor may stand, and the per-pose check of a head against it.

A scene's *walk grid* covers its bounds in square cells (0.25 m unless the scene is very
large).  Each cell holds:

- ``floor``: the height of the floor a visitor stands on there, or NaN where nobody may
  stand (inside a wall, on a plinth, in the fountain's basin, over nothing, or inside an
  area the scene marks ``blocked``);
- ``top``: for a cell nobody may stand on, the top of what is there, which a head may
  lean over (a plinth's 1.0 m); ``+inf`` where the solid reaches above a head (a wall),
  ``-inf`` where there is nothing at all.

The grid is built from the scene's placed geometry (``build_grid``: triangles in, grid
out) by rasterising every triangle into the cells' vertical columns (layers of a few
centimetres), taking in each cell the lowest surface with a visitor's clearance above it,
and flooding out from the spawn points (and the areas marked ``walkable``) across
neighbouring cells whose floors differ by at most a step.  So a plinth top, the water in a
basin behind its rim or the top of a wall are never reached; a doorway, an arch or a gate
are walked under.

``check_pose`` is the server's check of one uplink pose, a numba kernel that costs well
under a microsecond: the head must be over walkable floor at a sensible height, or
leaning (at most ``LEAN_M`` from where the visitor last stood) over something lower than
the head; and a walking step (not a teleport) must not pass through anything on the way.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

CELL_M = 0.25  # the cell edge, unless a scene is so large that the grid would pass MAX_CELLS
MAX_CELLS = 1 << 21
LAYER_M = 0.05  # the vertical resolution of the columns while building
MAX_LAYER_CELLS = 1 << 26  # cells times layers while building (a float32 each)
STEP_M = 0.35  # a visitor steps up or down this much from one cell to the next
CLEARANCE_M = 2.0  # free height a visitor needs above a floor
LEAN_M = 0.6  # a head may be this far (horizontally) from where its visitor last stood on walkable floor
HEAD_OVER_M = 0.1  # a head leaning over something keeps this far above its top
HEAD_MAX_M = 2.5  # a head is at most this high above the floor under it
HEAD_MIN_M = -0.25  # and at least this (a little below: a step down taken at a cell's edge)
MAGIC = b"TSWALK1\0"
HEADER = struct.Struct("<8sIIfff")  # magic, nx, nz, origin x, origin z, cell edge

WALK_OK = 0
NOT_WALKABLE = 1
INSIDE_SOLID = 2
PASSES_THROUGH = 3
REASONS = {
    NOT_WALKABLE: "not over walkable ground",
    INSIDE_SOLID: "inside something solid",
    PASSES_THROUGH: "passes through something solid",
}


@dataclass(frozen=True, eq=False)
class WalkGrid:
    """A scene's walkable space; ``floor`` and ``top`` are float32 arrays of shape (nx, nz), x first."""

    origin_x: float
    origin_z: float
    cell_m: float
    floor: np.ndarray
    top: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.floor.shape

    @functools.cached_property
    def walkable_cells(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.floor)))

    def cell(self, x: float, z: float) -> tuple[int, int] | None:
        i, j = math.floor((x - self.origin_x) / self.cell_m), math.floor((z - self.origin_z) / self.cell_m)
        nx, nz = self.shape
        return (i, j) if 0 <= i < nx and 0 <= j < nz else None

    def floor_at(self, x: float, z: float) -> float | None:
        """The walkable floor's height under (x, z), or None where nobody may stand."""
        cell = self.cell(x, z)
        if cell is None or math.isnan(self.floor[cell]):
            return None
        return float(self.floor[cell])

    @functools.cached_property
    def served(self) -> tuple[bytes, str]:
        """``to_bytes()`` and its ETag, computed once."""
        data = self.to_bytes()
        return data, f'"{hashlib.sha256(data).hexdigest()[:32]}"'

    def to_bytes(self) -> bytes:
        """The grid as served to clients (``GET /api/scenes/ID/walk``, described in docs/scene-format.md)."""
        nx, nz = self.shape
        header = HEADER.pack(MAGIC, nx, nz, self.origin_x, self.origin_z, self.cell_m)
        return header + np.ascontiguousarray(self.floor, "<f4").tobytes() + np.ascontiguousarray(self.top, "<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> WalkGrid:
        if len(data) < HEADER.size:
            raise ValueError("not a walk grid: too short")
        magic, nx, nz, origin_x, origin_z, cell_m = HEADER.unpack_from(data)
        if magic != MAGIC or len(data) != HEADER.size + 8 * nx * nz:
            raise ValueError("not a walk grid")
        arrays = np.frombuffer(data, "<f4", offset=HEADER.size).reshape(2, nx, nz).astype(np.float32)
        return cls(float(origin_x), float(origin_z), float(cell_m), arrays[0].copy(), arrays[1].copy())


# -- the marks a scene document may carry -----------------------------------------------------------


def check_marks(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, reason) for each ``walk`` mark a schema cannot judge: boxes inside out or outside the bounds,
    spawn points inside a blocked area."""
    walk = document.get("walk")
    if not isinstance(walk, dict):
        return []
    issues: list[tuple[str, str]] = []
    lo, hi = document["bounds"]["min"], document["bounds"]["max"]
    for kind in ("blocked", "walkable"):
        for k, area in enumerate(walk.get(kind, [])):
            path = f"$.walk.{kind}[{k}]"
            a, b = area["min"], area["max"]
            if not (a[0] < b[0] and a[1] < b[1]):
                issues.append((f"{path}.max", "every max must be above its min (x, z)"))
            elif b[0] < lo[0] or a[0] > hi[0] or b[1] < lo[2] or a[1] > hi[2]:
                issues.append((path, "the area lies outside the scene's bounds"))
            if kind == "blocked" and "floor" in area:
                issues.append((f"{path}.floor", "only walkable areas have a floor height"))
            if kind == "walkable" and "floor" in area and not lo[1] <= area["floor"] <= hi[1]:
                issues.append((f"{path}.floor", "the floor height is outside the scene's bounds"))
    for i, spawn in enumerate(document["spawn_points"]):
        x, _, z = spawn["position"]
        for k, area in enumerate(walk.get("blocked", [])):
            if _inside(area, x, z):
                issues.append((f"$.spawn_points[{i}].position", f"spawn point is inside the blocked area $.walk.blocked[{k}]"))
    return issues


def _inside(area: dict[str, Any], x: float, z: float) -> bool:
    return bool(area["min"][0] <= x <= area["max"][0] and area["min"][1] <= z <= area["max"][1])


# -- building ----------------------------------------------------------------------------------------


def build_grid(
    triangles: np.ndarray,
    bounds_min: tuple[float, float, float] | list[float],
    bounds_max: tuple[float, float, float] | list[float],
    spawns: list[tuple[float, float, float]],
    marks: dict[str, Any] | None = None,
) -> WalkGrid:
    """The walk grid of a scene from its triangles, shape (n, 3, 3), in scene coordinates (metres, Y up)."""
    marks = marks or {}
    x0, y0, z0 = (float(v) for v in bounds_min)
    x1, y1, z1 = (float(v) for v in bounds_max)
    cell = CELL_M
    while math.ceil((x1 - x0) / cell) * math.ceil((z1 - z0) / cell) > MAX_CELLS:
        cell *= 2
    nx, nz = max(1, math.ceil((x1 - x0) / cell)), max(1, math.ceil((z1 - z0) / cell))
    layers = max(8, min(math.ceil((y1 - y0) / LAYER_M), MAX_LAYER_CELLS // (nx * nz)))
    layer_m = (y1 - y0) / layers
    columns = np.full((nx, nz, layers), -np.inf, np.float32)
    tris = np.ascontiguousarray(triangles, np.float64).reshape(-1, 3, 3)
    _rasterise(tris, x0, z0, cell, y0, layer_m, columns)
    stand = _floors(columns, y0, layer_m, CLEARANCE_M)
    blocked = np.zeros((nx, nz), np.bool_)
    forced = np.zeros((nx, nz), np.bool_)
    centres_x = x0 + (np.arange(nx) + 0.5) * cell
    centres_z = z0 + (np.arange(nz) + 0.5) * cell
    for kind, target in (("walkable", forced), ("blocked", blocked)):
        for area in marks.get(kind, []):
            in_x = (centres_x >= area["min"][0]) & (centres_x <= area["max"][0])
            in_z = (centres_z >= area["min"][1]) & (centres_z <= area["max"][1])
            box = in_x[:, None] & in_z[None, :]
            target |= box
            if kind == "walkable":
                stand[box & np.isnan(stand)] = 0.0 if "floor" not in area else area["floor"]
                if "floor" in area:
                    stand[box] = area["floor"]
    seeds = np.zeros((nx, nz), np.bool_)
    seeds |= forced
    for x, _, z in spawns:
        i, j = math.floor((x - x0) / cell), math.floor((z - z0) / cell)
        if 0 <= i < nx and 0 <= j < nz:
            seeds[i, j] = True
    floor = _flood(stand, seeds & ~blocked, blocked, STEP_M)
    top = _tops(floor, columns, y0, layer_m, max(1, math.ceil(LEAN_M / cell)), CLEARANCE_M)
    return WalkGrid(x0, z0, cell, floor, top)


@njit(cache=True)
def _clip(xs, ys, zs, n, axis, value, keep_above, ox, oy, oz):  # pragma: no cover - compiled
    """Sutherland-Hodgman: the polygon (xs, ys, zs)[:n] clipped to x or z >= / <= value, into (ox, oy, oz)."""
    m = 0
    for k in range(n):
        ax, ay, az = xs[k], ys[k], zs[k]
        bx, by, bz = xs[(k + 1) % n], ys[(k + 1) % n], zs[(k + 1) % n]
        a = (ax if axis == 0 else az) - value
        b = (bx if axis == 0 else bz) - value
        if not keep_above:
            a, b = -a, -b
        if a >= 0:
            ox[m], oy[m], oz[m] = ax, ay, az
            m += 1
        if (a >= 0) != (b >= 0):
            t = a / (a - b)
            ox[m], oy[m], oz[m] = ax + t * (bx - ax), ay + t * (by - ay), az + t * (bz - az)
            m += 1
    return m


@njit(cache=True)
def _rasterise(tris, x0, z0, cell, y0, layer_m, columns):  # pragma: no cover - compiled
    """Every triangle into the columns it crosses: each layer it touches keeps the highest y found there."""
    nx, nz, layers = columns.shape
    ax, ay, az = np.empty(16), np.empty(16), np.empty(16)
    bx, by, bz = np.empty(16), np.empty(16), np.empty(16)
    for t in range(tris.shape[0]):
        tx0 = min(tris[t, 0, 0], tris[t, 1, 0], tris[t, 2, 0])
        tx1 = max(tris[t, 0, 0], tris[t, 1, 0], tris[t, 2, 0])
        tz0 = min(tris[t, 0, 2], tris[t, 1, 2], tris[t, 2, 2])
        tz1 = max(tris[t, 0, 2], tris[t, 1, 2], tris[t, 2, 2])
        if not (math.isfinite(tx0) and math.isfinite(tx1) and math.isfinite(tz0) and math.isfinite(tz1)):
            continue
        i0 = max(0, int(math.floor((tx0 - x0) / cell)))
        i1 = min(nx - 1, int(math.floor((tx1 - x0) / cell)))
        j0 = max(0, int(math.floor((tz0 - z0) / cell)))
        j1 = min(nz - 1, int(math.floor((tz1 - z0) / cell)))
        for i in range(i0, i1 + 1):
            cx0 = x0 + i * cell
            for j in range(j0, j1 + 1):
                cz0 = z0 + j * cell
                for k in range(3):
                    ax[k], ay[k], az[k] = tris[t, k, 0], tris[t, k, 1], tris[t, k, 2]
                n = _clip(ax, ay, az, 3, 0, cx0, True, bx, by, bz)
                n = _clip(bx, by, bz, n, 0, cx0 + cell, False, ax, ay, az)
                n = _clip(ax, ay, az, n, 2, cz0, True, bx, by, bz)
                n = _clip(bx, by, bz, n, 2, cz0 + cell, False, ax, ay, az)
                if n == 0:
                    continue
                low, high = ay[0], ay[0]
                for k in range(1, n):
                    low = min(low, ay[k])
                    high = max(high, ay[k])
                l0 = max(0, int(math.floor((low - y0) / layer_m)))
                l1 = min(layers - 1, int(math.floor((high - y0) / layer_m)))
                for layer in range(l0, l1 + 1):
                    y = min(high, y0 + (layer + 1) * layer_m)
                    if y > columns[i, j, layer]:
                        columns[i, j, layer] = y


@njit(cache=True)
def _floors(columns, y0, layer_m, clearance_m):  # pragma: no cover - compiled
    """Per cell, the lowest surface with ``clearance_m`` free above it (NaN if none)."""
    nx, nz, layers = columns.shape
    clear = int(math.ceil(clearance_m / layer_m))
    stand = np.full((nx, nz), np.nan, np.float32)
    for i in range(nx):
        for j in range(nz):
            for s in range(layers):
                if columns[i, j, s] == -np.inf:
                    continue
                free = True
                for layer in range(s + 1, min(layers, s + 1 + clear)):
                    if columns[i, j, layer] != -np.inf:
                        free = False
                        break
                if free:
                    stand[i, j] = columns[i, j, s]
                    break
    return stand


@njit(cache=True)
def _flood(stand, seeds, blocked, step_m):  # pragma: no cover - compiled
    """The floors reachable from the seeds in steps of at most ``step_m`` between side-by-side cells."""
    nx, nz = stand.shape
    floor = np.full((nx, nz), np.nan, np.float32)
    queue = np.empty(nx * nz, np.int64)
    head, tail = 0, 0
    for i in range(nx):
        for j in range(nz):
            if seeds[i, j] and not math.isnan(stand[i, j]):
                floor[i, j] = stand[i, j]
                queue[tail] = i * nz + j
                tail += 1
    while head < tail:
        c = queue[head]
        head += 1
        i, j = c // nz, c % nz
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, b = i + di, j + dj
            if a < 0 or b < 0 or a >= nx or b >= nz or blocked[a, b] or not math.isnan(floor[a, b]) or math.isnan(stand[a, b]):
                continue
            if abs(stand[a, b] - floor[i, j]) <= step_m:
                floor[a, b] = stand[a, b]
                queue[tail] = a * nz + b
                tail += 1
    return floor


@njit(cache=True)
def _tops(floor, columns, y0, layer_m, radius, clearance_m):  # pragma: no cover - compiled
    """Per cell nobody may stand on: the top of what is there, as high as a head near the nearby floors."""
    nx, nz, layers = columns.shape
    top = np.full((nx, nz), -np.inf, np.float32)
    for i in range(nx):
        for j in range(nz):
            if not math.isnan(floor[i, j]):
                top[i, j] = floor[i, j]
                continue
            reference = -np.inf
            for a in range(max(0, i - radius), min(nx, i + radius + 1)):
                for b in range(max(0, j - radius), min(nz, j + radius + 1)):
                    if not math.isnan(floor[a, b]) and floor[a, b] > reference:
                        reference = floor[a, b]
            if reference == -np.inf:
                top[i, j] = np.inf  # far from any floor: no head belongs here
                continue
            limit = reference + clearance_m
            highest = -np.inf
            for layer in range(layers):
                if y0 + layer * layer_m >= limit:
                    break
                if columns[i, j, layer] > highest:
                    highest = columns[i, j, layer]
            top[i, j] = np.inf if highest >= limit - layer_m else highest
    return top


# -- the check of one pose -----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _at(x, y, z, anchor_x, anchor_z, floor, top, x0, z0, cell, lean_m):  # pragma: no cover - compiled
    """0 if a head at (x, y, z) is fine (2 if on walkable floor), else NOT_WALKABLE or INSIDE_SOLID; as code, 0/1."""
    nx, nz = floor.shape
    i = int(math.floor((x - x0) / cell))
    j = int(math.floor((z - z0) / cell))
    if i < 0 or j < 0 or i >= nx or j >= nz:
        return NOT_WALKABLE, 0
    f = floor[i, j]
    if not math.isnan(f):
        if y < f + HEAD_MIN_M or y > f + HEAD_MAX_M:
            return INSIDE_SOLID, 0
        return WALK_OK, 1
    t = top[i, j]
    if t == np.inf or (x - anchor_x) ** 2 + (z - anchor_z) ** 2 > lean_m * lean_m:
        return NOT_WALKABLE, 0
    if y < t + HEAD_OVER_M:
        return INSIDE_SOLID, 0
    return WALK_OK, 0


@njit(cache=True, error_model="numpy")
def check_pose(
    slot, pose, teleport, has_previous, previous, anchor, floor, top, x0, z0, cell,
):  # fmt: skip  # pragma: no cover - compiled
    """The walk check of one uplink pose (head only): WALK_OK or a reason code.

    ``previous`` is the visitor's last accepted head position, ``anchor[slot]`` the (x, z) where the visitor last
    stood on walkable floor; on WALK_OK over walkable floor the anchor becomes the new head position only once the
    caller has accepted the pose (``stands`` below)."""
    x, y, z = pose[0, 0], pose[0, 1], pose[0, 2]
    ax, az = anchor[slot, 0], anchor[slot, 1]
    code, on_floor = _at(x, y, z, ax, az, floor, top, x0, z0, cell, LEAN_M)
    if code != WALK_OK:
        return code
    if teleport or not has_previous:
        return WALK_OK
    px, py, pz = previous[0], previous[1], previous[2]
    start, _ = _at(px, py, pz, ax, az, floor, top, x0, z0, cell, LEAN_M)
    if start != WALK_OK:  # already somewhere it should not be (the scene changed under it): let it walk out
        return WALK_OK
    distance = math.sqrt((x - px) ** 2 + (z - pz) ** 2)
    samples = min(4096, int(math.ceil(distance / (cell * 0.25))))
    for k in range(1, samples):
        t = k / samples
        sx, sy, sz = px + t * (x - px), py + t * (y - py), pz + t * (z - pz)
        code, stood = _at(sx, sy, sz, ax, az, floor, top, x0, z0, cell, LEAN_M)
        if code != WALK_OK:
            return PASSES_THROUGH
        if stood:
            ax, az = sx, sz
    return WALK_OK


@njit(cache=True)
def stands(slot, pose, anchor, floor, x0, z0, cell):  # pragma: no cover - compiled
    """After an accepted pose: if the head is over walkable floor, that is where the visitor now stands."""
    nx, nz = floor.shape
    i = int(math.floor((pose[0, 0] - x0) / cell))
    j = int(math.floor((pose[0, 2] - z0) / cell))
    if 0 <= i < nx and 0 <= j < nz and not math.isnan(floor[i, j]):
        anchor[slot, 0] = pose[0, 0]
        anchor[slot, 1] = pose[0, 2]


def warm_up() -> None:
    """Compile (or load from numba's cache) the per-pose kernels with the types the server uses."""
    grid = build_grid(np.array([[[-1, 0, -1], [1, 0, -1], [0, 0, 1]]], np.float64), (-2, -1, -2), (2, 3, 2), [(0.0, 0.0, 0.0)])
    pose = np.frombuffer(np.zeros((3, 7), "<f4").tobytes(), dtype="<f4").reshape(3, 7)
    anchor = np.zeros((1, 2))
    previous = np.zeros((1, 3, 7), np.float32)[0, 0]
    check_pose(0, pose, False, True, previous, anchor, grid.floor, grid.top, grid.origin_x, grid.origin_z, grid.cell_m)
    stands(0, pose, anchor, grid.floor, grid.origin_x, grid.origin_z, grid.cell_m)
