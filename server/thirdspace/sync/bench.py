"""``thirdspace bench sync``: the sync kernels on a recorded crowd, against a naive baseline.

The crowd is a trace generated before timing starts: N visitors in a square
plaza (40 m² each), each alternating between walking to a random waypoint
(1.0 to 1.5 m/s, head bobbing, hands swinging) and standing for 2 to 8 s
(looking around, hands gesturing).  Every visitor is tracked with head and
both hands, as in VR.  Each tick the engine selects, quantises and encodes
every visitor's snapshot; acknowledgements come back ``ack_delay`` ticks later.

The naive baseline is what the incumbents do: every avatar's float32 poses to
every visitor each tick (the protocol 1 layout: an 8-byte header, then 88 bytes per avatar).

``decode`` visitors, spread evenly over the crowd, also decode every snapshot
with the Python client's decoder (outside the timed ticks).  What each shows is
compared with the true poses of the trace: against the newest state the server
sent that visitor for the avatar (the decode error: quantisation alone when the
client is right), and against the pose now (which adds the ticks a far avatar
waits for its turn).  The same comparison for the raw decoded views, drawn as
they are, is what a client that ignored the protocol's "newest state" rule shows.
"""

from __future__ import annotations

import math
import time

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT
from thirdspace.sync.decode import SnapshotDecoder
from thirdspace.sync.engine import SyncEngine, SyncSettings, warm_up
from thirdspace.sync.layout import POS_STEPS_PER_M

AREA_PER_VISITOR_M2 = 40.0
PACKED_AREA_M2 = 1.5  # about 1,900 others within 30 m
EYE_HEIGHT_M = 1.65


def _yaw_quaternions(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(n,) yaw about +Y then pitch about +X -> (n, 4) x, y, z, w."""
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    return np.stack([cy * sp, sy * cp, -sy * sp, cy * cp], axis=1)


def record_crowd(
    entities: int, ticks: int, tick_hz: float, seed: int = 7, area_per_visitor_m2: float = AREA_PER_VISITOR_M2
) -> tuple[np.ndarray, float]:
    """Return the trace (ticks, n, 3, 7) float32 and the plaza's side in metres."""
    rng = np.random.default_rng(seed)
    side = math.sqrt(entities * area_per_visitor_m2)
    dt = 1.0 / tick_hz
    pos = rng.uniform(0, side, size=(entities, 2))
    target = rng.uniform(0, side, size=(entities, 2))
    speed = rng.uniform(1.0, 1.5, size=entities)
    walking = rng.random(entities) < 0.5
    timer = rng.uniform(0, 6, size=entities)
    yaw = rng.uniform(-math.pi, math.pi, size=entities)
    look = np.zeros(entities)
    phase = rng.uniform(0, 2 * math.pi, size=entities)
    height = rng.normal(EYE_HEIGHT_M, 0.07, size=entities)
    trace = np.zeros((ticks, entities, 3, 7), np.float32)
    for t in range(ticks):
        timer -= dt
        switch = timer <= 0
        walking = np.where(switch, ~walking, walking)
        new_targets = switch & walking
        target[new_targets] = rng.uniform(0, side, size=(int(new_targets.sum()), 2))
        timer[switch] = np.where(walking[switch], rng.uniform(4, 15, int(switch.sum())), rng.uniform(2, 8, int(switch.sum())))
        to_target = target - pos
        distance = np.linalg.norm(to_target, axis=1) + 1e-9
        step = np.where(walking, np.minimum(speed * dt, distance), 0.0)
        pos += to_target / distance[:, None] * step[:, None]
        heading = np.arctan2(-to_target[:, 0], -to_target[:, 1])  # yaw that faces the target (-Z forward)
        turn = np.angle(np.exp(1j * (heading - yaw)))
        yaw += np.where(walking, np.clip(turn, -2.5 * dt, 2.5 * dt), 0.0)
        look += rng.normal(0, 0.6 * dt, size=entities)  # standing: slow head turns
        look *= 0.98
        phase += 2 * math.pi * 1.8 * dt
        bob = np.where(walking, 0.02 * np.sin(2 * phase), 0.003 * np.sin(phase / 3))
        swing = np.where(walking, 0.18 * np.sin(phase), 0.05 * np.sin(phase / 2))
        head_yaw = yaw + np.where(walking, 0.0, look)
        head_pitch = 0.1 * np.sin(phase / 5)
        trace[t, :, 0, 0] = pos[:, 0]
        trace[t, :, 0, 1] = height + bob
        trace[t, :, 0, 2] = pos[:, 1]
        trace[t, :, 0, 3:] = _yaw_quaternions(head_yaw, head_pitch)
        forward = np.stack([-np.sin(yaw), -np.cos(yaw)], axis=1)
        right = np.stack([np.cos(yaw), -np.sin(yaw)], axis=1)
        for part, side_sign, swing_sign in ((1, -1.0, 1.0), (2, 1.0, -1.0)):
            offset = right * (0.22 * side_sign) + forward * (0.1 + swing_sign * swing)[:, None]
            trace[t, :, part, 0] = pos[:, 0] + offset[:, 0]
            trace[t, :, part, 1] = height - 0.55 + 0.04 * np.sin(phase + part)
            trace[t, :, part, 2] = pos[:, 1] + offset[:, 1]
            trace[t, :, part, 3:] = _yaw_quaternions(yaw, swing_sign * swing)
    return trace, side


def naive_snapshot(tick: int, ids: np.ndarray, parts: np.ndarray) -> bytes:
    """The baseline: every avatar's float32 poses (the protocol 1 layout)."""
    header = np.zeros(1, [("kind", "u1"), ("version", "u1"), ("count", "<u2"), ("tick", "<u4")])
    header["kind"], header["version"], header["count"], header["tick"] = 2, 1, len(ids), tick
    entries = np.zeros(len(ids), [("id", "<u2"), ("flags", "u1"), ("reserved", "u1"), ("parts", "<f4", (3, 7))])
    entries["id"] = ids
    entries["flags"] = FLAG_LEFT | FLAG_RIGHT
    entries["parts"] = parts
    return header.tobytes() + entries.tobytes()


class Observer:
    """One visitor's decoder, and the worst it has shown against the trace."""

    def __init__(self, slot: int, bounds_max: tuple[float, float, float]):
        self.slot = slot
        self.decoder = SnapshotDecoder((0.0, 0.0, 0.0), bounds_max)
        self.newest: dict[int, int] = {}  # avatar slot -> tick of the newest state the server sent this visitor
        self.shown_error = self.view_error = self.error_now = 0.0
        self.shown_age = 0

    def receive(self, engine: SyncEngine, snapshot: bytes, tick: int, trace: np.ndarray) -> None:
        """``trace[t - 1]`` is the room at tick ``t``."""
        decoded = self.decoder.decode(snapshot)
        if decoded is None:
            return
        seq, view = decoded
        row = seq % engine.settings.ring
        for j in range(engine.ring_count[self.slot, row]):
            avatar = int(engine.ring_ids[self.slot, row, j]) - 1
            self.newest[avatar] = max(self.newest.get(avatar, 0), int(engine.ring_tick[self.slot, row, j]))
        for vid, held in self.decoder.shown.items():
            avatar = vid - 1
            sent = trace[self.newest[avatar] - 1, avatar, :, :3]
            shown = self.decoder.pose(held)[:, :3]
            self.shown_error = max(self.shown_error, float(np.max(np.linalg.norm(shown - sent, axis=1))))
            self.view_error = max(self.view_error, float(np.max(np.linalg.norm(self.decoder.pose(view[vid])[:, :3] - sent, axis=1))))
            self.error_now = max(self.error_now, float(np.max(np.linalg.norm(shown - trace[tick - 1, avatar, :, :3], axis=1))))
            self.shown_age = max(self.shown_age, tick - self.newest[avatar])


def run(
    entities: int,
    seconds: float = 10.0,
    tick_hz: float = 20.0,
    ack_delay: int = 1,
    settings: SyncSettings | None = None,
    decode: int = 16,
    area_per_visitor_m2: float = AREA_PER_VISITOR_M2,
) -> dict:
    settings = settings or SyncSettings()
    ticks = max(2, int(seconds * tick_hz))
    started = time.perf_counter()
    warm_up()
    warm_up_s = time.perf_counter() - started
    trace, side = record_crowd(entities, ticks, tick_hz, area_per_visitor_m2=area_per_visitor_m2)
    engine = SyncEngine(entities, (0.0, 0.0, 0.0), (side, 3.0, side), settings)
    ids = np.arange(1, entities + 1, dtype=np.uint16) if entities < 65535 else np.arange(entities, dtype=np.uint16)
    flags = np.full(entities, FLAG_LEFT | FLAG_RIGHT, np.uint8)
    has_pose = np.ones(entities, bool)
    clients = np.arange(entities, dtype=np.int64)
    always = np.zeros(0, np.int64)
    observers = [Observer(int(slot), (side, 3.0, side)) for slot in np.linspace(0, entities - 1, min(decode, entities), dtype=int)]
    sent_seq: list[np.ndarray] = []
    tick_s, naive_s = [], []
    total_bytes = total_updates = total_parts = visible = 0
    naive_bytes = 0
    for t in range(ticks):
        parts = trace[t]
        begin = time.perf_counter()
        output = engine.tick(t + 1, parts, flags, has_pose, ids, clients, always)
        tick_s.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        naive = naive_snapshot(t + 1, ids, parts)
        naive_s.append(time.perf_counter() - begin)
        naive_bytes += len(naive) * entities
        for observer in observers:
            observer.receive(engine, bytes(output.snapshot(observer.slot)), t + 1, trace)
        sent_seq.append(engine.client_seq.copy())
        if len(sent_seq) >= ack_delay:
            engine.client_ack[:] = sent_seq[-ack_delay]
        if t >= ticks // 10:  # skip the first tenth: everyone's first, full, snapshot
            total_bytes += int(output.length.sum())
            total_updates += int(output.updates.sum())
            total_parts += int(output.parts.sum())
            visible += int(engine.sel_count.sum())
    measured_ticks = ticks - ticks // 10
    per_client_per_s = total_bytes / entities / measured_ticks * tick_hz
    naive_per_client_per_s = naive_bytes / entities / ticks * tick_hz
    ms = np.array(tick_s) * 1000
    naive_ms = np.array(naive_s) * 1000
    return {
        "entities": entities,
        "seconds": ticks / tick_hz,
        "tick_hz": tick_hz,
        "ticks": ticks,
        "plaza_side_m": round(side, 1),
        "area_per_visitor_m2": area_per_visitor_m2,
        "ack_delay_ticks": ack_delay,
        "interest_radius_m": settings.interest_radius_m,
        "max_visible": settings.max_visible,
        "visible_mean": round(visible / entities / measured_ticks, 1),
        "warm_up_s": round(warm_up_s, 3),
        "tick_ms_first": round(float(ms[0]), 3),
        "tick_ms_p50": round(float(np.median(ms)), 3),
        "tick_ms_p99": round(float(np.percentile(ms, 99)), 3),
        "bytes_per_client_per_s": round(per_client_per_s, 1),
        "bytes_per_avatar_update": round(total_bytes / max(total_updates, 1), 2),
        "bytes_per_part_update": round(total_bytes / max(total_parts, 1), 2),
        "naive": {
            "tick_ms_p50": round(float(np.median(naive_ms)), 3),
            "tick_ms_p99": round(float(np.percentile(naive_ms, 99)), 3),
            "bytes_per_client_per_s": round(naive_per_client_per_s, 1),
            "bytes_per_avatar_update": 88.0,
        },
        "bytes_ratio_naive_over_sync": round(naive_per_client_per_s / per_client_per_s, 1),
        "decoded_visitors": len(observers),
        # quantisation alone: half a step on each axis
        "quantisation_bound_m": round(math.sqrt(3) / (2 * POS_STEPS_PER_M), 5),
        "decode_error_m_max": round(max((o.shown_error for o in observers), default=0.0), 5),
        "decode_error_m_max_drawing_views": round(max((o.view_error for o in observers), default=0.0), 5),
        "shown_age_ticks_max": max((o.shown_age for o in observers), default=0),
        "error_vs_now_m_max": round(max((o.error_now for o in observers), default=0.0), 4),
    }
