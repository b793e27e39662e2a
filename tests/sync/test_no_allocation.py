"""A tick allocates nothing that grows with the room: no NRT arrays inside the kernels, no NumPy buffers around them.

Run in a child process because numba counts NRT allocations only when ``NUMBA_NRT_STATS`` is set before import.
"""

import json
import os
import subprocess
import sys

CHILD = r"""
import json, tracemalloc
import numpy as np
from numba.core.runtime import rtsys
from thirdspace.sync.engine import SyncEngine, SyncSettings, warm_up

warm_up()  # compiles the kernels and starts numba's runtime, whose statistics are read below


def measure(n):
    rng = np.random.default_rng(7)
    side = 1.6 * n ** 0.5  # a dense crowd: most visitors see the 64 nearest
    engine = SyncEngine(n, (-side, -1, -side), (side, 6, side), SyncSettings(max_visible=64, budget_bytes=4096))
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, 6] = 1
    parts[:, :, :3] = rng.uniform((-side, 0, -side), (side, 2, side), size=(n, 1, 3))
    flags = np.zeros(n, np.uint8)
    has_pose = np.ones(n, np.bool_)
    ids = np.arange(1, n + 1, dtype=np.uint16)
    clients = np.arange(n, dtype=np.int64)
    always = np.array([0, 1], np.int64)
    moves = rng.normal(0, 0.02, size=(20, n, 1, 3)).astype(np.float32)
    allocs, peaks, sent = [], [], 0
    tracemalloc.start()
    for tick in range(20):
        parts[:, :, :3] += moves[tick]
        before = rtsys.get_allocation_stats()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        engine.tick(tick, parts, flags, has_pose, ids, clients, always)
        _, peak = tracemalloc.get_traced_memory()
        after = rtsys.get_allocation_stats()
        sent += int(engine.parts_sent.sum())
        if tick >= 8:  # past the first, full snapshots: every encoder path runs
            allocs.append(after.alloc - before.alloc)
            peaks.append(peak - base)
        for slot in range(0, n, 3):  # some clients acknowledge, some lag a tick
            engine.acknowledge(slot, int(engine.client_seq[slot]) - (slot % 2))
    tracemalloc.stop()
    return {"allocs": allocs, "peak_bytes": max(peaks), "sent": sent}


print(json.dumps({n: measure(n) for n in (300, 3000)}))
"""


def test_a_tick_allocates_nothing_that_grows_with_the_room():
    env = os.environ | {"NUMBA_NRT_STATS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr
    small, large = json.loads(result.stdout.splitlines()[-1]).values()
    assert small["sent"] > 0 and large["sent"] > 0, (small, large)  # the ticks did encode avatars
    # The only NRT allocations are the array arguments' wrappers, made when Python calls a kernel: the same
    # number every tick, whatever the room holds.  One allocation per visitor would add thousands.
    assert len(set(small["allocs"] + large["allocs"])) == 1, (small["allocs"], large["allocs"])
    assert small["allocs"][0] < 128, small["allocs"]
    # NumPy and Python around the kernels: views and small ints only.  One int64 array per visitor of the
    # large room would be 24 kB.
    assert small["peak_bytes"] < 4096 and large["peak_bytes"] < 4096, (small["peak_bytes"], large["peak_bytes"])
