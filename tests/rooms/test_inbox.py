"""Poses checked at the tick, all together, come out exactly as if each had been checked on arrival."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import demo_scene
from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.constants import FLAG_ACK, FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT
from thirdspace.rooms.inbox import PoseInbox
from thirdspace.rooms.room import Room
from thirdspace.scenes.model import validate

SCENES = {name: validate(demo_scene(name)) for name in ("gallery", "caravanserai")}

steps = st.tuples(
    st.integers(0, 2),  # which visitor
    st.floats(-3, 3),  # dx
    st.floats(-0.3, 0.3),  # dy
    st.floats(-3, 3),  # dz
    st.sampled_from([0, FLAG_LEFT, FLAG_LEFT | FLAG_RIGHT, FLAG_TELEPORT, FLAG_ACK | FLAG_RIGHT, 0x10]),
    st.floats(0, 0.2),  # time since the last pose
    st.sampled_from(["ok", "ok", "ok", "nan", "far hand", "bad rotation"]),
    st.integers(0, 65535),  # ack
)


def frames(room, visitors, script):
    """The script as (visitor id, frame, arrival time)."""
    now = 0.0
    heads = {v.id: np.array(room.spawn_of(v.id)["position"], float) + (0, 1.6, 0) for v in visitors}
    out = []
    for who, dx, dy, dz, flags, dt, kind, ack in script:
        visitor = visitors[who]
        now += dt
        head = heads[visitor.id] + (dx, dy, dz)
        parts = np.zeros((3, 7), np.float32)
        parts[:, 6] = 1
        parts[:, :3] = head
        parts[1:, 1] -= 0.5
        if kind == "nan":
            parts[0, 0] = np.nan
        elif kind == "far hand":
            parts[1, 0] += 3
        elif kind == "bad rotation":
            parts[0, 6] = 2
        if kind == "ok":
            heads[visitor.id] = head
        out.append((visitor.id, encode_pose(parts, flags, ack), now))
    return out


def state(room):
    return {
        "inbox": room._inbox_parts.copy(),
        "flags": room._inbox_flags.copy(),
        "pending": room._pending.copy(),
        "last": room._last_pose_at.copy(),
        "teleport": room._teleport_ready_at.copy(),
        "anchor": room._anchor.copy(),
        "acks": room.sync.client_ack.copy(),
        "stats": (room.stats.poses_accepted, room.stats.poses_dropped, room.stats.poses_not_walkable),
        "dropped": [v.dropped_poses for v in room.visitors.values()],
        "notices": [(n.to, n.message["code"], n.message["at"]) for n in room.notices],
    }


def same(a, b):
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SCENES)), st.lists(steps, min_size=1, max_size=40), st.integers(1, 8))
def test_checking_at_the_tick_equals_checking_each_pose_on_arrival(name, script, inbox_size):
    one_by_one, batched = Room("r-1", SCENES[name]), Room("r-1", SCENES[name])
    batched.inbox = PoseInbox(inbox_size)  # small: the batch is also checked early, whenever the inbox fills
    visitors = [one_by_one.join(f"v{i}", "en", "#000000", now=0)[0] for i in range(3)]
    for i in range(3):
        batched.join(f"v{i}", "en", "#000000", now=0)
    sent = frames(one_by_one, visitors, script)
    accepted = []
    for visitor_id, frame, now in sent:
        flags, ack = frame[1], frame[2] | frame[3] << 8
        parts = np.frombuffer(frame, "<f4", 21, 4).reshape(3, 7)
        accepted.append(one_by_one.accept_pose(visitor_id, flags, parts, now, ack))
        batched.queue_pose(visitor_id, frame, now)
    batched.check_poses()
    same(state(one_by_one), state(batched))
    assert one_by_one.stats.poses_accepted == sum(accepted)
    assert one_by_one.tick().snapshot(0).tobytes() == batched.tick().snapshot(0).tobytes()


def test_poses_waiting_when_their_sender_leaves_never_reach_the_next_visitor_in_that_slot():
    room = Room("r-1", SCENES["gallery"])
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    frame = encode_pose(np.array([[1, 1.6, 3, 0, 0, 0, 1]] + [[0, 0, 0, 0, 0, 0, 1]] * 2, np.float32))
    room.queue_pose(ama.id, frame, 0.0)
    room.leave(ama.id)
    bo, _ = room.join("Bo", "en", "#000000", now=0)
    assert bo.slot == ama.slot and room.inbox.count == 0
    room.tick()
    assert not np.allclose(room.parts[bo.slot, 0, :3], (1, 1.6, 3))  # Bo stands at the spawn point, not at Ama's pose
    assert room.stats.poses_accepted == 1 and room.stats.poses_dropped == 0
