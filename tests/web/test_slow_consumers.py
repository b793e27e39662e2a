"""Fifty visitors whose connections stop reading for a minute cost the server almost no memory, and the
other visitors' latency stays inside the sync target (p99 at most 100 ms).  A real server process and the
real load tester, as `thirdspace loadtest` runs them."""

import json
import subprocess
import sys

from tests.processes import start_node, stop

RSS_BOUND_MB = 20.0  # the most 50 stalled connections may add to the server's memory over 60 s
P99_TARGET_MS = 100.0


def test_fifty_stalled_readers_for_a_minute(server, scenes_dir, tmp_path):
    import shutil

    from thirdspace.web.keys import DB

    data = tmp_path / "data"
    shutil.copytree(server.app[DB].path.parent / "assets", data / "assets")  # built once by the session server
    node = start_node("slow", "", data, scenes_dir, tmp_path)
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "thirdspace", "loadtest", "--url", node.ws, "--scene", "market",
                "--clients", "100", "--stalled", "50", "--seconds", "60", "--sample-every", "5", "--json",
            ],
            capture_output=True, text=True, timeout=400,
        )  # fmt: skip
    finally:
        stop(node)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    print(json.dumps(report))
    assert report["stalled_clients"] == 50 and report["errors"] == 0 and report["clients_connected"] == 100
    assert report["latency_ms_p99"] <= P99_TARGET_MS
    peak = max(rss for _, rss in report["server_rss_mb_samples"])
    assert len(report["server_rss_mb_samples"]) >= 10
    assert peak - report["server_rss_mb_at_start"] <= RSS_BOUND_MB
