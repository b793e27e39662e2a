"""The sync engine's scaling curve, with Colyseus' state sync on the same recorded crowd.

    python benchmarks/sync_scaling.py --sizes 100,1000,3000,10000,30000 --seconds 10 [--json]

For each number of visitors and each layout (uniform: 40 m² of plaza per visitor; packed:
1.5 m²), `thirdspace.sync.bench.run()` times the room tick of Third Space's sync engine on a
recorded crowd (head and both hands, 20 Hz) and reports bytes per client per second and per
avatar-part update, and the naive baseline (every avatar's float32 poses to everyone).
The same crowd (`record_crowd()` with the same arguments and seed) is then written to a
temporary file and encoded by `@colyseus/schema` (benchmarks/peers/colyseus_encode.mjs, run
with Node): a MapSchema of avatars, each with head and hands of seven float32 fields, one
patch per tick, which a Colyseus room sends to every client.  Both skip the first tenth of the
ticks (everyone's first, full, state); Colyseus' first full state is reported on its own.

Ratios are the other's bytes per client per second over Third Space's.  A trace is 84 bytes per
visitor per tick, so the seconds of a size are cut to keep one trace under --max-trace-mb.
Needs Node.js 20 on PATH and `npm ci --prefix benchmarks/peers` (scripts/test.sh runs it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from thirdspace.sync.bench import AREA_PER_VISITOR_M2, PACKED_AREA_M2, record_crowd, run

PEERS = Path(__file__).resolve().parent / "peers"
ENCODER = PEERS / "colyseus_encode.mjs"
LAYOUTS = {"uniform": AREA_PER_VISITOR_M2, "packed": PACKED_AREA_M2}
TRACE_BYTES_PER_VISITOR_TICK = 3 * 7 * 4
SEED = 7  # record_crowd's default, which run() uses


def node_command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        sys.exit("sync_scaling.py: Node.js 20 is needed on PATH (Debian: apt-get install nodejs npm)")
    if not (PEERS / "node_modules" / "@colyseus" / "schema").is_dir():
        sys.exit("sync_scaling.py: @colyseus/schema is not installed; run: npm ci --prefix benchmarks/peers")
    return [node, str(ENCODER)]


def write_trace(path: Path, trace: np.ndarray, tick_hz: float) -> None:
    """The trace file colyseus_encode.mjs reads: a JSON header line, then little-endian float32 (ticks, n, 3, 7)."""
    ticks, entities, parts, fields = trace.shape
    header = {"format": "thirdspace-crowd-trace", "version": 1, "ticks": ticks, "entities": entities}
    header |= {"parts": parts, "fields": fields, "tick_hz": tick_hz}
    with path.open("wb") as out:
        out.write((json.dumps(header) + "\n").encode())
        for tick in trace:
            out.write(np.ascontiguousarray(tick, "<f4").tobytes())


def colyseus(
    node: list[str], entities: int, ticks: int, tick_hz: float, area: float, max_ticks: int | None, verify: bool, work: Path
) -> dict:
    trace, _ = record_crowd(entities, ticks, tick_hz, seed=SEED, area_per_visitor_m2=area)
    path = work / f"crowd-{entities}-{area}.trace"
    write_trace(path, trace, tick_hz)
    del trace
    command = [*node, str(path)] + (["--max-ticks", str(max_ticks)] if max_ticks else []) + (["--verify"] if verify else [])
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        path.unlink()
    if result.returncode != 0:
        sys.exit(f"sync_scaling.py: {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def measure(args: argparse.Namespace, node: list[str], entities: int, layout: str, work: Path) -> dict:
    area = LAYOUTS[layout]
    seconds = min(args.seconds, args.max_trace_mb * 1e6 / (entities * TRACE_BYTES_PER_VISITOR_TICK * args.hz))
    decode = args.decode if entities <= args.decode_up_to else 0
    began = time.perf_counter()
    ours = run(entities, seconds=seconds, tick_hz=args.hz, decode=decode, area_per_visitor_m2=area)
    ours_s = time.perf_counter() - began
    began = time.perf_counter()
    peer = colyseus(node, entities, ours["ticks"], args.hz, area, args.colyseus_max_ticks, args.verify, work)
    peer_s = time.perf_counter() - began
    per_client = ours["bytes_per_client_per_s"]
    patch_bytes = peer.pop("patch_bytes")
    peer["patch_bytes_min"], peer["patch_bytes_max"] = min(patch_bytes), max(patch_bytes)
    return {
        "visitors": entities,
        "layout": layout,
        "area_per_visitor_m2": area,
        "seconds": ours["seconds"],
        "ticks": ours["ticks"],
        "visible_mean": ours["visible_mean"],
        "tick_ms_p50": ours["tick_ms_p50"],
        "tick_ms_p99": ours["tick_ms_p99"],
        "bytes_per_client_per_s": per_client,
        "bytes_per_part_update": ours["bytes_per_part_update"],
        "naive_bytes_per_client_per_s": ours["naive"]["bytes_per_client_per_s"],
        "naive_ratio": round(ours["naive"]["bytes_per_client_per_s"] / per_client, 1),
        "colyseus_bytes_per_client_per_s": peer["bytes_per_client_per_s"],
        "colyseus_ratio": round(peer["bytes_per_client_per_s"] / per_client, 1),
        "colyseus_bytes_per_part_update": peer["bytes_per_part_update"],
        "colyseus_encode_ms_p50": peer["encode_ms_p50"],
        "colyseus_ticks": peer["ticks"],
        "colyseus_capped": peer["capped"],
        "wall_s": {"thirdspace": round(ours_s, 1), "colyseus": round(peer_s, 1)},
        "thirdspace": ours,
        "colyseus": peer,
    }


def _kb(value: float) -> str:
    return f"{value / 1000:,.1f} kB"


def table(rows: list[dict]) -> str:
    lines = [
        "| visitors | layout | visible mean | tick p50 ms | tick p99 ms | bytes/client/s | bytes/part "
        "| naive bytes/client/s | naive ÷ ours | Colyseus bytes/client/s | Colyseus ÷ ours | Colyseus bytes/part | Colyseus encode ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        capped = f" (first {r['colyseus_ticks']} ticks)" if r["colyseus_capped"] else ""
        lines.append(
            f"| {r['visitors']:,} | {r['layout']} | {r['visible_mean']} | {r['tick_ms_p50']} | {r['tick_ms_p99']} "
            f"| {_kb(r['bytes_per_client_per_s'])} | {r['bytes_per_part_update']} | {_kb(r['naive_bytes_per_client_per_s'])} "
            f"| {r['naive_ratio']}× | {_kb(r['colyseus_bytes_per_client_per_s'])}{capped} | {r['colyseus_ratio']}× "
            f"| {r['colyseus_bytes_per_part_update']} | {r['colyseus_encode_ms_p50']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,3000,10000,30000", help="numbers of visitors, comma-separated")
    parser.add_argument("--layouts", default="uniform,packed", help=f"comma-separated, of {', '.join(LAYOUTS)}")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of crowd per size (cut by --max-trace-mb; default 10)")
    parser.add_argument("--hz", type=float, default=20.0, help="the room's tick rate (default 20)")
    parser.add_argument("--max-trace-mb", type=float, default=400.0, help="the largest trace held in memory (default 400 MB)")
    parser.add_argument("--decode", type=int, default=16, help="visitors whose snapshots the Python client decodes (default 16)")
    parser.add_argument("--decode-up-to", type=int, default=3000, help="decode only up to this many visitors (default 3000)")
    parser.add_argument("--colyseus-max-ticks", type=int, help="encode at most this many ticks with Colyseus (default: all)")
    parser.add_argument("--verify", action="store_true", help="a Colyseus client decodes every patch; its final state is checked")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args()
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    layouts = args.layouts.split(",")
    for layout in layouts:
        if layout not in LAYOUTS:
            parser.error(f"unknown layout {layout}")
    node = node_command()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sync-scaling-") as work:
        for entities in sizes:
            for layout in layouts:
                rows.append(measure(args, node, entities, layout, Path(work)))
                if not args.json:
                    print(f"{entities} {layout}: done in {sum(rows[-1]['wall_s'].values()):.0f} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"tick_hz": args.hz, "rows": rows}, indent=1))
    else:
        print(table(rows))
        version = rows[0]["colyseus"]["version"] if rows else "?"
        print(f"\n@colyseus/schema {version}; {args.hz:g} Hz; ratios are the other's bytes per client per second over Third Space's.")
        for r in rows:
            if r["colyseus_capped"]:
                print(f"Colyseus at {r['visitors']:,} {r['layout']}: the first {r['colyseus_ticks']} of {r['ticks']} ticks only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
