"""Voice selection in one room of walkers: how many pairs form or end per second, and what a selection costs.

    python benchmarks/voice_churn.py --visitors 1000 --rounds 60

A room of the market scene (120 x 120 m) with every visitor listening and every other one
speaking; each walks at 1.2 m/s towards a random point, a new one when it arrives. Every
round is half a second of walking, one sync tick (which builds the spatial hash) and one
voice selection, as the room's tick task runs them at 2 Hz. Prints the median pair changes
per second, the pairs held, and the median and 90th percentile time of one selection
(the kernel and the room's bookkeeping, in this process: no sockets). BENCHMARKS.md
("Voice") reports a run; thirdspace loadtest --voice measures the same on a live server.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from thirdspace.config import PROJECT_ROOT
from thirdspace.rooms.room import Room
from thirdspace.scenes.model import load_directory
from thirdspace.voice import selection

WALK_MPS = 1.2
ROUND_S = 0.5


def run(visitors: int, rounds: int, seed: int = 1) -> dict:
    selection.warm_up()
    scenes, _ = load_directory(Path(PROJECT_ROOT / "scenes"))
    room = Room("market-bench", scenes["market"])
    rng = np.random.default_rng(seed)
    half = 55.0
    where = rng.uniform(-half, half, (visitors, 2))
    going = rng.uniform(-half, half, (visitors, 2))
    slots = []
    for i in range(visitors):
        visitor, _ = room.join(f"walker {i}", "en", "#4a90d9", 0.0)
        slots.append(visitor.slot)
        room.set_voice(visitor.id, True, i % 2 == 0, False, 0.0)
    slot = np.array(slots)
    changes, seconds = [], []
    for n in range(rounds):
        ahead = going - where
        left = np.linalg.norm(ahead, axis=1, keepdims=True)
        where = where + ahead / np.maximum(left, 1e-9) * np.minimum(WALK_MPS * ROUND_S, left)
        arrived = left[:, 0] < 0.1
        going[arrived] = rng.uniform(-half, half, (int(arrived.sum()), 2))
        room.parts[slot, 0, 0], room.parts[slot, 0, 1], room.parts[slot, 0, 2] = where[:, 0], 1.6, where[:, 1]
        room.tick()
        before = room.voice.pair_changes
        started = time.perf_counter()
        room.voice_round()
        seconds.append(time.perf_counter() - started)
        if n >= 10:  # after the first pairs have formed
            changes.append(room.voice.pair_changes - before)
    return {
        "visitors": visitors,
        "rounds": rounds,
        "pair_changes_per_s": float(np.median(changes)) / ROUND_S,
        "pairs": len(room.voice.ordinary) + len(room.voice.forced),
        "pairs_per_visitor": round(2 * len(room.voice.ordinary) / visitors, 2),
        "select_ms_p50": round(1000 * float(np.median(seconds[1:])), 2),
        "select_ms_p90": round(1000 * float(np.percentile(seconds[1:], 90)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    print(json.dumps(run(args.visitors, args.rounds)))


if __name__ == "__main__":
    main()
