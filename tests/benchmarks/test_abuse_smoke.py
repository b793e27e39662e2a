"""benchmarks/abuse.py runs end to end with tiny parameters and reports every phase with its figures.

This checks that the benchmark works and its report is complete, not how the server fares: no latency,
memory or outcome of an attack is asserted (the code it measures may still stall or refuse)."""

import importlib.util
import json
import subprocess
import sys
from numbers import Number

import pytest

from thirdspace.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "benchmarks" / "abuse.py"
ATTACKS = {
    "pose-flood", "chat-flood", "big-bodies", "held-connections", "no-hello", "non-reader",
    "glb-node-chain", "glb-loose-triangles", "glb-grid-extra", "glb-repeated-root", "glb-png-bomb",
}  # fmt: skip


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("abuse_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(420)
def test_abuse_benchmark_runs_every_attack_and_reports_each_phase():
    command = [
        sys.executable, str(SCRIPT), "--bots", "3", "--phase-seconds", "1", "--settle", "0.5", "--settle-max", "60",
        "--only", "R1,non-reader,all", "--held", "100", "--no-hello", "20", "--bodies", "2", "--body-mib", "1",
        "--chain", "40", "--triangles", "200", "--grid", "20", "--grid-extra", "20", "--roots", "50", "--png-side", "1024",
        "--upload-wait", "60", "--server-nofile", "0", "--json",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)

    assert report["bots_joined"] == 3 and report["room"].startswith("market")
    assert isinstance(report["baseline_rss_mb"], Number) and report["baseline_rss_mb"] > 0
    phases = {p["phase"]: p for p in report["phases"]}
    assert list(phases) == ["baseline", "pose-flood", "non-reader", "all"]
    for name, phase in phases.items():
        assert phase["seconds"] > 0, name
        assert isinstance(phase["snapshots"], int) and phase["snapshots_expected"] > 0, name
        if phase["snapshots"] >= 3:  # intervals need snapshots (a server that stalls the whole phase sends none)
            assert 0 < phase["interval_ms_p50"] <= phase["interval_ms_p99"] <= phase["max_gap_ms"], name
        assert isinstance(phase["max_gap_ms"], Number), name
        for key in ("start", "peak", "end", "after_settle", "after_settle_vs_baseline"):
            assert isinstance(phase["rss_mb"][key], Number), (name, key)
        assert phase["rss_mb"]["peak"] >= phase["rss_mb"]["start"] and phase["rss_with_workers_mb"]["peak"] >= phase["rss_mb"]["peak"]
        assert phase["healthz"]["polls"] > 0 and 0 <= phase["healthz"]["failed"] <= phase["healthz"]["polls"], name
        assert set(phase["targets"]) == {"p99", "max_gap", "rss", "healthz"} and isinstance(phase["pass"], bool), name
        assert isinstance(phase["server_log_lines_added"], int)

    assert phases["baseline"]["attackers"] == {}
    assert set(phases["pose-flood"]["attackers"]) == {"pose-flood"}
    assert set(phases["all"]["attackers"]) == ATTACKS
    for name, outcome in phases["all"]["attackers"].items():
        assert "lost" not in outcome, (name, outcome)
        assert {"connections", "refused", "closed_by_server", "close_codes", "statuses", "sent", "ended_at"} <= set(outcome), name
        assert not any(s.startswith("the attack failed") for s in outcome["samples"]), (name, outcome["samples"])
    # every attack did something: connected or was refused, or had its requests answered (or not) by the server
    for name, outcome in phases["all"]["attackers"].items():
        assert outcome["connections"] or outcome["refused"] or outcome["statuses"], (name, outcome)
    flood = phases["pose-flood"]["attackers"]["pose-flood"]
    assert flood["sent"] > 0 or flood["refused"]
    for name in ("glb-node-chain", "glb-png-bomb"):
        assert phases["all"]["attackers"][name]["file_bytes"] > 0 and phases["all"]["attackers"][name]["builder"]

    rows = _load_benchmark().table(report).splitlines()  # the table printed without --json
    for name in phases:
        assert [row for row in rows if row.startswith(f"{name} ") and ("PASS" in row or "FAIL" in row)], name
