"""After start-up's warm-up, the first visitor's poses and ticks compile nothing new."""

import numpy as np

from tests.conftest import demo_scene
from thirdspace.protocol.codec import decode_pose, encode_pose
from thirdspace.protocol.constants import FLAG_ACK, FLAG_LEFT, FLAG_RIGHT
from thirdspace.rooms import inbox
from thirdspace.rooms.room import Room
from thirdspace.scenes.model import validate as validate_scene
from thirdspace.sync import kernels, validate
from thirdspace.sync.engine import warm_up

KERNELS = [
    kernels.quantise,
    kernels.build_grid,
    kernels.sort_by_cell,
    kernels.select_interest,
    kernels.encode_snapshots,
    validate.accept_pose,
    inbox.check_all,
]


def test_the_server_path_uses_only_warmed_up_signatures():
    warm_up()
    inbox.warm_up()
    before = {k.py_func.__name__: list(k.signatures) for k in KERNELS}
    room = Room("market-1", validate_scene(demo_scene("market")))
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    bo, _ = room.join("Bo", "en", "#000000", now=0)
    parts = np.zeros((3, 7), np.float32)
    parts[:, 6] = 1
    parts[0, :3] = (0, 1.6, 20)
    parts[1, :3] = (-0.2, 1.2, 20)
    parts[2, :3] = (0.2, 1.2, 20)
    for tick in range(3):
        for visitor in (ama, bo):
            flags, ack, pose = decode_pose(encode_pose(parts, FLAG_LEFT | FLAG_RIGHT | FLAG_ACK, tick))
            assert room.accept_pose(visitor.id, flags, pose, now=tick * 0.05, ack=ack)
        assert len(room.tick().snapshot(ama.slot)) > 0
    after = {k.py_func.__name__: list(k.signatures) for k in KERNELS}
    assert after == before
