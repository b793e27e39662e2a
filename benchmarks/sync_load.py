"""One crowded room, the server on one core and the bots on another.

    python benchmarks/sync_load.py --clients 1000 --seconds 60

Starts `thirdspace serve` pinned to CPU 0 (a fresh data directory, the demo scenes) on a
free port, waits for it, runs `thirdspace loadtest --cpus 1` against one room of the
`market` scene (capacity 1,000) and stops the server. The walking bots are lean ones
(`loadtest --lean`: raw sockets, their snapshots counted, not decoded); the latency probes
are full clients that decode. Prints the load tester's JSON
report, then its summary as JSON (errors, pose-to-peer latency p50/p99, the server's CPU
as a share of its core, the bots' CPU) and as a markdown row for BENCHMARKS.md. The
target: 1,000 bots at 20 Hz for 60 s with zero errors, p99 at most 100 ms and the server
at most 70 % of its core. When a bot process is saturated the summary says so: the
latency is then the load generator's, not the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from failover import stop
from slow_consumers import free_port, wait_ready


def start_server(data_dir: Path, log: Path, cpu: int, source: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--data-dir", str(data_dir)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | {"THIRDSPACE_LOG_LEVEL": "WARNING"}
    if source is not None:  # another checkout's server (its kernels cached apart), against this checkout's load tester
        env |= {"PYTHONPATH": str(source / "server"), "NUMBA_CACHE_DIR": str(source / ".numba-cache")}
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=lambda: os.sched_setaffinity(0, {cpu})
        )
    return process, f"http://127.0.0.1:{port}"


def summarise(report: dict, args: argparse.Namespace) -> dict:
    p99 = report["latency_ms_p99"]
    return {
        "clients": args.clients,
        "connected": report["clients_connected"],
        "seconds": report["seconds"],
        "hz": report["hz"],
        "errors": report["errors"],
        "latency_ms_p50": report["latency_ms_p50"],
        "latency_ms_p99": p99,
        "server_cpu_percent": report["server_cpu_percent"],  # of the one core it is pinned to
        "server_tick_ms_mean": report["server_tick_ms_mean"],
        "server_ticks_per_s": report["server_ticks_per_s"],  # 20 when the room keeps its rate
        "bots_cpu_percent": report["bots_cpu_percent"],
        "bots_cpu_ms_per_bot_per_s": report["bots_cpu_ms_per_bot_per_s"],
        "bots_saturated": bool(report["bots_saturated"]),
        "within_target": report["errors"] == 0
        and p99 is not None
        and p99 <= args.target_ms
        and report["server_cpu_percent"] <= args.target_cpu,
    }


def markdown_row(summary: dict) -> str:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:g} ms"

    cells = [
        f"{summary['clients']:,}", f"{summary['connected']:,}", str(summary["errors"]), ms(summary["latency_ms_p50"]),
        ms(summary["latency_ms_p99"]), f"{summary['server_cpu_percent']:g} %", ms(summary["server_tick_ms_mean"]),
        f"{summary['server_ticks_per_s']:g}", f"{summary['bots_cpu_percent']:g} %" + (" (saturated)" if summary["bots_saturated"] else ""),
        f"{summary['bots_cpu_ms_per_bot_per_s']:g} ms",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--hz", type=float, default=20)
    parser.add_argument("--scene", default="market", help="a demo scene whose room holds --clients (market: 1,000)")
    parser.add_argument("--server-cpu", type=int, default=0, help="the CPU the server is pinned to")
    parser.add_argument("--bots-cpus", default="1", help="the CPUs of the bot processes (thirdspace loadtest --cpus)")
    parser.add_argument(
        "--full-bots", action="store_true", help="walking bots on the websockets library's client instead of lean raw-socket ones"
    )
    parser.add_argument(
        "--server-source", type=Path, help="run the server from this checkout (e.g. a git worktree of an older commit), for A/B"
    )
    parser.add_argument("--target-ms", type=float, default=100.0, help="p99 pose-to-peer latency target")
    parser.add_argument("--target-cpu", type=float, default=70.0, help="server CPU target, percent of its core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        process, base = start_server(Path(tmp) / "data", log, args.server_cpu, args.server_source)
        try:
            wait_ready(base, process=process)
            command = [
                sys.executable, "-m", "thirdspace", "loadtest", "--url", base.replace("http", "ws", 1) + "/ws", "--scene", args.scene,
                "--clients", str(args.clients), "--seconds", str(args.seconds), "--hz", str(args.hz), "--cpus", args.bots_cpus, "--json",
            ] + ([] if args.full_bots else ["--lean"])  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 900)
            if not result.stdout.strip():
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise SystemExit(f"the load test failed ({result.returncode}):\n{result.stderr}")
            report = json.loads(result.stdout)
        finally:
            stop(process)
    summary = summarise(report, args)
    print(json.dumps(report))
    print(json.dumps({"summary": summary}))
    columns = (
        "clients", "connected", "errors", "latency p50", "latency p99", "server CPU",
        "mean tick", "ticks / s", "bots' CPU", "bots' CPU / bot / s",
    )  # fmt: skip
    print("| " + " | ".join(columns) + " |")
    print("|" + " ---: |" * len(columns))
    print(markdown_row(summary))
    if report.get("warning"):
        print(report["warning"], file=sys.stderr)
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
