"""What a different coding of the part deltas would save: the snapshots of today's engine, re-priced.

    python benchmarks/sync_coding.py --entities 1000 --seconds 10 --ack-delays 1,3

The bench crowd (`thirdspace.sync.bench.record_crowd`) runs through the real engine; observers
spread over the crowd decode every snapshot they get with the Python client's decoder.  For every
part a snapshot updated and that changed, the script takes what a client could know: the state it
held (the baseline's) and, for prediction, the state the baseline's entry was updated from.  It
prices that change under several codings, all at today's precision:

- ``v2``: today's delta part (1 bit changed, a 4-bit width and three deltas of that width for the
  position; 1 bit changed, 1 bit relative, a 4-bit width and three deltas for the rotation);
- ``pred``: the same, with deltas from a linear prediction (held + (held - the state before it));
- ``rice`` and ``exp-golomb``: each zigzag delta in its own Golomb-Rice or Elias-gamma code of
  order k (0 to 7, sent in 3 bits per position and per rotation) instead of one width for three;
- ``choose``: per part, 1 bit says plain or predicted, and the cheaper is sent;
- ``entropy``: the order-0 entropy of each delta component's values over the whole run (per part
  and component), a bound for a static entropy coder with perfect tables.

The measured bytes per part update are the engine's own (its snapshots, headers and per-avatar
marks included); the estimate for a coding replaces the delta parts' bits with that coding's.
"""

from __future__ import annotations

import argparse
import collections
import json
import math

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT
from thirdspace.sync.bench import AREA_PER_VISITOR_M2, record_crowd
from thirdspace.sync.decode import Held, SnapshotDecoder
from thirdspace.sync.engine import SyncEngine, warm_up
from thirdspace.sync.layout import (
    QUAT_BITS,
    QUAT_DELTA_MAX_WIDTH,
    QUAT_INDEX_SHIFT,
    QUAT_MAX,
    QUAT_PACKED_BITS,
    SNAPSHOT_FULL,
    WIDTH_ABSOLUTE,
)

TRACKED = (0, FLAG_LEFT, FLAG_RIGHT)  # part -> its flag (the head is always there)
K_BITS = 3
INFINITE = 1 << 30


def _zigzag(d: int) -> int:
    return d << 1 if d >= 0 else ((-d) << 1) - 1


def _components(packed: int) -> list[int]:
    return [(packed >> s) & QUAT_MAX for s in (2 * QUAT_BITS, QUAT_BITS, 0)]


def _has(flags: int, part: int) -> bool:
    return part == 0 or bool(flags & TRACKED[part])


class Change:
    """One changed part: zigzag deltas from the held state, and from the prediction when there is one."""

    __slots__ = ("part", "plain_pos", "plain_rot", "pred_pos", "pred_rot")

    def __init__(self, part: int, held: np.ndarray, cur: np.ndarray, before: np.ndarray | None):
        self.part = part
        self.plain_pos = [_zigzag(int(cur[a]) - int(held[a])) for a in range(3)]
        same_index = int(cur[3]) >> QUAT_INDEX_SHIFT == int(held[3]) >> QUAT_INDEX_SHIFT
        cur_c, held_c = _components(int(cur[3])), _components(int(held[3]))
        self.plain_rot = [_zigzag(c - h) for c, h in zip(cur_c, held_c, strict=True)] if same_index else None
        if int(cur[3]) == int(held[3]):
            self.plain_rot = [0, 0, 0]
        self.pred_pos = self.pred_rot = None
        if before is not None:
            self.pred_pos = [_zigzag(int(cur[a]) - 2 * int(held[a]) + int(before[a])) for a in range(3)]
            if same_index and int(held[3]) >> QUAT_INDEX_SHIFT == int(before[3]) >> QUAT_INDEX_SHIFT:
                h, b = _components(int(held[3])), _components(int(before[3]))
                self.pred_rot = [_zigzag(c - 2 * x + y) for c, x, y in zip(_components(int(cur[3])), h, b, strict=True)]
            else:
                self.pred_rot = self.plain_rot


class RecordingDecoder(SnapshotDecoder):
    """The client's decoder, which also keeps, per view entry, the state it was updated from."""

    def __init__(self, bounds_min, bounds_max):
        super().__init__(bounds_min, bounds_max)
        self.before: dict[int, dict[int, Held | None]] = {}
        self.changes: list[Change] = []

    def decode(self, data: bytes):
        full = bool(data[1] & SNAPSHOT_FULL)
        baseline = int.from_bytes(data[4:6], "little")
        base = {} if full else self.views.get(baseline, {})
        base_before = {} if full else self.before.get(baseline, {})
        decoded = super().decode(data)
        if decoded is None:
            return None
        seq, view = decoded
        before: dict[int, Held | None] = {}
        for vid, held in view.items():
            if vid not in self.updated:
                before[vid] = base_before.get(vid)
            elif vid not in base:
                before[vid] = None
            else:
                before[vid] = base[vid]
                self._record(base[vid], held, base_before.get(vid))
        self.before[seq] = before
        for old in [s for s in self.before if s not in self.views]:
            del self.before[old]
        return decoded

    def _record(self, held: Held, cur: Held, before: Held | None) -> None:
        for part in range(3):
            if not (_has(held[0], part) and _has(cur[0], part)):
                continue  # a hand coming into tracking is sent in full in every coding
            if np.array_equal(held[1][part], cur[1][part]):
                continue  # "unchanged": one bit in every coding
            prior = before[1][part] if before is not None and _has(before[0], part) else None
            self.changes.append(Change(part, held[1][part], cur[1][part], prior))


def _width(vals: list[int]) -> int:
    width = max(v.bit_length() for v in vals)
    return 4 + 3 * width if width < WIDTH_ABSOLUTE else INFINITE


def _rice(vals: list[int]) -> int:
    return K_BITS + min(sum((v >> k) + 1 + k for v in vals) for k in range(1 << K_BITS))


def _gamma(vals: list[int]) -> int:
    return K_BITS + min(sum(2 * (v + (1 << k)).bit_length() - 1 - k for v in vals) for k in range(1 << K_BITS))


def _rotation(rot: list[int] | None, code) -> int:
    """Rotation changed, then relative (or 35 bits absolute when cheaper or when v2's width would exceed 11)."""
    if rot is not None and max(rot) == 0:
        return 1
    absolute = 2 + QUAT_PACKED_BITS
    if rot is None:
        return absolute
    if code is _width:  # v2 as the encoder does it: relative whenever the width fits
        return 2 + code(rot) if max(v.bit_length() for v in rot) <= QUAT_DELTA_MAX_WIDTH else absolute
    return min(2 + code(rot), absolute)


def _part_bits(pos: list[int], rot: list[int] | None, code, axis_bits: list[int]) -> int:
    """Changed, then the position (relative, or absolute after an escape), then the rotation."""
    if code is _width:  # v2: absolute only when the width reaches 15
        position = code(pos) if code(pos) < INFINITE else 4 + sum(axis_bits)
    else:
        position = min(code(pos), K_BITS + sum(axis_bits))
    return 1 + position + _rotation(rot, code)


def price(changes: list[Change], axis_bits: list[int]) -> dict[str, float]:
    """Mean bits per changed part under each coding."""
    n = max(len(changes), 1)
    out: dict[str, float] = {}
    for name, code in (("v2", _width), ("rice", _rice), ("exp-golomb", _gamma)):
        plain = [_part_bits(c.plain_pos, c.plain_rot, code, axis_bits) for c in changes]
        pred = [
            p if c.pred_pos is None else _part_bits(c.pred_pos, c.pred_rot, code, axis_bits) for c, p in zip(changes, plain, strict=True)
        ]
        chosen = [1 + min(p, q) for p, q in zip(plain, pred, strict=True)]
        suffix = "" if name == "v2" else f" {name}"
        out["v2" if name == "v2" else name] = sum(plain) / n
        out["pred" + suffix] = sum(pred) / n
        out["choose" + suffix] = sum(chosen) / n
    picks = (("entropy", lambda c: (c.plain_pos, c.plain_rot)), ("entropy pred", lambda c: (c.pred_pos or c.plain_pos, c.pred_rot)))
    for label, pick in picks:
        values: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
        absolute = 0
        for c in changes:
            pos, rot = pick(c)
            for a, v in enumerate(pos):
                values[(c.part, a)].append(v)
            if rot is None:
                absolute += QUAT_PACKED_BITS
            else:
                for a, v in enumerate(rot):
                    values[(c.part, 3 + a)].append(v)
        bits = absolute
        for vals in values.values():
            counts = collections.Counter(vals)
            bits += -sum(k * math.log2(k / len(vals)) for k in counts.values())
        out[label] = bits / n
    return out


def run(entities: int, seconds: float, ack_delay: int, observers: int, area: float) -> dict:
    ticks = int(seconds * 20)
    trace, side = record_crowd(entities, ticks, 20.0, area_per_visitor_m2=area)
    engine = SyncEngine(entities, (0.0, 0.0, 0.0), (side, 3.0, side))
    ids = np.arange(1, entities + 1, dtype=np.uint16)
    flags = np.full(entities, FLAG_LEFT | FLAG_RIGHT, np.uint8)
    has_pose = np.ones(entities, np.bool_)
    clients = np.arange(entities, dtype=np.int64)
    always = np.zeros(0, np.int64)
    watched = [int(s) for s in np.linspace(0, entities - 1, min(observers, entities), dtype=int)]
    decoders = {slot: RecordingDecoder((0.0, 0.0, 0.0), (side, 3.0, side)) for slot in watched}
    sent: list[np.ndarray] = []
    total_bytes = total_parts = 0
    skip = ticks // 10
    for t in range(ticks):
        output = engine.tick(t + 1, trace[t], flags, has_pose, ids, clients, always)
        for slot, decoder in decoders.items():
            if t == skip:
                decoder.changes.clear()  # like the bench: the first tenth (everyone's first, full, snapshot) is not counted
            decoder.decode(bytes(output.snapshot(slot)))
            if t >= skip:
                total_bytes += int(output.length[slot])
                total_parts += int(output.parts[slot])
        sent.append(engine.client_seq.copy())
        if len(sent) >= ack_delay:
            engine.client_ack[:] = sent[-ack_delay]
    changes = [c for d in decoders.values() for c in d.changes]
    bits = price(changes, [int(b) for b in engine.axis_bits])
    measured = total_bytes / max(total_parts, 1)
    delta_bits_per_part = bits["v2"] * len(changes) / max(total_parts, 1)
    return {
        "entities": entities,
        "ack_delay_ticks": ack_delay,
        "observers": len(decoders),
        "parts_sent": total_parts,
        "changed_parts": len(changes),
        "with_prediction": sum(c.pred_pos is not None for c in changes),
        "bytes_per_part_update_measured": round(measured, 2),
        "bits_per_changed_part": {k: round(v, 1) for k, v in bits.items()},
        "bytes_per_part_update_estimated": {
            k: round(measured + (v * len(changes) / max(total_parts, 1) - delta_bits_per_part) / 8, 2) for k, v in bits.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ack-delays", default="1,3", help="comma-separated acknowledgement delays in ticks (default 1,3)")
    parser.add_argument("--observers", type=int, default=16, help="visitors whose snapshots are decoded and priced (default 16)")
    parser.add_argument("--area", type=float, default=AREA_PER_VISITOR_M2, help="square metres per visitor (default 40)")
    args = parser.parse_args()
    warm_up()
    for delay in (int(d) for d in args.ack_delays.split(",")):
        print(json.dumps(run(args.entities, args.seconds, delay, args.observers, args.area)))


if __name__ == "__main__":
    main()
