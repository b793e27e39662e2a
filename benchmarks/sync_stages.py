"""Time each sync kernel of the tick on the bench crowd, medians over the ticks after the first tenth.

    python benchmarks/sync_stages.py --entities 1000
    python benchmarks/sync_stages.py --entities 10000 --area 1.5 --seconds 3

Run it twice with different PYTHONPATHs (for example a worktree of an older commit) to compare two
versions of the kernels side by side on the same trace; give each its own NUMBA_CACHE_DIR.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT
from thirdspace.sync import kernels
from thirdspace.sync.bench import AREA_PER_VISITOR_M2, record_crowd
from thirdspace.sync.engine import SyncEngine, warm_up

STAGES = ["quantise", "build_grid", "sort_by_cell", "select_interest", "encode_snapshots"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--area", type=float, default=AREA_PER_VISITOR_M2, help="square metres per visitor (1.5: packed)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--ack-delay", type=int, default=1)
    args = parser.parse_args()
    warm_up()
    times: dict[str, list[float]] = {}

    def timed(name, kernel):
        def call(*a):
            begin = time.perf_counter()
            result = kernel(*a)
            times.setdefault(name, []).append(time.perf_counter() - begin)
            return result

        return call

    for name in STAGES:
        if hasattr(kernels, name):  # older versions have fewer stages
            setattr(kernels, name, timed(name, getattr(kernels, name)))
    n, ticks = args.entities, int(args.seconds * 20)
    trace, side = record_crowd(n, ticks, 20.0, area_per_visitor_m2=args.area)
    engine = SyncEngine(n, (0.0, 0.0, 0.0), (side, 3.0, side))
    ids = np.arange(1, n + 1, dtype=np.uint16)
    flags = np.full(n, FLAG_LEFT | FLAG_RIGHT, np.uint8)
    has_pose = np.ones(n, np.bool_)
    clients = np.arange(n, dtype=np.int64)
    always = np.zeros(0, np.int64)
    total, sent = [], []
    for t in range(ticks):
        begin = time.perf_counter()
        engine.tick(t + 1, trace[t], flags, has_pose, ids, clients, always)
        total.append(time.perf_counter() - begin)
        sent.append(engine.client_seq[:n].copy())
        if len(sent) >= args.ack_delay:
            for slot, seq in enumerate(sent[-args.ack_delay]):
                engine.acknowledge(slot, int(seq))
    skip = ticks // 10
    report = {"entities": n, "area_per_visitor_m2": args.area, "ack_delay": args.ack_delay}
    report |= {f"{k}_ms": round(1000 * statistics.median(v[skip:]), 3) for k, v in times.items()}
    rest = sorted(total[skip:])
    report |= {"tick_ms_p50": round(1000 * statistics.median(rest), 3), "tick_ms_p99": round(1000 * rest[int(0.99 * len(rest))], 3)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
