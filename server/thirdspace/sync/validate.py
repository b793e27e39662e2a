"""Pose validation on the hot path: one numba call per uplink pose.

A plausible pose is normalised and stored in the room's inbox (newest wins,
a teleport flag is carried until the tick); anything else is dropped with a
reason code.  The rules are written out in docs/protocol.md.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, FLAGS_KNOWN

ACCEPTED = 0
REASONS = {
    1: "unknown flags",
    2: "not finite",
    3: "outside the scene bounds",
    4: "rotation is not a unit quaternion",
    5: "hand too far from head",
    6: "moved faster than a visitor can",
}
WALK_SLACK_M = 0.3


@njit(cache=True, error_model="numpy")
def accept_pose(
    slot, flags, pose, now, bounds_min, bounds_max, max_speed_mps, teleport_range_m, teleport_interval_s, hand_reach_m,
    room_parts, inbox_parts, inbox_flags, pending, last_pose_at, teleport_ready_at,
):  # fmt: skip
    if flags & ~FLAGS_KNOWN:
        return 1
    for p in range(3):
        if p == 1 and not flags & FLAG_LEFT or p == 2 and not flags & FLAG_RIGHT:
            continue
        for a in range(7):
            if not math.isfinite(pose[p, a]):
                return 2
        for a in range(3):
            if pose[p, a] < bounds_min[a] or pose[p, a] > bounds_max[a]:
                return 3
        norm2 = 0.0
        for a in range(3, 7):
            norm2 += pose[p, a] * pose[p, a]
        if norm2 < 0.81 or norm2 > 1.21:
            return 4
        if p > 0:
            reach2 = 0.0
            for a in range(3):
                reach2 += (pose[p, a] - pose[0, a]) ** 2
            if reach2 > hand_reach_m * hand_reach_m:
                return 5
    if not math.isnan(last_pose_at[slot]):
        source = inbox_parts if pending[slot] else room_parts
        distance2 = 0.0
        for a in range(3):
            distance2 += (pose[0, a] - source[slot, 0, a]) ** 2
        distance = math.sqrt(distance2)
        if distance > max_speed_mps * max(0.0, now - last_pose_at[slot]) + WALK_SLACK_M:
            if not flags & FLAG_TELEPORT or distance > teleport_range_m or now < teleport_ready_at[slot]:
                return 6
    for p in range(3):
        tracked = p == 0 or (p == 1 and flags & FLAG_LEFT) or (p == 2 and flags & FLAG_RIGHT)
        if tracked:
            norm = 0.0
            for a in range(3, 7):
                norm += pose[p, a] * pose[p, a]
            norm = math.sqrt(norm)
            for a in range(3):
                inbox_parts[slot, p, a] = pose[p, a]
            for a in range(3, 7):
                inbox_parts[slot, p, a] = pose[p, a] / norm
        else:  # untracked hands rest at the origin, whatever the client sent
            for a in range(6):
                inbox_parts[slot, p, a] = 0.0
            inbox_parts[slot, p, 6] = 1.0
    if flags & FLAG_TELEPORT:
        teleport_ready_at[slot] = now + teleport_interval_s
    carried = inbox_flags[slot] & FLAG_TELEPORT if pending[slot] else 0
    inbox_flags[slot] = flags | carried
    pending[slot] = True
    last_pose_at[slot] = now
    return ACCEPTED


def warm_up() -> None:
    frame = np.zeros((3, 7), np.float32)
    frame[:, 6] = 1
    frame[0, 1] = 1.6
    pose = np.frombuffer(frame.tobytes(), dtype="<f4").reshape(3, 7)  # read-only, as decoded from a frame
    arrays = (np.zeros((1, 3, 7), np.float32), np.zeros((1, 3, 7), np.float32), np.zeros(1, np.uint8), np.zeros(1, np.bool_))
    accept_pose(0, 0, pose, 0.0, np.full(3, -5.0), np.full(3, 5.0), 10.0, 12.0, 0.5, 1.5, *arrays, np.full(1, np.nan), np.zeros(1))
