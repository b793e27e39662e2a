"""Fifty visitors whose connections stop reading: the server cuts them off, its memory stays bounded, and the
visitors who keep walking see no errors.  A real server process and the real load tester, as `thirdspace
loadtest` runs them.  How fast the others' updates stay meanwhile is a measurement, not a test:
benchmarks/slow_consumers.py (BENCHMARKS.md, "Slow readers")."""

import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.request

from tests.processes import start_node, stop

WALKING = 100
STALLED = 50
# Long enough for the WebSocket heartbeat (a ping after 20 s of silence, 10 s for the pong) to cut every stalled reader off.
SECONDS = 60
RSS_BOUND_MB = 20.0  # the most 50 stalled connections may add to the server's memory over the run
VISITORS = re.compile(r'^thirdspace_visitors\{state="(connected|away)"\} (\S+)$', re.MULTILINE)


def visitors(http: str) -> tuple[int, int]:
    """The server's visitors: (connected, away), away being cut off and inside their resume window."""
    with urllib.request.urlopen(f"{http}/metrics", timeout=5) as response:
        found = dict(VISITORS.findall(response.read().decode()))
    return int(float(found.get("connected", 0))), int(float(found.get("away", 0)))


def test_stalled_readers_are_cut_off_and_cost_bounded_memory(server, scenes_dir, tmp_path):
    from thirdspace.web.keys import DB

    data = tmp_path / "data"
    shutil.copytree(server.app[DB].path.parent / "assets", data / "assets")  # built once by the session server
    node = start_node("slow", "", data, scenes_dir, tmp_path)
    samples: list[tuple[int, int]] = []  # the server's (connected, away) visitors, every second of the run
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            try:
                samples.append(visitors(node.http))
            except OSError:
                continue

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "thirdspace", "loadtest", "--url", node.ws, "--scene", "market",
                "--clients", str(WALKING), "--stalled", str(STALLED), "--seconds", str(SECONDS), "--sample-every", "4", "--json",
            ],
            capture_output=True, text=True, timeout=400,
        )  # fmt: skip
    finally:
        done.set()
        sampler.join(10)
        stop(node)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    print(json.dumps(report | {"visitor_samples": samples}))
    # The walking visitors were never disturbed.
    assert report["stalled_clients"] == STALLED and report["errors"] == 0 and report["clients_connected"] == WALKING
    # Every stalled reader was connected, then cut off while the walking visitors were still there: the
    # stalled ones away (their places kept for the resume window), the walking ones connected.
    assert (WALKING + STALLED, 0) in samples, samples
    assert (WALKING, STALLED) in samples[samples.index((WALKING + STALLED, 0)) :], samples
    # Memory stayed bounded while the stalled connections held their unsent data.
    rss = [mb for _, mb in report["server_rss_mb_samples"]]
    assert len(rss) >= 10
    assert max(rss) - report["server_rss_mb_at_start"] <= RSS_BOUND_MB
