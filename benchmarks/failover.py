"""Failover: how long visitors take to resume on another node when theirs dies or shuts down.

    python benchmarks/failover.py --runs 5 --signal SIGKILL
    python benchmarks/failover.py --runs 5 --signal SIGTERM

Starts a redis-server on a free port; then, for each run, two cluster nodes, two visitors in a
room of the first node (one entering by each node), and kills the first node with the signal.
Prints one JSON line per run (seconds from the signal until both visitors resumed in the same
place on the other node; for SIGTERM also how long the node took to exit) and a summary: the
fastest, median and slowest. tests/cluster/test_cluster.py checks the behaviour (same place,
no lost chat line, nobody sees a leave) without timing it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local_redis import free_port, redis_server
from thirdspace.client import ThirdSpaceClient


def start_node(name: str, redis_url: str, data: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--redis", redis_url]
    command += ["--node-name", name, "--data-dir", str(data)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | {"THIRDSPACE_LOG_LEVEL": "WARNING"}
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300  # the first node of a fresh data directory builds the assets
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"node {name} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"node {name} not ready")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def one_run(index: int, how: signal.Signals, redis_url: str, data: Path, logs: Path, scene: str) -> dict:
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHALL"], check=True, capture_output=True)
    doomed, doomed_port = start_node(f"doomed-{index}", redis_url, data, logs / "doomed.log")
    survivor, survivor_port = start_node(f"survivor-{index}", redis_url, data, logs / "survivor.log")
    try:
        ama = await ThirdSpaceClient.connect(f"ws://127.0.0.1:{doomed_port}/ws", scene, "Ama", reconnect=True)
        bo = await ThirdSpaceClient.connect(f"ws://127.0.0.1:{survivor_port}/ws", scene, "Bo", reconnect=True)
        place = {"ama": ama.id, "bo": bo.id, "room": ama.room}
        held = ama.ws.remote_address[1] == bo.ws.remote_address[1] == doomed_port
        doomed.send_signal(how)
        sent = time.monotonic()
        for client in (ama, bo):
            await client.wait_for(lambda c: c.resumes == 1, timeout=30)
        resumed_s = time.monotonic() - sent
        exited_s = None
        if how == signal.SIGTERM:
            await asyncio.get_running_loop().run_in_executor(None, doomed.wait, 60)
            exited_s = round(time.monotonic() - sent, 2)
        same_place = {"ama": ama.id, "bo": bo.id, "room": ama.room} == place and ama.room == bo.room
        moved = ama.ws.remote_address[1] == bo.ws.remote_address[1] == survivor_port
        await ama.close()
        await bo.close()
        return {
            "run": index, "signal": how.name, "room_on_first_node": held, "resumed_s": round(resumed_s, 2),
            "node_exited_s": exited_s, "same_place": same_place, "on_other_node": moved,
        }  # fmt: skip
    finally:
        stop(doomed)
        stop(survivor)


async def run_all(args: argparse.Namespace, redis_url: str, work: Path) -> list[dict]:
    outcomes = []
    for index in range(1, args.runs + 1):
        outcome = await one_run(index, signal.Signals[args.signal], redis_url, work / "data", work, args.scene)
        print(json.dumps(outcome), flush=True)
        outcomes.append(outcome)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--signal", choices=["SIGKILL", "SIGTERM"], default="SIGKILL")
    parser.add_argument("--scene", default="caravanserai")
    args = parser.parse_args()
    with redis_server() as (url, work):
        outcomes = asyncio.run(run_all(args, url, work))
    times = [o["resumed_s"] for o in outcomes]
    summary = {
        "signal": args.signal,
        "runs": len(times),
        "resumed_s_min": min(times),
        "resumed_s_median": round(statistics.median(times), 2),
        "resumed_s_max": max(times),
        "all_in_same_place": all(o["same_place"] and o["on_other_node"] for o in outcomes),
    }
    if args.signal == "SIGTERM":
        summary["node_exited_s_max"] = max(o["node_exited_s"] for o in outcomes)
    print(json.dumps({"summary": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
