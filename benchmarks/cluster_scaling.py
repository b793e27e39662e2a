"""How many visitors one node and two nodes hold at the latency target, on this machine.

    python benchmarks/cluster_scaling.py --scene gallery --start 200 --step 100 --seconds 30

Starts a redis-server on a free port, then one cluster node, and runs `thirdspace loadtest`
at growing numbers of visitors until p99 latency passes the target (or a run has errors);
then the same with two nodes, the bots entering by both.  Prints one JSON line per run and
a summary: the largest passing count for each, and their ratio.  The load generator runs on
the same machine, so it takes CPU from the nodes; BENCHMARKS.md says what that means.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local_redis import free_port, redis_server


def wait_ready(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"node on port {port} not ready")


def start_nodes(count: int, redis_url: str, data: Path) -> list[tuple[subprocess.Popen, int]]:
    nodes = []
    for index in range(count):
        port = free_port()
        command = [sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--redis", redis_url]
        command += ["--node-name", f"bench-{index}", "--data-dir", str(data)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | {"THIRDSPACE_LOG_LEVEL": "WARNING"}
        nodes.append((subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port))
        wait_ready(port)
    return nodes


def loadtest(ports: list[int], scene: str, clients: int, seconds: float) -> dict:
    command = [
        sys.executable,
        "-m",
        "thirdspace",
        "loadtest",
        "--scene",
        scene,
        "--clients",
        str(clients),
        "--seconds",
        str(seconds),
        "--json",
    ]
    for port in ports:
        command += ["--url", f"ws://127.0.0.1:{port}/ws"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 600)
    return json.loads(result.stdout)


def ladder(node_count: int, args: argparse.Namespace, redis_url: str, work: Path) -> int:
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHALL"], check=True, capture_output=True)
    nodes = start_nodes(node_count, redis_url, work / f"data-{node_count}")
    best = 0
    try:
        clients = args.start
        while clients <= args.max:
            report = loadtest([port for _, port in nodes], args.scene, clients, args.seconds)
            passed = report["errors"] == 0 and report["latency_ms_p99"] is not None and report["latency_ms_p99"] <= args.target_ms
            print(json.dumps({"nodes": node_count, "passed": passed, **report}), flush=True)
            if not passed:
                break
            best = clients
            clients += args.step
    finally:
        for process, _ in nodes:
            process.terminate()
            process.wait(30)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", default="gallery")
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--max", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--target-ms", type=float, default=100.0, help="p99 latency target")
    args = parser.parse_args()
    with redis_server() as (url, work):
        one = ladder(1, args, url, work)
        two = ladder(2, args, url, work)
    summary = {
        "scene": args.scene,
        "target_p99_ms": args.target_ms,
        "one_node": one,
        "two_nodes": two,
        "ratio": round(two / one, 2) if one else None,
    }
    print(json.dumps({"summary": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
