"""The numba kernels agree with the plain reference, bit for bit, on random rooms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT
from thirdspace.sync import kernels, reference
from thirdspace.sync.decode import SnapshotDecoder
from thirdspace.sync.engine import SyncEngine, SyncSettings

BOUNDS_MIN = np.array([-20.0, -1.0, -20.0])
BOUNDS_MAX = np.array([20.0, 6.0, 20.0])
SPAN = BOUNDS_MAX - BOUNDS_MIN
AXIS_MAX = np.array([round(v * 512) for v in SPAN], np.int64)


def random_quaternions(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(2 * math.acos(min(1.0, abs(float(np.dot(a, b))))))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), spread=st.sampled_from([0.0, 1e-3, 1.0, 25.0]))
def test_quantise_matches_reference_and_meets_error_bounds(seed, n, spread):
    rng = np.random.default_rng(seed)
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, :3] = rng.uniform(BOUNDS_MIN - spread, BOUNDS_MAX + spread, size=(n, 3, 3))
    parts[:, :, 3:] = random_quaternions(rng, n * 3).reshape(n, 3, 4)
    got = np.zeros((n, 3, 4), np.int64)
    kernels.quantise(parts, BOUNDS_MIN, AXIS_MAX, got)
    np.testing.assert_array_equal(got, reference.quantise(parts, BOUNDS_MIN, AXIS_MAX))
    decoder = SnapshotDecoder(BOUNDS_MIN, BOUNDS_MAX)
    for i in range(n):
        pose = decoder.pose((FLAG_LEFT | FLAG_RIGHT, got[i].astype(np.int64)))
        for p in range(3):
            true = parts[i, p, :3].astype(np.float64)
            if np.all(true >= BOUNDS_MIN) and np.all(true <= BOUNDS_MAX):
                assert np.max(np.abs(pose[p, :3] - true)) <= 0.001 + 1e-6
            assert angle_deg(pose[p, 3:].astype(np.float64), parts[i, p, 3:].astype(np.float64)) <= 0.2


@pytest.mark.parametrize(
    "quaternion", [(0, 0, 0, 1), (0, 0, 0, -1), (1, 0, 0, 0), (0.5, 0.5, 0.5, 0.5), (-0.5, 0.5, -0.5, 0.5), (0.7071068, 0, 0, 0.7071068)]
)
def test_quaternion_edge_cases(quaternion):
    packed = kernels.pack_quaternion(*quaternion)
    assert packed == reference.pack_quaternion(*quaternion)
    assert angle_deg(reference.unpack_quaternion(int(packed)), np.array(quaternion, np.float64)) <= 0.2


# -- interest -----------------------------------------------------------------------

layouts = st.sampled_from(["uniform", "one_cell", "one_point", "cell_borders", "bounds"])


def make_room(rng: np.random.Generator, n: int, layout: str, cell_m: float):
    positions = np.zeros((n, 3), np.float32)
    if layout == "uniform":
        positions[:] = rng.uniform(BOUNDS_MIN, BOUNDS_MAX, size=(n, 3))
    elif layout == "one_cell":
        positions[:] = rng.uniform(0.1, cell_m * 0.9, size=(n, 3))
    elif layout == "one_point":
        positions[:] = (1.5, 1.6, -2.0)
    elif layout == "cell_borders":
        cells = rng.integers(0, max(1, int(SPAN[0] / cell_m)), size=(n, 3))
        positions[:] = BOUNDS_MIN + cells * cell_m
        positions[:, 1] = 1.6
    else:  # on the faces of the bounds
        positions[:] = rng.choice([0.0, 1.0], size=(n, 3)) * SPAN + BOUNDS_MIN
    has_pose = rng.random(n) < 0.9
    ids = rng.permutation(np.arange(1, n + 1)).astype(np.uint16)
    return positions, has_pose, ids


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 50),
    layout=layouts,
    k=st.integers(1, 10),
    radius=st.sampled_from([0.5, 5.0, 12.0, 30.0, 100.0]),
    n_always=st.integers(0, 3),
)
def test_interest_matches_brute_force(seed, n, layout, k, radius, n_always):
    rng = np.random.default_rng(seed)
    engine = SyncEngine(max(n, 1), BOUNDS_MIN, BOUNDS_MAX, SyncSettings(interest_radius_m=radius, max_visible=k, max_always_visible=3))
    positions, has_pose, ids = make_room(rng, n, layout, engine.cell_m)
    always = np.sort(rng.choice(n, size=min(n, n_always), replace=False)).astype(np.int64) if n else np.zeros(0, np.int64)
    clients = np.arange(n, dtype=np.int64)
    engine.select(positions, has_pose, ids, clients, always)
    expected = reference.select_interest(positions, has_pose, ids, always, clients, radius, k)
    for c in clients:
        chosen, n_always_expected = expected[c]
        count = engine.sel_count[c]
        assert engine.sel_always[c] == n_always_expected
        assert [(int(s), float(d)) for s, d in zip(engine.sel_slot[c, :count], engine.sel_d2[c, :count], strict=True)] == chosen


# -- delta encoding -----------------------------------------------------------------


def walk(rng, parts, has_pose, step_m):
    """Everyone moves a little; some turn, some raise or drop a hand, a few teleport."""
    n = len(parts)
    parts[:, :, :3] += rng.normal(scale=step_m, size=(n, 3, 3)).astype(np.float32)
    parts[:, :, :3] = np.clip(parts[:, :, :3], BOUNDS_MIN, BOUNDS_MAX)
    turning = rng.random(n) < 0.5
    parts[turning, :, 3:] = random_quaternions(rng, int(turning.sum()) * 3).reshape(-1, 3, 4)
    jumpers = rng.random(n) < 0.05
    parts[jumpers, :, :3] = rng.uniform(BOUNDS_MIN, BOUNDS_MAX, size=(int(jumpers.sum()), 3, 3))
    has_pose |= rng.random(n) < 0.2
    return jumpers


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 24),
    layout=layouts,
    k=st.integers(1, 8),
    budget=st.sampled_from([64, 150, 400, 5000]),
    step_m=st.sampled_from([0.0, 0.002, 0.05, 3.0]),
    ack_mode=st.sampled_from(["every", "lagging", "never", "random"]),
)
def test_encoder_matches_reference_and_decodes_to_the_held_state(seed, n, layout, k, budget, step_m, ack_mode):
    rng = np.random.default_rng(seed)
    sync_settings = SyncSettings(interest_radius_m=15.0, max_visible=k, max_always_visible=2, budget_bytes=budget, ring=4, history=6)
    engine = SyncEngine(n, BOUNDS_MIN, BOUNDS_MAX, sync_settings)
    positions, has_pose, ids = make_room(rng, n, layout, engine.cell_m)
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, :3] = positions[:, None, :]
    parts[:, :, 3:] = random_quaternions(rng, n * 3).reshape(n, 3, 4)
    flags = rng.integers(0, 4, size=n).astype(np.uint8)
    always = np.array([0], np.int64) if n > 2 else np.zeros(0, np.int64)
    clients = np.arange(n, dtype=np.int64)
    ref = reference.ReferenceEncoder(sync_settings.ring, sync_settings.history, engine.axis_bits, sync_settings.full_rate_m, budget * 8)
    decoders = [SnapshotDecoder(BOUNDS_MIN, BOUNDS_MAX) for _ in range(n)]
    pending: list[list[int]] = [[] for _ in range(n)]  # seqs the client decoded, not yet acknowledged
    acks: list[int | None] = [None] * n
    for tick in range(1, 9):
        jumpers = walk(rng, parts, has_pose, step_m)
        flags = (flags & np.uint8(0xFF ^ FLAG_TELEPORT)) | np.where(jumpers, FLAG_TELEPORT, 0).astype(np.uint8)
        flags ^= (rng.random(n) < 0.1).astype(np.uint8) * FLAG_LEFT
        output = engine.tick(tick, parts, flags, has_pose, ids, clients, always)
        chosen = reference.select_interest(parts[:, 0, :3], has_pose, ids, always, clients, 15.0, k)
        for c in range(n):
            got = bytes(output.snapshot(c))
            expected = ref.encode(tick, c, acks[c], ids, engine.q, flags, *chosen[c])
            assert got == expected, f"client {c} tick {tick}"
            seq, view = decoders[c].decode(got)
            row = seq % sync_settings.ring
            count = engine.ring_count[c, row]
            assert sorted(view) == engine.ring_ids[c, row, :count].tolist()
            for j in range(count):
                vid = int(engine.ring_ids[c, row, j])
                held_tick = int(engine.ring_tick[c, row, j])
                if tick - held_tick >= sync_settings.history:
                    continue  # the server no longer keeps that state; its next update will be absolute
                slot = int(np.flatnonzero(ids == vid)[0])
                truth = engine.hist_q[held_tick % sync_settings.history, slot].astype(np.int64)
                held_flags, held_parts = view[vid]
                assert held_flags == engine.ring_flags[c, row, j]
                assert np.array_equal(held_parts[0], truth[0])
                for p, bit in ((1, FLAG_LEFT), (2, FLAG_RIGHT)):
                    if held_flags & bit:
                        assert np.array_equal(held_parts[p], truth[p])
            pending[c].append(seq)
            if ack_mode == "every" or (ack_mode == "random" and rng.random() < 0.6):
                acks[c] = pending[c][-1]
            elif ack_mode == "lagging" and len(pending[c]) > 2:
                acks[c] = pending[c][-3]
            engine.client_ack[c] = -1 if acks[c] is None else acks[c]


def test_unchanged_avatars_cost_one_bit_and_new_ones_are_explicit():
    engine = SyncEngine(3, BOUNDS_MIN, BOUNDS_MAX)
    parts = np.zeros((3, 3, 7), np.float32)
    parts[:, :, 6] = 1
    parts[:, 0, :3] = [[0, 1.6, 0], [1, 1.6, 0], [0, 1.6, 1]]
    has_pose = np.ones(3, bool)
    ids = np.array([5, 6, 7], np.uint16)
    flags = np.zeros(3, np.uint8)
    clients = np.arange(3, dtype=np.int64)
    none = np.zeros(0, np.int64)
    first = bytes(engine.tick(1, parts, flags, has_pose, ids, clients, none).snapshot(0))
    decoder = SnapshotDecoder(BOUNDS_MIN, BOUNDS_MAX)
    seq, view = decoder.decode(first)
    assert first[1] == 1 and sorted(view) == [6, 7]  # a full snapshot: both others new
    engine.acknowledge(0, seq)
    second = bytes(engine.tick(2, parts, flags, has_pose, ids, clients, none).snapshot(0))
    # header, one "unchanged" bit per held avatar, one "no new avatars" bit
    assert len(second) == 6 + 1 and second[6] == 0
    seq, view = decoder.decode(second)
    assert sorted(view) == [6, 7]
    engine.acknowledge(0, seq)
    has_pose[2] = False  # visitor 7 left
    third = bytes(engine.tick(3, parts, flags, has_pose, ids, clients, none).snapshot(0))
    _, view = decoder.decode(third)
    assert sorted(view) == [6]


def test_more_always_visible_avatars_than_the_engine_holds_are_cut_to_its_width():
    """Say 20 guides in one room: the first max_always_visible are always seen, and nothing writes past the arrays."""
    n = 40
    settings = SyncSettings(max_visible=4, max_always_visible=3)
    engine = SyncEngine(n, BOUNDS_MIN, BOUNDS_MAX, settings)
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, 6] = 1
    parts[:, 0, 0] = np.linspace(-19, 19, n)  # a line 38 m long: most are out of one another's interest
    parts[:, 0, 1] = 1.6
    ids = np.arange(1, n + 1, dtype=np.uint16)
    always = np.arange(20, 40, dtype=np.int64)  # 20 always-visible avatars, more than the 3 the engine holds
    output = engine.tick(1, parts, np.zeros(n, np.uint8), np.ones(n, bool), ids, np.arange(n, dtype=np.int64), always)
    _, view = SnapshotDecoder(BOUNDS_MIN, BOUNDS_MAX).decode(bytes(output.snapshot(0)))
    assert {21, 22, 23} <= set(view) and len(view) <= settings.max_visible + settings.max_always_visible
    assert engine.sel_count.max() <= settings.max_visible + settings.max_always_visible
