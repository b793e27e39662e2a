"""benchmarks/loop_lag.py runs end to end with tiny parameters and reports what BENCHMARKS.md quotes.

This checks that the benchmark works and its figures are sane, not how fast anything is:
no latency is asserted (the code it measures may still block its loop)."""

import json
import subprocess
import sys

import pytest

from thirdspace.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "benchmarks" / "loop_lag.py"
PROFILES = PROJECT_ROOT / "web_client" / "node_modules" / "@webxr-input-profiles" / "assets" / "dist" / "profiles"


@pytest.mark.timeout(300)
def test_loop_lag_runs_end_to_end_and_reports_its_figures():
    assert list(PROFILES.glob("generic-hand/*.glb")), "the client's npm packages are not installed: run the README's test command"
    command = [
        sys.executable, str(SCRIPT), "--seconds", "5", "--bots", "5", "--uploads", "2", "--upload-glob", "generic-hand/*.glb",
        "--recipes", "2", "--big-mb", "0.3", "--grace", "20", "--json",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)

    assert report["bots_joined"] == 5 and report["room"].startswith("market")
    assert report["uploads_planned"] == 2 and report["large_mesh"]["bytes"] > 100_000
    assert 4.5 <= report["seconds"] <= 6 and report["wall_seconds"] < 240

    snapshots = report["snapshots"]
    assert {"gap_ms_p50", "gap_ms_p99", "gap_ms_max", "open_gap_ms_at_end", "snapshots_expected"} <= set(snapshots)
    assert snapshots["snapshots_received"] > 0 and snapshots["snapshots_expected"] >= 90
    assert snapshots["gap_ms_p50"] is not None and 0 < snapshots["gap_ms_p50"] <= snapshots["gap_ms_p99"] <= snapshots["gap_ms_max"]
    assert snapshots["gap_ms_max_including_open"] >= snapshots["gap_ms_max"]

    tick = report["tick_lateness"]
    assert tick["estimated_from_buckets"] is True and "after_read_is_final" in tick
    if tick["ticks_observed"]:  # the server answered /metrics after the start of the run
        assert {"p50", "p99", "max_bucket_s", "buckets"} <= set(tick)
        assert tick["buckets"][-1] == ["+Inf", tick["ticks_observed"]]

    actions = report["curator_actions"]
    assert {"done", "refused", "failed", "unfinished", "by_kind", "responses_503"} <= set(actions)
    assert actions["done"] > 0
    assert set(actions["by_kind"]) <= {"generate", "upload", "upload-large", "add-node", "publish", "history"}
    assert sum(actions[k] for k in ("done", "refused", "failed", "unfinished")) == sum(sum(c.values()) for c in actions["by_kind"].values())
