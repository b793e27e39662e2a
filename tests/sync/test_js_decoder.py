"""The browser client's snapshot decoder (web_client/src/protocol.js) agrees with the Python one."""

import json
import shutil
import subprocess

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from thirdspace.config import PROJECT_ROOT
from thirdspace.protocol.constants import FLAG_LEFT, FLAG_TELEPORT
from thirdspace.sync.decode import SnapshotDecoder
from thirdspace.sync.engine import SyncEngine, SyncSettings

SCRIPT = PROJECT_ROOT / "tests" / "tools" / "decode_snapshots.mjs"
BOUNDS = ([-30.0, -1.0, -12.0], [30.0, 7.0, 12.0])


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 30),
    budget=st.sampled_from([100, 1200]),
    ack_every=st.integers(1, 3),
    ack_delay=st.integers(1, 6),
)
def test_js_decoder_matches_python(tmp_path_factory, seed, n, budget, ack_every, ack_delay):
    """Both decoders hold the same views and show the same states, with acknowledgements prompt or late."""
    node = shutil.which("node")
    assert node, "Node.js is needed for this test"
    rng = np.random.default_rng(seed)
    engine = SyncEngine(n, *BOUNDS, SyncSettings(interest_radius_m=20.0, max_visible=12, budget_bytes=budget))
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, :3] = rng.uniform(BOUNDS[0], BOUNDS[1], size=(n, 3, 3))
    ids = rng.permutation(np.arange(1, n + 1)).astype(np.uint16)
    flags = rng.integers(0, 4, size=n).astype(np.uint8)
    clients = np.arange(n, dtype=np.int64)
    python = SnapshotDecoder(*BOUNDS)
    frames, expected, shown = [], [], []
    decoded_seqs: list[int] = []
    for tick in range(1, 25):
        parts[:, :, :3] = np.clip(parts[:, :, :3] + rng.normal(scale=0.05, size=(n, 3, 3)), BOUNDS[0], BOUNDS[1])
        q = rng.normal(size=(n, 3, 4))
        parts[:, :, 3:] = q / np.linalg.norm(q, axis=2, keepdims=True)
        flags = (flags & 3) ^ (rng.random(n) < 0.1).astype(np.uint8) * FLAG_LEFT
        flags |= (rng.random(n) < 0.05).astype(np.uint8) * FLAG_TELEPORT
        frame = bytes(engine.tick(tick, parts, flags, np.ones(n, bool), ids, clients, np.zeros(0, np.int64)).snapshot(0))
        frames.append(frame.hex())
        seq, view = python.decode(frame)
        expected.append({vid: (held[0], python.pose(held), vid in python.teleported) for vid, held in view.items()})
        shown.append({vid: (held[0], python.pose(held)) for vid, held in python.shown.items()})
        decoded_seqs.append(seq)
        if tick % ack_every == 0 and len(decoded_seqs) >= ack_delay:
            engine.acknowledge(0, decoded_seqs[-ack_delay])
    path = tmp_path_factory.mktemp("frames") / "frames.json"
    path.write_text(json.dumps({"bounds": {"min": BOUNDS[0], "max": BOUNDS[1]}, "frames": frames}))
    result = subprocess.run([node, str(SCRIPT), str(path)], capture_output=True, text=True, check=True, timeout=60)
    decoded = json.loads(result.stdout)
    for got, want, want_shown in zip(decoded, expected, shown, strict=True):
        assert {int(k) for k in got["avatars"]} == set(want)
        for vid, (flags_held, pose, teleported) in want.items():
            avatar = got["avatars"][str(vid)]
            assert avatar["flags"] == flags_held and avatar["teleported"] == teleported
            np.testing.assert_allclose(avatar["pose"], pose.ravel(), atol=2e-6)
        assert {int(k) for k in got["shown"]} == set(want_shown)
        for vid, (flags_shown, pose) in want_shown.items():
            assert got["shown"][str(vid)]["flags"] == flags_shown
            np.testing.assert_allclose(got["shown"][str(vid)]["pose"], pose.ravel(), atol=2e-6)
