"""Uplink poses waiting for the room's next tick, checked together in one numba call.

A pose frame is copied here as it arrives (88 bytes, no decoding) and the room checks
every waiting frame at the start of its tick, in arrival order, with the same rules and
the same result as checking each on arrival (``sync/validate.py`` and the walk check of
``scenes/walk.py``): a later pose is checked against the state the earlier ones left.
One call a tick instead of three a pose is what lets one core take a thousand walking
visitors' poses (see BENCHMARKS.md, "Load test").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from thirdspace.protocol.constants import FLAG_ACK, FLAG_TELEPORT, POSE_FRAME_SIZE
from thirdspace.scenes import walk as walking
from thirdspace.sync import validate

FRAME_WORDS = POSE_FRAME_SIZE // 4  # a frame as float32 words: the header word, then 3 parts of 7 floats


class PoseInbox:
    """Frames in arrival order, each with its visitor's slot and arrival time."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.words = np.zeros((capacity, FRAME_WORDS), np.float32)
        self.frames = self.words.view(np.uint8)  # (capacity, 88): the same memory, as bytes
        self._memory = self.frames.data.cast("B")
        self.slots = np.zeros(capacity, np.int32)
        self.times = np.zeros(capacity, np.float64)
        self.codes = np.zeros(capacity, np.int8)  # after a check: 0, or validate's reason
        self.walk_codes = np.zeros(capacity, np.int8)  # 0, or the walk check's reason
        self.count = 0
        self.received = 0  # frames ever put here

    @property
    def full(self) -> bool:
        return self.count == self.capacity

    def put(self, slot: int, frame: bytes, now: float) -> None:
        """Keep one pose frame (exactly POSE_FRAME_SIZE bytes of kind FRAME_POSE; the caller has checked)."""
        k = self.count
        start = k * POSE_FRAME_SIZE
        self._memory[start : start + POSE_FRAME_SIZE] = frame
        self.slots[k] = slot
        self.times[k] = now
        self.count = k + 1
        self.received += 1


@njit(cache=True, error_model="numpy")
def check_all(
    count, frames, words, slots, times, codes, walk_codes, pose, client_ack,
    has_grid, floor, top, x0, z0, cell, anchor,
    bounds_min, bounds_max, max_speed_mps, teleport_range_m, teleport_interval_s, hand_reach_m,
    room_parts, inbox_parts, inbox_flags, pending, last_pose_at, teleport_ready_at,
):  # fmt: skip  # pragma: no cover - compiled
    """Check ``count`` frames in order; each one's outcome goes to ``codes`` and ``walk_codes`` (0: accepted)."""
    for k in range(count):
        slot = slots[k]
        flags = np.int64(frames[k, 1])
        if flags & FLAG_ACK:  # the ack is taken even from a pose that is then dropped
            client_ack[slot] = np.int64(frames[k, 2]) | (np.int64(frames[k, 3]) << 8)
            flags &= ~FLAG_ACK
        for p in range(3):
            for a in range(7):
                pose[p, a] = words[k, 1 + 7 * p + a]
        codes[k] = 0
        walk_codes[k] = 0
        if has_grid:
            source = inbox_parts if pending[slot] else room_parts
            refused = walking.check_pose(
                slot, pose, (flags & FLAG_TELEPORT) != 0, not np.isnan(last_pose_at[slot]), source[slot, 0], anchor,
                floor, top, x0, z0, cell,
            )  # fmt: skip
            if refused != walking.WALK_OK:
                walk_codes[k] = refused
                continue
        code = validate.accept_pose(
            slot, flags, pose, times[k], bounds_min, bounds_max, max_speed_mps, teleport_range_m, teleport_interval_s,
            hand_reach_m, room_parts, inbox_parts, inbox_flags, pending, last_pose_at, teleport_ready_at,
        )  # fmt: skip
        codes[k] = code
        if code == validate.ACCEPTED and has_grid:
            walking.stands(slot, pose, anchor, floor, x0, z0, cell)


def warm_up() -> None:
    """Compile (or load from numba's cache) ``check_all`` with the types a room passes."""
    inbox = PoseInbox(1)
    frame = np.zeros(FRAME_WORDS, np.float32)
    frame[1 + 6] = frame[1 + 7 + 6] = frame[1 + 14 + 6] = 1.0  # unit rotations
    inbox.put(0, bytes([1, 0, 0, 0]) + frame[1:].tobytes(), 0.0)
    parts = np.zeros((1, 3, 7), np.float32)
    grid = np.zeros((1, 1), np.float32)
    check_all(
        inbox.count, inbox.frames, inbox.words, inbox.slots, inbox.times, inbox.codes, inbox.walk_codes,
        np.zeros((3, 7), np.float32), np.full(1, -1, np.int64), False, grid, grid, 0.0, 0.0, 1.0, np.zeros((1, 2)),
        np.full(3, -5.0), np.full(3, 5.0), 10.0, 12.0, 0.5, 1.5, parts, parts.copy(), np.zeros(1, np.uint8),
        np.zeros(1, np.bool_), np.full(1, np.nan), np.zeros(1),
    )  # fmt: skip
