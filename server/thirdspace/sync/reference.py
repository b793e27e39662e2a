"""Plain NumPy/Python versions of the sync kernels, written for clarity, not speed.

The property tests run both on random rooms and require identical results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, FRAME_SNAPSHOT_V2
from thirdspace.sync.layout import (
    FLAG_BITS,
    ID_BITS,
    NEW_COUNT_BITS,
    POS_STEPS_PER_M,
    QUAT_BITS,
    QUAT_DELTA_MAX_WIDTH,
    QUAT_INDEX_SHIFT,
    QUAT_MAX,
    QUAT_PACKED_BITS,
    QUAT_RANGE,
    SNAPSHOT_FULL,
    WIDTH_ABSOLUTE,
    WIDTH_BITS,
)

HANDS = ((1, FLAG_LEFT), (2, FLAG_RIGHT))


def quantise(parts: np.ndarray, bounds_min: np.ndarray, axis_max: np.ndarray) -> np.ndarray:
    parts = parts.astype(np.float64)
    out = np.empty(parts.shape[:2] + (4,), np.int64)
    steps = np.floor((parts[..., :3] - bounds_min) * POS_STEPS_PER_M + 0.5)
    out[..., :3] = np.clip(steps, 0, axis_max)
    for index in np.ndindex(parts.shape[:2]):
        out[index + (3,)] = pack_quaternion(*parts[index + (slice(3, 7),)])
    return out


def pack_quaternion(x: float, y: float, z: float, w: float) -> int:
    q = [x, y, z, w]
    norm = math.sqrt(sum(c * c for c in q))
    if norm == 0:
        q, norm = [0.0, 0.0, 0.0, 1.0], 1.0
    largest = max(range(4), key=lambda k: (abs(q[k]), -k))
    sign = -1.0 if q[largest] < 0 else 1.0
    packed = largest << QUAT_INDEX_SHIFT
    shift = 2 * QUAT_BITS
    for k in range(4):
        if k != largest:
            v = math.floor((sign * q[k] / norm + QUAT_RANGE) / (2 * QUAT_RANGE) * QUAT_MAX + 0.5)
            packed |= min(max(v, 0), QUAT_MAX) << shift
            shift -= QUAT_BITS
    return packed


def unpack_quaternion(packed: int) -> np.ndarray:
    largest = packed >> QUAT_INDEX_SHIFT
    small = [((packed >> shift) & QUAT_MAX) / QUAT_MAX * 2 * QUAT_RANGE - QUAT_RANGE for shift in (2 * QUAT_BITS, QUAT_BITS, 0)]
    q = small[:largest] + [math.sqrt(max(0.0, 1 - sum(c * c for c in small)))] + small[largest:]
    return np.array(q)


def select_interest(positions, has_pose, ids, always_slots, clients, radius_m, k):
    """Brute force: every other posed avatar, by (distance squared, id)."""
    positions = positions.astype(np.float64)
    always = [s for s in always_slots]
    result = {}
    for c in clients:
        chosen = []
        for s in always:
            if s != c and has_pose[s]:
                d2 = float(np.sum((positions[c] - positions[s]) ** 2)) if has_pose[c] else 0.0
                chosen.append((s, d2))
        n_always = len(chosen)
        if has_pose[c]:
            near = []
            for s in range(len(positions)):
                if s == c or not has_pose[s] or s in always:
                    continue
                d = positions[c] - positions[s]
                d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
                if d2 <= radius_m * radius_m:
                    near.append((d2, int(ids[s]), s))
            near.sort()
            chosen += [(s, d2) for d2, _, s in near[:k]]
        result[c] = (chosen, n_always)
    return result


class BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.bits = 0

    def put(self, value: int, nbits: int) -> None:
        self.value |= (int(value) & ((1 << nbits) - 1)) << self.bits
        self.bits += nbits

    def to_bytes(self) -> bytes:
        return self.value.to_bytes((self.bits + 7) // 8, "little")


def _zigzag(d: int) -> int:
    return (d << 1) if d >= 0 else ((-d) << 1) - 1


def _part_full(w: BitWriter, cur: np.ndarray, axis_bits: Sequence[int]) -> None:
    for a in range(3):
        w.put(cur[a], axis_bits[a])
    w.put(int(cur[3]), QUAT_PACKED_BITS)


def _part_delta(w: BitWriter, held: np.ndarray, cur: np.ndarray, known: bool, axis_bits: Sequence[int]) -> None:
    if known and all(int(held[a]) == int(cur[a]) for a in range(4)):
        w.put(0, 1)
        return
    w.put(1, 1)
    deltas = [int(cur[a]) - int(held[a]) for a in range(3)] if known else []
    width = max(_zigzag(d).bit_length() for d in deltas) if known else WIDTH_ABSOLUTE
    if width >= WIDTH_ABSOLUTE:
        w.put(WIDTH_ABSOLUTE, WIDTH_BITS)
        for a in range(3):
            w.put(cur[a], axis_bits[a])
    else:
        w.put(width, WIDTH_BITS)
        for d in deltas:
            w.put(_zigzag(d), width)
    cur_q, held_q = int(cur[3]), int(held[3])
    if known and cur_q == held_q:
        w.put(0, 1)
        return
    w.put(1, 1)
    if known and cur_q >> QUAT_INDEX_SHIFT == held_q >> QUAT_INDEX_SHIFT:
        deltas = [((cur_q >> s) & QUAT_MAX) - ((held_q >> s) & QUAT_MAX) for s in (2 * QUAT_BITS, QUAT_BITS, 0)]
        width = max(_zigzag(d).bit_length() for d in deltas)
        if width <= QUAT_DELTA_MAX_WIDTH:
            w.put(1, 1)
            w.put(width, WIDTH_BITS)
            for d in deltas:
                w.put(_zigzag(d), width)
            return
    w.put(0, 1)
    w.put(cur_q, QUAT_PACKED_BITS)


def _full(w: BitWriter, cur: np.ndarray, flags: int, axis_bits: Sequence[int]) -> None:
    w.put(flags, FLAG_BITS)
    _part_full(w, cur[0], axis_bits)
    for part, bit in HANDS:
        if flags & bit:
            _part_full(w, cur[part], axis_bits)


def _update(w: BitWriter, held: np.ndarray, held_flags: int, known: bool, cur: np.ndarray, flags: int, axis_bits: Sequence[int]) -> None:
    w.put(flags, FLAG_BITS)
    _part_delta(w, held[0], cur[0], known, axis_bits)
    for part, bit in HANDS:
        if flags & bit:
            if held_flags & bit:
                _part_delta(w, held[part], cur[part], known, axis_bits)
            else:
                _part_full(w, cur[part], axis_bits)


def _cost(fn: Callable[..., None], *args: Any) -> int:
    w = BitWriter()
    fn(w, *args)
    return w.bits


def _changed(held: np.ndarray, held_flags: int, cur: np.ndarray, flags: int) -> bool:
    tracked = FLAG_LEFT | FLAG_RIGHT
    if held_flags & tracked != flags & tracked:
        return True
    parts = [0] + [p for p, bit in HANDS if flags & bit]
    return any(not np.array_equal(held[p], cur[p]) for p in parts)


class ReferenceEncoder:
    """The per-client delta encoder, one client at a time, with dictionaries.

    ``views[client][seq]`` is the view the client holds after snapshot ``seq``:
    ``{visitor_id: (state_tick, acc, flags)}``; ``history[tick]`` the quantised room."""

    def __init__(self, ring: int, history: int, axis_bits: Iterable[int], full_rate_m: float, budget_bits: int):
        self.ring, self.history_len = ring, history
        self.axis_bits = [int(b) for b in axis_bits]
        self.full_rate_m, self.budget_bits = full_rate_m, budget_bits
        self.views: dict[int, dict[int, dict[int, tuple[int, float, int]]]] = {}
        self.seq: dict[int, int] = {}
        self.history: dict[int, np.ndarray] = {}

    def encode(
        self,
        tick: int,
        client: int,
        ack: int | None,
        ids: np.ndarray,
        q: np.ndarray,
        flags: np.ndarray,
        chosen: Sequence[tuple[int, float]],
        n_always: int,
    ) -> bytes:
        self.history[tick] = q.copy()
        for old in [t for t in self.history if t <= tick - self.history_len]:
            del self.history[old]
        views = self.views.setdefault(client, {})
        last = self.seq.get(client, 0)
        seq = (last + 1) & 0xFFFF
        previous = views.get(last, {})
        full = not (ack is not None and ack in views and ((seq - ack) & 0xFFFF) < self.ring)
        base = views[ack] if ack is not None and not full else {}
        base_ids = sorted(base)
        slot_of = {int(ids[s]): s for s, _ in chosen}
        used = 48 + 2 * len(base) + 1 + NEW_COUNT_BITS
        status = {vid: "removed" for vid in base_ids}
        view: dict[int, tuple[int, float, int]] = {}
        new: list[int] = []
        for index, (slot, d2) in enumerate(chosen):
            vid = int(ids[slot])
            distance = math.sqrt(d2)
            weight = 1.0 if index < n_always or distance <= self.full_rate_m else self.full_rate_m / distance
            acc = min((previous[vid][1] if vid in previous else 0.0) + weight, 2.0)
            cur, cur_flags = q[slot], int(flags[slot])
            if cur_flags & FLAG_TELEPORT or vid not in previous:
                acc = max(acc, 1.0)  # a jump, or an avatar new to the view or back in it, goes out now
            if vid in base:
                held_tick, _, held_flags = base[vid]
                known = tick - held_tick < self.history_len
                held = self.history[held_tick][slot] if known else np.zeros((3, 4), np.int64)
                status[vid] = "keep"
                fresh = False
                if known and not _changed(held, held_flags, cur, cur_flags):
                    fresh = True
                elif acc >= 1.0:
                    cost = _cost(_update, held, held_flags, known, cur, cur_flags, self.axis_bits)
                    if used + cost <= self.budget_bits:
                        used += cost
                        status[vid] = "update"
                        fresh = True
                        acc -= 1.0
                if fresh:
                    view[vid] = (tick, acc, cur_flags & ~FLAG_TELEPORT)
                else:
                    view[vid] = (held_tick, acc, held_flags)
            elif len(new) < (1 << NEW_COUNT_BITS):
                cost = ID_BITS + _cost(_full, cur, cur_flags, self.axis_bits)
                if used + cost <= self.budget_bits:
                    used += cost
                    new.append(vid)
                    view[vid] = (tick, acc - 1.0 if acc >= 1.0 else 0.0, cur_flags & ~FLAG_TELEPORT)
        w = BitWriter()
        w.put(FRAME_SNAPSHOT_V2, 8)
        w.put(SNAPSHOT_FULL if full else 0, 8)
        w.put(seq, 16)
        w.put(0 if full or ack is None else ack, 16)
        for vid in base_ids:
            if status[vid] == "keep":
                w.put(0, 1)
            elif status[vid] == "removed":
                w.put(3, 2)
            else:
                slot = slot_of[vid]
                held_tick, _, held_flags = base[vid]
                known = tick - held_tick < self.history_len
                held = self.history[held_tick][slot] if known else np.zeros((3, 4), np.int64)
                w.put(1, 2)
                _update(w, held, held_flags, known, q[slot], int(flags[slot]), self.axis_bits)
        if not new:
            w.put(0, 1)
        else:
            w.put(1, 1)
            w.put(len(new) - 1, NEW_COUNT_BITS)
            for vid in sorted(new):
                w.put(vid, ID_BITS)
                _full(w, q[slot_of[vid]], int(flags[slot_of[vid]]), self.axis_bits)
        views[seq] = view
        for old in [s for s in views if ((seq - s) & 0xFFFF) >= self.ring]:
            del views[old]
        self.seq[client] = seq
        return w.to_bytes()
