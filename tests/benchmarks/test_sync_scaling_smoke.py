"""benchmarks/sync_scaling.py runs end to end at a tiny size, both layouts, with Colyseus on the same trace.

This checks that the benchmark works and its figures are consistent, not how fast anything is: no timing
is asserted.  Node.js and benchmarks/peers/node_modules (scripts/test.sh installs them) must be there:
without them the benchmark exits with an error and this test fails."""

import json
import subprocess
import sys

import pytest

from thirdspace.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "benchmarks" / "sync_scaling.py"
VISITORS = 60
SECONDS = 1


def _run(*extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), "--sizes", str(VISITORS), "--seconds", str(SECONDS), "--decode", "2", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)
def test_sync_scaling_reports_both_layouts_with_colyseus_on_the_same_trace():
    result = _run("--verify", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    rows = {row["layout"]: row for row in report["rows"]}
    assert list(rows) == ["uniform", "packed"]
    hz = report["tick_hz"]
    for layout, row in rows.items():
        ours, peer = row["thirdspace"], row["colyseus"]
        assert row["visitors"] == ours["entities"] == peer["entities"] == VISITORS, layout
        assert row["ticks"] == ours["ticks"] == peer["ticks"] == SECONDS * hz and not row["colyseus_capped"], layout
        assert 0 < row["visible_mean"] <= VISITORS, layout
        assert 0 < row["bytes_per_client_per_s"] < row["naive_bytes_per_client_per_s"], layout
        assert row["bytes_per_part_update"] > 0, layout
        # the naive baseline: an 8-byte header and 88 bytes per avatar, to every visitor, every tick
        assert row["naive_bytes_per_client_per_s"] == pytest.approx((8 + 88 * VISITORS) * hz), layout
        assert row["naive_ratio"] == pytest.approx(row["naive_bytes_per_client_per_s"] / row["bytes_per_client_per_s"], abs=0.051)
        # Colyseus: every client gets every patch, so a client's bytes are the room's patch bytes per second
        assert peer["version"] and peer["measured_ticks"] == row["ticks"] - row["ticks"] // 10, layout
        assert row["colyseus_bytes_per_client_per_s"] > 0, layout
        assert row["colyseus_bytes_per_client_per_s"] == pytest.approx(peer["patch_bytes_mean"] * hz, rel=1e-3), layout
        assert peer["patch_bytes_min"] <= peer["patch_bytes_mean"] <= peer["patch_bytes_max"] < peer["full_state_bytes"], layout
        assert row["colyseus_ratio"] == pytest.approx(row["colyseus_bytes_per_client_per_s"] / row["bytes_per_client_per_s"], abs=0.051)
        # every part moves every tick in this crowd (hands swing, heads bob)
        assert peer["parts_changed_per_tick"] == VISITORS * 3, layout
        assert row["colyseus_bytes_per_part_update"] == pytest.approx(peer["patch_bytes_mean"] / (VISITORS * 3), rel=1e-3), layout
        # a float32 field costs at least its 4 bytes on the wire, so a part of seven costs at least 28
        assert row["colyseus_bytes_per_part_update"] >= 28, layout
        assert isinstance(row["colyseus_encode_ms_p50"], float) and row["colyseus_encode_ms_p50"] >= 0, layout
        # a Colyseus client that decoded every patch holds the last tick's poses exactly
        assert peer["verify_mismatches"] == 0, layout
    # the same crowd in a smaller plaza: everyone sees more of it, and the patch of the whole room is about the same
    assert rows["packed"]["visible_mean"] > rows["uniform"]["visible_mean"]
    assert rows["packed"]["colyseus_bytes_per_part_update"] == pytest.approx(rows["uniform"]["colyseus_bytes_per_part_update"], rel=0.1)


@pytest.mark.timeout(900)
def test_sync_scaling_prints_a_markdown_table_without_json():
    result = _run("--layouts", "uniform", "--colyseus-max-ticks", "10")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| visitors | layout | visible mean |") and "Colyseus bytes/part" in lines[0]
    assert lines[1].startswith("|---:|")
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert len(cells) == lines[0].count("|") - 1 and cells[:2] == [str(VISITORS), "uniform"]
    assert "(first 10 ticks)" in cells[9]
    assert any("the first 10 of 20 ticks only" in line for line in lines)
