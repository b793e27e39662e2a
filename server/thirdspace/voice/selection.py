"""Which visitors hear which: voice pairs chosen from the sync grid.

A voice pair joins two listening visitors of whom at least one speaks. Pairs are
symmetric (one peer connection, or one subscription each way that has a speaker),
chosen greedily nearest first so that nobody holds more than ``k`` ordinary pairs:

- a new pair needs the two within ``enter_m``; a pair that exists is kept until they
  are ``exit_m`` apart, and ranks as if it were ``KEEP_FACTOR`` of its distance
  (hysteresis: voices do not flicker at the edge of hearing or when a nearer
  visitor passes by);
- forced pairs (a guide and the tour's members, an announcer and the room) come
  from the caller, do not count against ``k``, and are never chosen again here.

The candidates come from the spatial hash the sync tick built
(:func:`thirdspace.sync.kernels.build_grid`), so the selection costs a walk over
nearby cells, not a pass over every pair in the room. :func:`select_pairs_reference`
is the same rule in plain Python, for the tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

KEEP_FACTOR = 0.5  # a pair that exists competes as if half as far as it is: a newcomer must be twice as near


@njit(cache=True, error_model="numpy", inline="always")
def _is_partner(partners, partner_count, a, b):
    for j in range(partner_count[a]):
        if partners[a, j] == b:
            return True
    return False


@njit(cache=True, error_model="numpy", inline="always")
def _is_forced(forced_a, forced_b, a, b):
    for j in range(forced_a.shape[0]):
        if (forced_a[j] == a and forced_b[j] == b) or (forced_a[j] == b and forced_b[j] == a):
            return True
    return False


@njit(cache=True, error_model="numpy")
def select_pairs(
    members, listens, speaks, ids, positions, bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items,
    partners, partner_count, forced_a, forced_b, enter_m, exit_m, k, out_a, out_b,
):  # fmt: skip
    """Write the chosen ordinary pairs (slots, ``out_a[i] < out_b[i]`` by id) and return how many.

    ``members`` are the listening slots; ``partners[slot, :partner_count[slot]]`` the slots it is paired with now;
    ``out_a``/``out_b`` must hold ``len(members) * k // 2 + 1`` pairs."""
    enter2 = enter_m * enter_m
    exit2 = exit_m * exit_m
    reach = int(math.ceil(exit_m / cell_m))
    size = max(16, members.shape[0] * 8)
    cand_a = np.empty(size, np.int64)
    cand_b = np.empty(size, np.int64)
    cand_score = np.empty(size, np.float64)
    found = 0
    for mi in range(members.shape[0]):
        a = members[mi]
        cx = min(max(int((positions[a, 0] - bounds_min[0]) / cell_m), 0), grid_x - 1)
        cz = min(max(int((positions[a, 2] - bounds_min[2]) / cell_m), 0), grid_z - 1)
        for gz in range(max(cz - reach, 0), min(cz + reach, grid_z - 1) + 1):
            for gx in range(max(cx - reach, 0), min(cx + reach, grid_x - 1) + 1):
                cell = gz * grid_x + gx
                for item in range(cell_start[cell], cell_start[cell + 1]):
                    b = cell_items[item]
                    if not listens[b] or ids[b] <= ids[a] or not (speaks[a] or speaks[b]):
                        continue  # each pair once, from its lower id
                    dx = positions[a, 0] - positions[b, 0]
                    dy = positions[a, 1] - positions[b, 1]
                    dz = positions[a, 2] - positions[b, 2]
                    d2 = dx * dx + dy * dy + dz * dz
                    if d2 > exit2:
                        continue
                    kept = _is_partner(partners, partner_count, a, b)
                    if (d2 > enter2 and not kept) or _is_forced(forced_a, forced_b, a, b):
                        continue
                    if found == size:  # grow
                        size *= 2
                        cand_a = _grown(cand_a, size)
                        cand_b = _grown(cand_b, size)
                        cand_score = _grown_f(cand_score, size)
                    cand_a[found] = a
                    cand_b[found] = b
                    cand_score[found] = d2 * (KEEP_FACTOR * KEEP_FACTOR) if kept else d2
                    found += 1
    order = np.argsort(cand_score[:found], kind="mergesort")
    # equal scores: by (lower id, higher id), so the result does not depend on the grid's order
    start = 0
    while start < found:
        end = start + 1
        while end < found and cand_score[order[end]] == cand_score[order[start]]:
            end += 1
        for x in range(start + 1, end):
            j = order[x]
            y = x - 1
            while y >= start and (ids[cand_a[j]], ids[cand_b[j]]) < (ids[cand_a[order[y]]], ids[cand_b[order[y]]]):
                order[y + 1] = order[y]
                y -= 1
            order[y + 1] = j
        start = end
    degree = np.zeros(positions.shape[0], np.int64)
    n = 0
    for x in range(found):
        j = order[x]
        a = cand_a[j]
        b = cand_b[j]
        if degree[a] < k and degree[b] < k:
            degree[a] += 1
            degree[b] += 1
            out_a[n] = a
            out_b[n] = b
            n += 1
    return n


@njit(cache=True, error_model="numpy", inline="always")
def _grown(values, size):
    out = np.empty(size, np.int64)
    out[: values.shape[0]] = values
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _grown_f(values, size):
    out = np.empty(size, np.float64)
    out[: values.shape[0]] = values
    return out


def select_pairs_reference(
    positions: dict[int, tuple[float, float, float]],
    listens: set[int],
    speaks: set[int],
    current: set[tuple[int, int]],
    forced: set[tuple[int, int]],
    enter_m: float,
    exit_m: float,
    k: int,
) -> set[tuple[int, int]]:
    """The rule of :func:`select_pairs` over visitor ids, without a grid: ordinary pairs as (lower id, higher id)."""
    forced_pairs = {(min(a, b), max(a, b)) for a, b in forced}
    candidates = []
    for a in sorted(listens):
        for b in sorted(listens):
            if b <= a or not (a in speaks or b in speaks) or (a, b) in forced_pairs:
                continue
            d2 = sum((pa - pb) ** 2 for pa, pb in zip(positions[a], positions[b], strict=True))
            kept = (a, b) in current
            if d2 > exit_m**2 or (d2 > enter_m**2 and not kept):
                continue
            candidates.append((d2 * KEEP_FACTOR**2 if kept else d2, a, b))
    degree: dict[int, int] = {}
    chosen = set()
    for _, a, b in sorted(candidates):
        if degree.get(a, 0) < k and degree.get(b, 0) < k:
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
            chosen.add((a, b))
    return chosen


def warm_up() -> None:
    """Compile (or load from cache) the selection kernel with the argument types the rooms use."""
    from thirdspace.sync.engine import SyncEngine

    engine = SyncEngine(4, (-5, -1, -5), (5, 4, 5))
    positions = np.array([[0, 1.6, 0], [1, 1.6, 0], [0, 1.6, 1], [2, 1.6, 2]], np.float64)
    has_pose = np.ones(4, np.bool_)
    from thirdspace.sync import kernels

    kernels.build_grid(positions, has_pose, engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z,
                       engine.cell_of, engine.cell_start, engine.cell_items)  # fmt: skip
    members = np.arange(4, dtype=np.int64)
    flags = np.ones(4, np.bool_)
    ids = np.arange(1, 5, dtype=np.uint16)
    partners = np.zeros((4, 2), np.int64)
    count = np.zeros(4, np.int64)
    out = np.zeros(5, np.int64)
    select_pairs(members, flags, flags, ids, positions, engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z,
                 engine.cell_start, engine.cell_items, partners, count, np.array([0], np.int64), np.array([1], np.int64),
                 5.0, 6.0, 2, out, out.copy())  # fmt: skip
