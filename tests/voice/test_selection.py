"""Voice selection: the kernel on the sync grid against the plain-Python rule; the cap, the hysteresis, forced pairs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from thirdspace.sync import kernels
from thirdspace.sync.engine import SyncEngine
from thirdspace.voice.room import RoomVoice, VoiceRules
from thirdspace.voice.selection import select_pairs, select_pairs_reference

BOUNDS = ((-50.0, -1.0, -50.0), (50.0, 5.0, 50.0))


def kernel_pairs(positions, listens, speaks, current, forced, enter_m, exit_m, k):
    """Run select_pairs on the grid a sync tick builds; visitor ids are slots + 1."""
    n = len(positions)
    engine = SyncEngine(n, *BOUNDS)
    pos = np.asarray(positions, np.float64)
    kernels.build_grid(pos, np.ones(n, np.bool_), engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z,
                       engine.cell_of, engine.cell_start, engine.cell_items)  # fmt: skip
    ids = np.arange(1, n + 1, dtype=np.uint16)
    listen_mask = np.array([i + 1 in listens for i in range(n)], np.bool_)
    speak_mask = np.array([i + 1 in speaks for i in range(n)], np.bool_)
    partners = np.zeros((n, max(k, 1)), np.int64)
    count = np.zeros(n, np.int64)
    for a, b in current:
        partners[a - 1, count[a - 1]] = b - 1
        partners[b - 1, count[b - 1]] = a - 1
        count[a - 1] += 1
        count[b - 1] += 1
    fa = np.array([a - 1 for a, _ in forced], np.int64)
    fb = np.array([b - 1 for _, b in forced], np.int64)
    members = np.array(sorted(i - 1 for i in listens), np.int64)
    out_a = np.zeros(n * k // 2 + 1, np.int64)
    out_b = np.zeros_like(out_a)
    got = select_pairs(members, listen_mask, speak_mask, ids, pos, engine.bounds_min, engine.cell_m, engine.grid_x,
                       engine.grid_z, engine.cell_start, engine.cell_items, partners, count, fa, fb, enter_m, exit_m, k,
                       out_a, out_b)  # fmt: skip
    return {(int(a) + 1, int(b) + 1) for a, b in zip(out_a[:got], out_b[:got], strict=True)}


coordinate = st.floats(-45, 45, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(coordinate, st.just(1.6), coordinate), min_size=2, max_size=40),
    st.data(),
    st.integers(1, 5),
)
def test_the_kernel_chooses_what_the_rule_says(positions, data, k):
    n = len(positions)
    ids = list(range(1, n + 1))
    listens = set(data.draw(st.lists(st.sampled_from(ids), unique=True)))
    speaks = set(data.draw(st.lists(st.sampled_from(ids), unique=True))) & listens
    pairs = [(a, b) for a in sorted(listens) for b in sorted(listens) if a < b]
    current = set(data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=k))) if pairs else set()
    # a valid current set: nobody over the cap
    degree: dict[int, int] = {}
    kept = set()
    for a, b in sorted(current):
        if degree.get(a, 0) < k and degree.get(b, 0) < k:
            degree[a], degree[b] = degree.get(a, 0) + 1, degree.get(b, 0) + 1
            kept.add((a, b))
    forced = set(data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3))) if pairs else set()
    by_id = {i + 1: p for i, p in enumerate(positions)}
    expected = select_pairs_reference(by_id, listens, speaks, kept, forced, 12.0, 13.8, k)
    assert kernel_pairs(positions, listens, speaks, kept, forced, 12.0, 13.8, k) == expected


def test_nearest_first_and_nobody_over_the_cap():
    # one speaker in the middle, ten listeners at 1..10 m: the speaker keeps the three nearest
    positions = [(0.0, 1.6, 0.0)] + [(float(d), 1.6, 0.0) for d in range(1, 11)]
    listens = set(range(1, 12))
    chosen = kernel_pairs(positions, listens, {1}, set(), set(), 12.0, 13.8, 3)
    assert chosen == {(1, 2), (1, 3), (1, 4)}


def test_pairs_are_kept_until_the_exit_radius_and_against_a_slightly_nearer_newcomer():
    speaker, listener, newcomer = (0.0, 1.6, 0.0), (13.0, 1.6, 0.0), (11.0, 1.6, 0.0)
    # 13 m: too far to begin, near enough to go on
    assert kernel_pairs([speaker, listener], {1, 2}, {1}, set(), set(), 12.0, 13.8, 1) == set()
    assert kernel_pairs([speaker, listener], {1, 2}, {1}, {(1, 2)}, set(), 12.0, 13.8, 1) == {(1, 2)}
    assert kernel_pairs([speaker, (14.0, 1.6, 0.0)], {1, 2}, {1}, {(1, 2)}, set(), 12.0, 13.8, 1) == set()
    # with room for one voice, the existing 13 m pair holds against a newcomer at 11 m (13 * 0.7 < 11)...
    assert kernel_pairs([speaker, listener, newcomer], {1, 2, 3}, {1}, {(1, 2)}, set(), 12.0, 13.8, 1) == {(1, 2)}
    # ...but not against one at 5 m
    near = (5.0, 1.6, 0.0)
    assert kernel_pairs([speaker, listener, near], {1, 2, 3}, {1}, {(1, 2)}, set(), 12.0, 13.8, 1) == {(1, 3)}


def test_a_room_tells_each_visitor_only_the_changes():
    voice = RoomVoice(VoiceRules(hearing_radius_m=12.0, max_voices=8), capacity=8)
    for visitor, slot in ((1, 0), (2, 1), (3, 2)):
        voice.set_state(visitor, slot, listen=True, speak=visitor == 1, announce=False, now=0.0)
    engine = SyncEngine(8, *BOUNDS)
    positions = np.zeros((8, 3))
    positions[:3] = [(0, 1.6, 0), (3, 1.6, 0), (30, 1.6, 0)]
    kernels.build_grid(positions, np.ones(8, np.bool_), engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z,
                       engine.cell_of, engine.cell_start, engine.cell_items)  # fmt: skip
    grid = (engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z, engine.cell_start, engine.cell_items)
    ids = np.arange(1, 9, dtype=np.uint16)
    first = dict(voice.select(ids, positions, grid, []))
    assert first == {1: {"type": "voice_peers", "add": [{"id": 2, "offer": True}], "remove": []},
                     2: {"type": "voice_peers", "add": [{"id": 1, "offer": False}], "remove": []}}  # fmt: skip
    assert voice.select(ids, positions, grid, []) == []  # nothing changed: nothing said
    # a guide (1) and their group (3, 30 m away): always audible
    guided = dict(voice.select(ids, positions, grid, [(1, [3])]))
    assert guided == {1: {"type": "voice_peers", "add": [{"id": 3, "offer": True}], "remove": []},
                      3: {"type": "voice_peers", "add": [{"id": 1, "offer": False}], "remove": []}}  # fmt: skip
    # a moderator mutes 1: every connection of theirs ends now; the next round pairs them with nobody (they only could speak)
    muted = voice.set_room_muted(1, True)
    state = {"type": "voice_state", "listen": True, "speak": True, "announce": False, "room_muted": True, "transport": "p2p"}
    assert muted[0] == (1, state)
    dropped = {"type": "voice_peers", "add": [], "remove": [1]}
    assert (2, dropped) in muted and (3, dropped) in muted
    assert voice.select(ids, positions, grid, [(1, [3])]) == []
    # 2 starts speaking: 1 and 2 pair again, and 2 is told that 1 is muted
    voice.set_state(2, 1, listen=True, speak=True, announce=False, now=1.0)
    again = dict(voice.select(ids, positions, grid, []))
    assert again[2]["add"] == [{"id": 1, "offer": False, "muted": True}]
    assert voice.leave(2) == [(1, {"type": "voice_peers", "add": [], "remove": [2]})]


def test_through_an_sfu_each_visitor_is_told_of_the_publishers_among_their_partners():
    voice = RoomVoice(VoiceRules(hearing_radius_m=12.0, max_voices=8, sfu=True), capacity=4)
    voice.set_state(1, 0, listen=True, speak=True, announce=False, now=0.0)
    voice.set_state(2, 1, listen=True, speak=False, announce=False, now=0.0)
    voice.members[1].feed = 4242
    engine = SyncEngine(4, *BOUNDS)
    positions = np.zeros((4, 3))
    positions[:2] = [(0, 1.6, 0), (3, 1.6, 0)]
    kernels.build_grid(positions, np.ones(4, np.bool_), engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z,
                       engine.cell_of, engine.cell_start, engine.cell_items)  # fmt: skip
    grid = (engine.bounds_min, engine.cell_m, engine.grid_x, engine.grid_z, engine.cell_start, engine.cell_items)
    told = voice.select(np.arange(1, 5, dtype=np.uint16), positions, grid, [])
    assert told == [(2, {"type": "voice_peers", "add": [{"id": 1, "feed": 4242}], "remove": []})]  # 2 publishes nothing
    assert voice.leave(1) == [(2, {"type": "voice_peers", "add": [], "remove": [1]})]
    assert voice.leave(2) == []
