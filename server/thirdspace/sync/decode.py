"""Decoding version 2 snapshots (the Python client's half of the protocol).

A decoder keeps the views it decoded, by sequence number, so that the next
snapshot can be applied to the baseline it names.  What to show is a separate
thing: for each avatar, the newest state any snapshot sent.  A view's kept
avatar comes from an older baseline when acknowledgements lag, so it is never
shown over a newer update.  See docs/protocol.md.
"""

from __future__ import annotations

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, FRAME_SNAPSHOT_V2
from thirdspace.sync.layout import (
    FLAG_BITS,
    ID_BITS,
    NEW_COUNT_BITS,
    POS_STEPS_PER_M,
    QUAT_BITS,
    QUAT_INDEX_SHIFT,
    QUAT_MAX,
    QUAT_PACKED_BITS,
    SNAPSHOT_FULL,
    WIDTH_ABSOLUTE,
    WIDTH_BITS,
    axis_bits,
)
from thirdspace.sync.reference import unpack_quaternion

HANDS = ((1, FLAG_LEFT), (2, FLAG_RIGHT))
KEEP_VIEWS = 64

# One avatar as the client holds it: its flags and (3, 4) quantised parts.
Held = tuple[int, np.ndarray]


class SnapshotFormatError(ValueError):
    pass


class BitReader:
    def __init__(self, data: bytes, start_bit: int = 0):
        self.value = int.from_bytes(data, "little")
        self.pos = start_bit
        self.limit = len(data) * 8

    def get(self, nbits: int) -> int:
        if self.pos + nbits > self.limit:
            raise SnapshotFormatError("snapshot ends early")
        v = (self.value >> self.pos) & ((1 << nbits) - 1)
        self.pos += nbits
        return v


def _unzigzag(v: int) -> int:
    return (v >> 1) ^ -(v & 1)


class SnapshotDecoder:
    def __init__(self, bounds_min, bounds_max):
        self.bounds_min = np.asarray(bounds_min, np.float64)
        span = np.asarray(bounds_max, np.float64) - self.bounds_min
        self.axis_bits = [axis_bits(v) for v in span]
        self.views: dict[int, dict[int, Held]] = {}
        self.last_seq: int | None = None
        self.teleported: set[int] = set()  # avatars that teleported in the last decoded snapshot
        self.updated: set[int] = set()  # avatars the last decoded snapshot sent (updated or new)
        self.shown: dict[int, Held] = {}  # every avatar of the last view, at the newest state decoded for it
        self._newest: dict[int, tuple[int, Held]] = {}  # id -> (seq of the last view holding it, newest state)

    def decode(self, data: bytes) -> tuple[int, dict[int, Held]] | None:
        """Return (seq, view) or None when the baseline is no longer known (wait for the next)."""
        if len(data) < 6 or data[0] != FRAME_SNAPSHOT_V2:
            raise SnapshotFormatError("not a version 2 snapshot")
        header_flags, seq, baseline = data[1], int.from_bytes(data[2:4], "little"), int.from_bytes(data[4:6], "little")
        if header_flags & SNAPSHOT_FULL:
            base: dict[int, Held] = {}
        elif baseline in self.views:
            base = self.views[baseline]
        else:
            return None
        r = BitReader(data, 48)
        view: dict[int, Held] = {}
        teleported: set[int] = set()
        updated: set[int] = set()
        for vid in sorted(base):
            if r.get(1) == 0:
                view[vid] = base[vid]
            elif r.get(1) == 1:
                continue  # removed
            else:
                view[vid] = self._held(vid, self._update(r, base[vid]), teleported, updated)
        if r.get(1):
            for _ in range(r.get(NEW_COUNT_BITS) + 1):
                vid = r.get(ID_BITS)
                view[vid] = self._held(vid, self._full(r), teleported, updated)
        self.views[seq] = view
        self.last_seq = seq
        self.teleported, self.updated = teleported, updated
        for old in [s for s in self.views if ((seq - s) & 0xFFFF) >= KEEP_VIEWS]:
            del self.views[old]
        self._show(seq, view)
        return seq, view

    def _show(self, seq: int, view: dict[int, Held]) -> None:
        """Snapshots arrive in order, so a sent state is newer than anything decoded before it;
        a kept one is the baseline's copy, and the state shown stays the newest."""
        newest = self._newest
        for vid, held in view.items():
            if vid in self.updated or vid not in newest:
                newest[vid] = (seq, held)
            else:
                newest[vid] = (seq, newest[vid][1])
        for vid in [v for v, (last, _) in newest.items() if ((seq - last) & 0xFFFF) >= KEEP_VIEWS]:
            del newest[vid]  # out of every view kept: it can only come back as new
        self.shown = {vid: newest[vid][1] for vid in view}

    @staticmethod
    def _held(vid: int, avatar: Held, teleported: set[int], updated: set[int]) -> Held:
        """Keep the teleport flag out of the held state: it belongs to this snapshot only."""
        flags, parts = avatar
        updated.add(vid)
        if flags & FLAG_TELEPORT:
            teleported.add(vid)
        return flags & ~FLAG_TELEPORT, parts

    def _part_full(self, r: BitReader) -> np.ndarray:
        return np.array([r.get(b) for b in self.axis_bits] + [r.get(QUAT_PACKED_BITS)], np.int64)

    def _full(self, r: BitReader) -> Held:
        flags = r.get(FLAG_BITS)
        parts = np.zeros((3, 4), np.int64)
        parts[0] = self._part_full(r)
        for part, bit in HANDS:
            if flags & bit:
                parts[part] = self._part_full(r)
        return flags, parts

    def _part_delta(self, r: BitReader, held: np.ndarray) -> np.ndarray:
        if r.get(1) == 0:
            return held
        out = held.copy()
        width = r.get(WIDTH_BITS)
        if width == WIDTH_ABSOLUTE:
            out[:3] = [r.get(b) for b in self.axis_bits]
        else:
            out[:3] = [int(held[a]) + _unzigzag(r.get(width)) for a in range(3)]
        if r.get(1):
            if r.get(1):
                width = r.get(WIDTH_BITS)
                packed = int(held[3])
                value = (packed >> QUAT_INDEX_SHIFT) << QUAT_INDEX_SHIFT
                for shift in (2 * QUAT_BITS, QUAT_BITS, 0):
                    value |= ((((packed >> shift) & QUAT_MAX) + _unzigzag(r.get(width))) & QUAT_MAX) << shift
                out[3] = value
            else:
                out[3] = r.get(QUAT_PACKED_BITS)
        return out

    def _update(self, r: BitReader, held: Held) -> Held:
        held_flags, held_parts = held
        flags = r.get(FLAG_BITS)
        parts = np.zeros((3, 4), np.int64)
        parts[0] = self._part_delta(r, held_parts[0])
        for part, bit in HANDS:
            if flags & bit:
                parts[part] = self._part_delta(r, held_parts[part]) if held_flags & bit else self._part_full(r)
        return flags, parts

    def pose(self, held: Held) -> np.ndarray:
        """Dequantise a held avatar into (3, 7) float32: position and unit quaternion per part."""
        flags, parts = held
        out = np.zeros((3, 7), np.float32)
        out[:, 6] = 1.0
        for p in range(3):
            if p and not flags & HANDS[p - 1][1]:
                continue
            out[p, :3] = parts[p, :3] / POS_STEPS_PER_M + self.bounds_min
            out[p, 3:] = unpack_quaternion(int(parts[p, 3]))
        return out
