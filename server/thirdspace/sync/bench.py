"""``thirdspace bench sync``: the sync kernels on a recorded crowd, against a naive baseline.

The crowd is a trace generated before timing starts: N visitors in a square
plaza (40 m² each), each alternating between walking to a random waypoint
(1.0 to 1.5 m/s, head bobbing, hands swinging) and standing for 2 to 8 s
(looking around, hands gesturing).  Every visitor is tracked with head and
both hands, as in VR.  Each tick the engine selects, quantises and encodes
every visitor's snapshot; acknowledgements come back ``ack_delay`` ticks later.

The naive baseline is what the incumbents do: every avatar's float32 poses to
every visitor each tick (the protocol 1 layout: an 8-byte header, then 88 bytes per avatar).
"""

from __future__ import annotations

import math
import time

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT
from thirdspace.sync.engine import SyncEngine, SyncSettings, warm_up

AREA_PER_VISITOR_M2 = 40.0
EYE_HEIGHT_M = 1.65


def _yaw_quaternions(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(n,) yaw about +Y then pitch about +X -> (n, 4) x, y, z, w."""
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    return np.stack([cy * sp, sy * cp, -sy * sp, cy * cp], axis=1)


def record_crowd(entities: int, ticks: int, tick_hz: float, seed: int = 7) -> tuple[np.ndarray, float]:
    """Return the trace (ticks, n, 3, 7) float32 and the plaza's side in metres."""
    rng = np.random.default_rng(seed)
    side = math.sqrt(entities * AREA_PER_VISITOR_M2)
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


def run(entities: int, seconds: float = 10.0, tick_hz: float = 20.0, ack_delay: int = 1, settings: SyncSettings | None = None) -> dict:
    settings = settings or SyncSettings()
    ticks = max(2, int(seconds * tick_hz))
    started = time.perf_counter()
    warm_up()
    warm_up_s = time.perf_counter() - started
    trace, side = record_crowd(entities, ticks, tick_hz)
    engine = SyncEngine(entities, (0.0, 0.0, 0.0), (side, 3.0, side), settings)
    ids = np.arange(1, entities + 1, dtype=np.uint16) if entities < 65535 else np.arange(entities, dtype=np.uint16)
    flags = np.full(entities, FLAG_LEFT | FLAG_RIGHT, np.uint8)
    has_pose = np.ones(entities, bool)
    clients = np.arange(entities, dtype=np.int64)
    always = np.zeros(0, np.int64)
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
    }
