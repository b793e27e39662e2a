"""Slow readers: what visitors who stop reading their sockets cost the server and everyone else.

    python benchmarks/slow_consumers.py --clients 200 --stalled 50 --seconds 60

Starts `thirdspace serve` on a free port (a fresh data directory unless --data-dir is given;
or measures the server at --url), runs `thirdspace loadtest` with --stalled visitors who join
and then stop reading their sockets for the whole run, and samples the server's /metrics
every second. Prints the load tester's JSON report, then one summary line: the walking
visitors' latency p50 and p99 against the target, errors, the server's memory when the stall
began and at its peak, its CPU, and how long the server took to cut the stalled readers off.
BENCHMARKS.md ("Slow readers") reports a run; tests/web/test_slow_consumers.py checks the
behaviour (readers cut off, memory bounded) without timing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

VISITORS = re.compile(r'^thirdspace_visitors\{state="(connected|away)"\} (\S+)$', re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, timeout: float = 300, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no ready server at {base} after {timeout} s")


def visitors(base: str) -> dict[str, float]:
    """The server's visitors by state: connected, and away (cut off, inside their resume window)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {state: float(value) for state, value in VISITORS.findall(text)}


def start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--data-dir", str(data_dir)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | {"THIRDSPACE_LOG_LEVEL": "WARNING"}
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def measure(base: str, args: argparse.Namespace) -> dict:
    samples: list[tuple[float, float, float]] = []  # (seconds since the load test started, connected, away)
    done = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not done.wait(1.0):
            try:
                counts = visitors(base)
                samples.append((round(time.monotonic() - started, 1), counts.get("connected", 0.0), counts.get("away", 0.0)))
            except OSError:
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    command = [
        sys.executable, "-m", "thirdspace", "loadtest", "--url", base.replace("http", "ws", 1) + "/ws", "--scene", args.scene,
        "--clients", str(args.clients), "--stalled", str(args.stalled), "--seconds", str(args.seconds),
        "--sample-every", str(args.sample_every), "--json",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 600)
    finally:
        done.set()
        sampler.join(5)
    if result.returncode != 0:
        raise SystemExit(f"the load test failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    report = json.loads(result.stdout)
    # The stalled readers are cut off when they are away (inside their resume window) and the walking visitors
    # still connected; at the very end the load tester drops them itself, after the walking visitors left.
    everyone = [t for t, connected, _ in samples if connected >= args.clients + args.stalled]
    cut_off = [t for t, connected, away in samples if everyone and connected >= args.clients and away >= args.stalled]
    rss = [mb for _, mb in report.get("server_rss_mb_samples", [])]
    summary = {
        "clients": args.clients,
        "stalled": report.get("stalled_clients"),
        "errors": report["errors"],
        "latency_ms_p50": report["latency_ms_p50"],
        "latency_ms_p99": report["latency_ms_p99"],
        "target_p99_ms": args.target_ms,
        "within_target": report["errors"] == 0 and report["latency_ms_p99"] is not None and report["latency_ms_p99"] <= args.target_ms,
        "server_rss_mb_at_start": report["server_rss_mb_at_start"],
        "server_rss_mb_peak": max(rss) if rss else None,
        "server_rss_mb_growth": round(max(rss) - report["server_rss_mb_at_start"], 1) if rss else None,
        "server_cpu_percent": report["server_cpu_percent"],
        "stalled_cut_off_after_s": round(cut_off[0] - everyone[0], 1) if cut_off else None,
    }
    return {"report": report, "visitor_samples": samples, "summary": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="measure this running server (http://HOST:PORT) instead of starting one")
    parser.add_argument("--data-dir", type=Path, help="the started server's data directory (default: a fresh one)")
    parser.add_argument("--scene", default="market")
    parser.add_argument("--clients", type=int, default=200, help="walking visitors")
    parser.add_argument("--stalled", type=int, default=50, help="visitors who stop reading")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between the load tester's memory samples")
    parser.add_argument("--target-ms", type=float, default=100.0, help="p99 latency target of the walking visitors")
    args = parser.parse_args()
    if args.url:
        base = args.url.rstrip("/")
        wait_ready(base, 10)
        outcome = measure(base, args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "server.log"
            process, base = start_server(args.data_dir or Path(tmp) / "data", log)
            try:
                wait_ready(base, process=process)
                outcome = measure(base, args)
            except SystemExit:
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            finally:
                process.terminate()
                process.wait(30)
    print(json.dumps(outcome["report"]))
    print(json.dumps({"visitor_samples": outcome["visitor_samples"]}))
    print(json.dumps({"summary": outcome["summary"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
