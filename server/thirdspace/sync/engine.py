"""The sync state of one room and its tick: arrays in, one buffer of snapshots out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thirdspace.protocol.constants import FLAG_TELEPORT
from thirdspace.sync import kernels, validate
from thirdspace.sync.layout import ID_BITS, SNAPSHOT_V2_HEADER_SIZE, axis_bits

CELL_OCCUPANCY = 2.0  # posed avatars per grid cell, on average, when they spread over the floor
MIN_CELL_M = 0.25
KEPT_FLAGS = np.uint8(0xFF ^ FLAG_TELEPORT)  # the teleport flag lives for one tick and is not part of a held state


@dataclass(frozen=True)
class SyncSettings:
    interest_radius_m: float = 30.0
    max_visible: int = 64  # K nearest avatars a visitor receives
    max_always_visible: int = 16  # e.g. tour guides, seen from anywhere
    full_rate_m: float = 10.0  # nearer avatars may update every tick; farther ones less often
    budget_bytes: int = 1200  # per connection per tick
    ring: int = 16  # snapshots remembered per client: an ack older than this gets a full snapshot
    history: int = 32  # ticks of quantised room state kept for delta baselines
    shared_ages: int = 8  # updates from up to this many ticks ago (acks up to 400 ms late) are encoded once per avatar, not per client


@dataclass
class TickOutput:
    """Snapshots of one tick: client ``slot``'s bytes are ``buffer[offset[slot]:offset[slot] + length[slot]]``."""

    buffer: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    updates: np.ndarray  # avatars sent (updated or new) per client
    parts: np.ndarray  # tracked parts (heads and hands) in those avatars

    def snapshot(self, slot: int) -> memoryview:
        start = int(self.offset[slot])
        return self.buffer.data[start : start + int(self.length[slot])]


class SyncEngine:
    def __init__(self, capacity: int, bounds_min: ArrayLike, bounds_max: ArrayLike, settings: SyncSettings | None = None):
        self.settings = s = settings or SyncSettings()
        self.capacity = capacity
        self.bounds_min = np.asarray(bounds_min, np.float64)
        self.span = span = np.asarray(bounds_max, np.float64) - self.bounds_min
        self.axis_bits = np.array([axis_bits(v) for v in span], np.int64)
        self.axis_max = np.array([round(v * 512) for v in span], np.int64)
        self.width = width = s.max_visible + s.max_always_visible
        # Everything the tick touches is allocated here, once: the tick itself allocates nothing.
        self.q = np.zeros((capacity, 3, 4), np.int64)
        self.hist_q = np.zeros((s.history, capacity, 3, 4), np.int64)
        self.hist_flags = np.zeros((s.history, capacity), np.uint8)
        self.positions = np.zeros((capacity, 3), np.float64)
        # per-avatar encodings shared by all clients: [0] in full, [k] as an update from k ticks ago
        kinds = min(s.shared_ages, s.history - 1) + 1
        self.cache_bits = np.zeros((kinds, capacity, 6), np.uint64)  # 384 bits: any one avatar
        self.cache_len = np.zeros((kinds, capacity), np.int32)
        self.cache_tick = np.full((kinds, capacity), -1, np.int64)
        self.cache_changed = np.zeros((kinds, capacity), np.bool_)
        self.sel_slot = np.zeros((capacity, width), np.int32)
        self.sel_d2 = np.zeros((capacity, width), np.float64)
        self.sel_count = np.zeros(capacity, np.int32)
        self.sel_always = np.zeros(capacity, np.int32)
        self.sel_kth_d2 = np.full(capacity, -1.0)  # each client's k-th nearest last tick: where its next search starts
        self.ring_ids = np.zeros((capacity, s.ring, width), np.uint16)
        self.ring_tick = np.zeros((capacity, s.ring, width), np.int64)
        self.ring_acc = np.zeros((capacity, s.ring, width), np.float64)
        self.ring_flags = np.zeros((capacity, s.ring, width), np.uint8)
        self.ring_count = np.zeros((capacity, s.ring), np.int32)
        self.ring_seq = np.full((capacity, s.ring), -1, np.int64)
        self.client_seq = np.zeros(capacity, np.int64)
        self.client_ack = np.full(capacity, -1, np.int64)
        # spatial hash: square cells sized each tick for about CELL_OCCUPANCY posed avatars each
        self.max_cells = max(64, 2 * capacity)
        self.cell_m = self._cell_size(capacity)
        self.grid_x, self.grid_z = self._grid(self.cell_m)
        self.cell_of = np.zeros(capacity, np.int32)
        self.cell_start = np.zeros(self.max_cells + 1, np.int32)
        self.cell_items = np.zeros(capacity, np.int32)
        self.cell_pos = np.zeros((capacity, 3), np.float64)
        self.cell_id = np.zeros(capacity, np.int32)
        self.is_always = np.zeros(capacity, np.bool_)
        self._cand_d2 = np.zeros(capacity, np.float64)
        self._cand_id = np.zeros(capacity, np.int32)
        self._cand_slot = np.zeros(capacity, np.int32)
        self._cand_bucket = np.zeros(capacity, np.int32)
        self._order = np.zeros(capacity, np.int32)
        self._counts = np.zeros(kernels.DISTANCE_BUCKETS + 1, np.int32)
        # the encoder's scratch space
        self._status = np.zeros(width, np.int8)
        self._base_slot = np.zeros(width, np.int32)
        self._base_acc = np.zeros(width, np.float64)
        self._new_slot = np.zeros(width, np.int32)
        self._new_id = np.zeros(width, np.int32)
        self._new_acc = np.zeros(width, np.float64)
        self._fresh = np.zeros(width, np.bool_)
        self._index_of_id = np.full(1 << ID_BITS, -1, np.int32)
        self._prev_index_of_id = np.full(1 << ID_BITS, -1, np.int32)
        self._row_id = np.zeros(width, np.int32)
        self._row_tick = np.zeros(width, np.int64)
        self._row_acc = np.zeros(width, np.float64)
        self._row_flags = np.zeros(width, np.uint8)
        self._scratch = np.zeros(self.cache_bits.shape[2] + 2, np.uint64)
        # worst case per client: header, 2 bits per held avatar, the new-count, and the budget;
        # a multiple of 8 bytes, since the kernels write 64-bit words
        stride = max(s.budget_bytes, 64) + SNAPSHOT_V2_HEADER_SIZE + (2 * width + 9) // 8 + 64
        self.stride = (stride + 7) // 8 * 8
        self.budget_bits = s.budget_bytes * 8
        # two buffers, alternating per tick, so a slice handed out stays valid for a whole tick
        self._buffers = [np.zeros(capacity * self.stride // 8 + 1, np.uint64) for _ in range(2)]
        self.offset = np.arange(capacity, dtype=np.int64) * self.stride
        self.length = np.zeros(capacity, np.int64)
        self.updates = np.zeros(capacity, np.int64)
        self.parts_sent = np.zeros(capacity, np.int64)
        self._outputs = [TickOutput(b.view(np.uint8), self.offset, self.length, self.updates, self.parts_sent) for b in self._buffers]

    def _cell_size(self, posed: int) -> float:
        """Cells of about CELL_OCCUPANCY avatars when ``posed`` avatars spread over the floor, no wider than the radius."""
        area = float(max(self.span[0], 1e-3) * max(self.span[2], 1e-3))
        cell = math.sqrt(area * CELL_OCCUPANCY / max(posed, 1))
        cell = min(max(cell, MIN_CELL_M), self.settings.interest_radius_m)
        while self._cells(cell) > self.max_cells:
            cell *= 1.25
        return cell

    def _grid(self, cell_m: float) -> tuple[int, int]:
        return max(1, math.ceil(self.span[0] / cell_m)), max(1, math.ceil(self.span[2] / cell_m))

    def _cells(self, cell_m: float) -> int:
        gx, gz = self._grid(cell_m)
        return gx * gz

    def reset_client(self, slot: int) -> None:
        """A new visitor in ``slot``: no views, no acks."""
        self.ring_seq[slot] = -1
        self.ring_count[slot] = 0
        self.client_seq[slot] = 0
        self.client_ack[slot] = -1
        self.length[slot] = 0
        self.updates[slot] = 0
        self.parts_sent[slot] = 0
        self.sel_kth_d2[slot] = -1.0

    def acknowledge(self, slot: int, seq: int) -> None:
        self.client_ack[slot] = seq

    def select(self, positions: np.ndarray, has_pose: np.ndarray, ids: np.ndarray, clients: np.ndarray, always_slots: np.ndarray) -> None:
        """Grid the posed avatars and choose what each client sees (``sel_*``): the interest stage of a tick."""
        s = self.settings
        posed = int(np.count_nonzero(has_pose))
        cell_m = self._cell_size(posed)
        if cell_m != self.cell_m:
            self.cell_m = cell_m
            self.grid_x, self.grid_z = self._grid(cell_m)
        kernels.build_grid(
            positions, has_pose, self.bounds_min, self.cell_m, self.grid_x, self.grid_z, self.cell_of, self.cell_start, self.cell_items
        )
        kernels.sort_by_cell(positions, ids, self.cell_items, posed, self.cell_pos, self.cell_id)
        kernels.select_interest(
            clients, positions, has_pose, ids, always_slots, s.interest_radius_m, s.max_visible, self.bounds_min, self.cell_m,
            self.grid_x, self.grid_z, self.cell_start, self.cell_items, self.cell_pos, self.cell_id, self.is_always,
            self.sel_slot, self.sel_d2, self.sel_count, self.sel_always, self.sel_kth_d2,
            self._cand_d2, self._cand_id, self._cand_slot, self._cand_bucket, self._order, self._counts,
        )  # fmt: skip

    def tick(
        self,
        tick: int,
        parts: np.ndarray,
        flags: np.ndarray,
        has_pose: np.ndarray,
        ids: np.ndarray,
        clients: np.ndarray,
        always_slots: np.ndarray,
    ) -> TickOutput:
        s = self.settings
        always_slots = always_slots[: s.max_always_visible]  # the selection arrays hold this many, no more
        kernels.quantise(parts, self.bounds_min, self.axis_max, self.q)
        row = tick % s.history
        self.hist_q[row] = self.q
        np.bitwise_and(flags, KEPT_FLAGS, out=self.hist_flags[row])
        positions = self.positions[: len(parts)]
        np.copyto(positions, parts[:, 0, :3])
        self.select(positions, has_pose, ids, clients, always_slots)
        index = tick & 1
        kernels.encode_snapshots(
            tick, clients, ids, self.q, flags, self.hist_q, self.sel_slot, self.sel_d2, self.sel_count, self.sel_always,
            self.ring_ids, self.ring_tick, self.ring_acc, self.ring_flags, self.ring_count, self.ring_seq, self.client_seq,
            self.client_ack, self.axis_bits, s.full_rate_m, self.budget_bits, self._buffers[index], self.offset, self.length,
            self.updates, self.parts_sent, self.hist_flags, self.cache_bits, self.cache_len, self.cache_tick, self.cache_changed,
            self._status, self._base_slot, self._base_acc, self._new_slot, self._new_id, self._new_acc, self._fresh,
            self._index_of_id, self._prev_index_of_id, self._row_id, self._row_tick, self._row_acc, self._row_flags, self._scratch,
        )  # fmt: skip
        return self._outputs[index]


def warm_up() -> None:
    """Compile (or load from cache) every kernel with the argument types the server uses."""
    validate.warm_up()
    engine = SyncEngine(4, (-5, -1, -5), (5, 4, 5))
    parts = np.zeros((4, 3, 7), np.float32)
    parts[:, :, 6] = 1
    parts[:, 0, :3] = [[0, 1.6, 0], [1, 1.6, 0], [0, 1.6, 1], [2, 1.6, 2]]
    flags = np.zeros(4, np.uint8)
    has_pose = np.ones(4, np.bool_)
    ids = np.arange(1, 5, dtype=np.uint16)
    clients = np.arange(4, dtype=np.int64)
    for tick in range(3):
        engine.tick(tick, parts, flags, has_pose, ids, clients, np.array([3], np.int64))
        engine.acknowledge(0, int(engine.client_seq[0]))
