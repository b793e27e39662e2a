import numpy as np
import pytest

from tests.conftest import demo_scene
from thirdspace.protocol.constants import FLAG_ACK, FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT
from thirdspace.rooms.directory import RoomDirectory
from thirdspace.rooms.room import Room, RoomFull, RoomRules
from thirdspace.scenes.model import validate
from thirdspace.sync.decode import SnapshotDecoder


def scene(capacity=4):
    doc = demo_scene("gallery")  # bounds x -7..7, y -1..5, z -5..9
    doc["capacity"] = capacity
    return validate(doc)


def pose(head=(0, 1.6, 3), left=None, right=None):
    parts = np.zeros((3, 7), dtype=np.float32)
    parts[:, 6] = 1
    parts[0, :3] = head
    if left is not None:
        parts[1, :3] = left
    if right is not None:
        parts[2, :3] = right
    return parts


@pytest.fixture
def room():
    return Room("gallery-1", scene())


class Viewer:
    """Decodes what one visitor receives each tick, and acknowledges it as a client would."""

    def __init__(self, room, visitor):
        self.room, self.visitor = room, visitor
        self.decoder = SnapshotDecoder(room.scene.bounds_min, room.scene.bounds_max)

    def read(self, output) -> dict[int, np.ndarray]:
        seq, view = self.decoder.decode(bytes(output.snapshot(self.visitor.slot)))
        self.room.sync.acknowledge(self.visitor.slot, seq)
        return {vid: self.decoder.pose(held) for vid, held in view.items()}


def test_join_welcomes_the_visitor_and_tells_the_others(room):
    ama, out = room.join("Ama", "sw", "#112233", now=0)
    assert [o.message["type"] for o in out] == ["welcome", "join"]
    welcome = out[0].message
    assert out[0].to == ama.id and welcome["id"] == ama.id and welcome["room"] == "gallery-1"
    assert welcome["visitors"] == [{"id": ama.id, "name": "Ama", "language": "sw", "colour": "#112233", "avatar": "traveller"}]
    assert out[1].exclude == ama.id
    bo, out = room.join("Bo", "fr", "#445566", now=0)
    assert {v["name"] for v in out[0].message["visitors"]} == {"Ama", "Bo"}
    assert room.leave(ama.id)[0].message == {"type": "leave", "id": ama.id}
    assert room.leave(ama.id) == []


def test_room_refuses_past_capacity_and_reuses_slots():
    room = Room("tiny-1", scene(capacity=2))
    a, _ = room.join("a", "en", "#000000")
    room.join("b", "en", "#000000")
    assert room.is_full
    with pytest.raises(RoomFull):
        room.join("c", "en", "#000000")
    room.leave(a.id)
    c, _ = room.join("c", "en", "#000000")
    assert c.slot == a.slot and c.id != a.id


def test_tick_sends_the_newest_pose_of_each_visitor(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    bo, _ = room.join("Bo", "en", "#000000", now=0)
    cy, _ = room.join("Cy", "en", "#000000", now=0)
    viewer = Viewer(room, cy)
    assert room.accept_pose(ama.id, 0, pose((0, 1.6, 3)), now=0.00)
    assert room.accept_pose(ama.id, 0, pose((0.05, 1.6, 3)), now=0.01)
    assert room.accept_pose(bo.id, FLAG_LEFT, pose((1, 1.5, 2), left=(0.8, 1.2, 1.8)), now=0.01)
    seen = viewer.read(room.tick())
    assert set(seen) == {ama.id, bo.id}  # everyone but yourself
    np.testing.assert_allclose(seen[ama.id][0, :3], (0.05, 1.6, 3), atol=0.001)
    np.testing.assert_allclose(seen[bo.id][1, :3], (0.8, 1.2, 1.8), atol=0.001)
    assert viewer.decoder.views[viewer.decoder.last_seq][bo.id][0] == FLAG_LEFT
    # untracked hands come back at rest rather than echoing whatever the client sent
    np.testing.assert_array_equal(seen[bo.id][2], [0, 0, 0, 0, 0, 0, 1])
    room.leave(bo.id)
    assert set(viewer.read(room.tick())) == {ama.id}


def test_visitors_appear_at_their_spawn_point(room):
    ama, out = room.join("Ama", "en", "#000000", now=0)
    bo, _ = room.join("Bo", "en", "#000000", now=0)
    spawn = out[0].message["spawn"]["position"]
    seen = Viewer(room, bo).read(room.tick())
    np.testing.assert_allclose(seen[ama.id][0, :3], (spawn[0], spawn[1] + 1.6, spawn[2]), atol=0.001)


def test_acks_ride_on_poses(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    room.join("Bo", "en", "#000000", now=0)
    room.tick()
    assert room.sync.client_ack[ama.slot] == -1
    room.accept_pose(ama.id, FLAG_ACK, pose(), now=0, ack=1)
    assert room.sync.client_ack[ama.slot] == 1
    room.tick()
    assert not room.flags[ama.slot] & FLAG_ACK  # the ack is not part of the avatar's state


def test_rotations_are_normalised(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    bo, _ = room.join("Bo", "en", "#000000", now=0)
    parts = pose()
    parts[0, 3:7] = (0, 0, 0, 1.05)
    assert room.accept_pose(ama.id, 0, parts, now=0)
    room.tick()
    assert room.parts[ama.slot, 0, 6] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("flags", "parts"),
    [
        (0, pose((np.nan, 1.6, 3))),
        (0, pose((np.inf, 1.6, 3))),
        (FLAG_LEFT, pose(left=(np.nan, 1, 1))),
        (0, pose((0, 1.6, 30))),  # outside the bounds
        (0, pose((0, -3, 3))),
        (FLAG_RIGHT, pose(right=(3, 1.6, 3))),  # hand 3 m from the head
        (0x80, pose()),  # unknown flag
    ],
)
def test_implausible_poses_are_dropped_and_counted(room, flags, parts):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    assert not room.accept_pose(ama.id, flags, parts, now=0)
    assert room.stats.poses_dropped == 1 and ama.dropped_poses == 1
    spawn = room.parts[ama.slot].copy()
    room.tick()
    np.testing.assert_array_equal(room.parts[ama.slot], spawn)  # still where they were


def test_zero_quaternion_is_dropped(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    parts = pose()
    parts[0, 3:7] = 0
    assert not room.accept_pose(ama.id, 0, parts, now=0)


def test_speed_limit_and_teleport(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    assert room.accept_pose(ama.id, 0, pose((0, 1.6, 3)), now=0.0)
    assert room.accept_pose(ama.id, 0, pose((0.4, 1.6, 3)), now=0.05)  # 8 m/s: a run
    assert not room.accept_pose(ama.id, 0, pose((4, 1.6, 3)), now=0.10)  # 72 m/s
    assert room.accept_pose(ama.id, FLAG_TELEPORT, pose((4, 1.6, 3)), now=0.10)
    assert not room.accept_pose(ama.id, FLAG_TELEPORT, pose((-4, 1.6, 3)), now=0.20)  # too soon again
    assert room.accept_pose(ama.id, FLAG_TELEPORT, pose((-4, 1.6, 3)), now=0.70)
    room.accept_pose(ama.id, 0, pose((-4, 1.6, 3.1)), now=0.71)
    bo, _ = room.join("Bo", "en", "#000000", now=0.71)
    viewer = Viewer(room, bo)
    viewer.read(room.tick())
    assert ama.id in viewer.decoder.teleported  # carried to the tick even though a walk followed
    room.accept_pose(ama.id, 0, pose((-4, 1.6, 3.2)), now=0.75)
    viewer.read(room.tick())
    assert ama.id not in viewer.decoder.teleported


def test_chat_rate_limit_and_bounded_history():
    room = Room("gallery-1", scene(), RoomRules(chat_history=3, chat_burst=2, chat_per_s=1.0))
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    assert room.chat(ama.id, "one", now=0)[0].message["type"] == "chat"
    assert room.chat(ama.id, "two", now=0)[0].message["type"] == "chat"
    limited = room.chat(ama.id, "three", now=0.1)
    assert limited[0].to == ama.id and limited[0].message["code"] == "rate_limited"
    assert room.chat(ama.id, "three", now=1.2)[0].message["text"] == "three"
    room.chat(ama.id, "four", now=3)
    assert [m["text"] for m in room.chat_log] == ["two", "three", "four"]
    bo, out = room.join("Bo", "en", "#000000", now=3)
    assert [m["text"] for m in out[0].message["chat"]] == ["two", "three", "four"]


def test_chat_is_stored_in_nfc(room):
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    out = room.chat(ama.id, "cafe\u0301", now=0)
    assert out[0].message["text"] == "caf\u00e9"


def test_directory_places_in_the_oldest_room_with_space_and_overflows():
    directory = RoomDirectory()
    tiny = scene(capacity=2)
    rooms = []
    for _ in range(5):
        room, _ = directory.place(tiny)
        room.join("v", "en", "#000000")
        rooms.append(room.id)
    assert rooms == ["gallery-1", "gallery-1", "gallery-2", "gallery-2", "gallery-3"]
    first = directory.rooms("gallery")[0]
    first.leave(next(iter(first.visitors)))
    room, opened = directory.place(tiny)
    assert room.id == "gallery-1" and not opened


def test_directory_closes_empty_rooms_and_reuses_numbers():
    directory = RoomDirectory()
    tiny = scene(capacity=1)
    a, _ = directory.place(tiny)
    visitor, _ = a.join("a", "en", "#000000")
    b, opened = directory.place(tiny)
    assert b.id == "gallery-2" and opened
    a.leave(visitor.id)
    assert directory.close_if_empty(a)
    assert [r.id for r in directory.rooms("gallery")] == ["gallery-2"]
    c, _ = directory.place(tiny)
    assert c.id == "gallery-2"  # not full: b has no one yet
    b.join("b", "en", "#000000")
    d, _ = directory.place(tiny)
    assert d.id == "gallery-1"


def test_an_always_visible_visitor_is_seen_from_anywhere():
    doc = demo_scene("market")
    doc["capacity"] = 4
    room = Room("market-1", validate(doc))
    guide, _ = room.join("Guide", "en", "#000000", now=0)
    far, _ = room.join("Far", "en", "#000000", now=0)
    assert room.accept_pose(guide.id, 0, pose((-55, 1.6, -55)), now=0)
    assert room.accept_pose(far.id, 0, pose((55, 1.6, 55)), now=0)
    viewer = Viewer(room, far)
    assert guide.id not in viewer.read(room.tick())  # 155 m apart: beyond the interest radius
    room.set_always_visible(guide.id, True)
    seen = viewer.read(room.tick())
    np.testing.assert_allclose(seen[guide.id][0, :3], (-55, 1.6, -55), atol=0.001)
