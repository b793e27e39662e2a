"""`thirdspace bench sync` and `thirdspace loadtest` print the JSON that BENCHMARKS.md reports.

These check the commands work and their figures are sane, not how fast anything is."""

import asyncio
import json
import subprocess
import sys

from thirdspace.config import PROJECT_ROOT

BENCH_KEYS = {
    "entities", "tick_ms_p50", "tick_ms_p99", "bytes_per_client_per_s", "bytes_per_avatar_update",
    "bytes_per_part_update", "naive", "bytes_ratio_naive_over_sync",
}  # fmt: skip
LOAD_KEYS = {
    "clients_connected", "errors", "latency_ms_p50", "latency_ms_p99", "bytes_in_per_client_per_s",
    "server_cpu_percent", "server_rss_mb",
}  # fmt: skip


def test_bench_sync_prints_its_figures_and_the_baseline():
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "bench", "sync", "--entities", "120", "--seconds", "2", "--ack-delay", "3", "--json"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    assert BENCH_KEYS <= set(figures)
    assert figures["entities"] == 120
    assert {"tick_ms_p50", "tick_ms_p99", "bytes_per_client_per_s"} <= set(figures["naive"])
    assert 0 < figures["bytes_per_client_per_s"] < figures["naive"]["bytes_per_client_per_s"]
    assert figures["bytes_ratio_naive_over_sync"] > 1
    # decoded with acks three ticks late, what the visitors show is the state sent, to the quantum
    assert figures["ack_delay_ticks"] == 3 and figures["decoded_visitors"] == 16
    assert 0 < figures["decode_error_m_max"] <= figures["quantisation_bound_m"]
    assert figures["shown_age_ticks_max"] >= 1 and figures["error_vs_now_m_max"] > figures["decode_error_m_max"]


async def test_loadtest_against_a_running_server(server):
    """Four probe pairs and four walkers, all acknowledging three snapshots late, in the 24 m caravanserai."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thirdspace", "loadtest", "--url", server.ws, "--scene", "caravanserai",
        "--clients", "12", "--seconds", "4", "--processes", "1", "--ack-delay", "3", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()
    figures = json.loads(stdout)
    assert LOAD_KEYS <= set(figures)
    assert figures["clients_connected"] == 12 and figures["errors"] == 0
    assert figures["latency_ms_p50"] is not None and 0 < figures["latency_ms_p50"] < figures["latency_ms_p99"] + 1
    assert figures["bytes_in_per_client_per_s"] > 0 and figures["server_rss_mb"] > 0
    # the observers showed the walkers only at heads they sent, and never stepped back along a walk
    assert figures["ack_delay"] == 3 and figures["shown_samples"] > 0
    assert figures["decode_error_m_max"] <= 0.002 and figures["shown_backward_steps"] == 0


async def test_loadtest_with_voice_reports_pairs_and_signalling(server):
    """Twelve bots in the 24 m caravanserai with voice on: within its 12 m hearing radius they pair and signal."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thirdspace", "loadtest", "--url", server.ws, "--scene", "caravanserai",
        "--clients", "12", "--seconds", "4", "--processes", "1", "--voice", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()
    figures = json.loads(stdout)
    assert figures["clients_connected"] == 12 and figures["errors"] == 0
    assert figures["voice_selections_per_s"] > 0 and figures["voice_select_ms_mean"] > 0
    assert figures["voice_signals_per_s"] > 0  # offers, answers and candidates went between paired bots
    assert 0 < figures["voice_peers_mean"] <= figures["voice_peers_max"] <= 8


def test_voice_churn_benchmark_prints_its_figures():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "voice_churn.py"), "--visitors", "200", "--rounds", "14"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    assert figures["visitors"] == 200 and figures["pairs"] > 0
    assert 0 < figures["pairs_per_visitor"] <= 8
    assert figures["select_ms_p50"] <= figures["select_ms_p90"]


def test_loadtest_without_a_server_says_so():
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "loadtest", "--url", "ws://127.0.0.1:9/ws", "--scene", "market", "--clients", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no server at http://127.0.0.1:9" in result.stderr


def test_bench_assets_compares_lowest_levels_with_full_detail():
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "bench", "assets", "--json"], capture_output=True, text=True, check=True, timeout=300
    )
    figures = json.loads(result.stdout)
    courtyard = figures["scenes"]["caravanserai"]
    assert courtyard["assets"] >= 5
    assert 0 < courtyard["lowest_bytes"] < courtyard["full_bytes"]
    assert courtyard["lowest_over_full"] == round(courtyard["lowest_bytes"] / courtyard["full_bytes"], 3)
    assert courtyard["full_bytes_br"] < courtyard["full_bytes"]


async def test_bench_scene_load_times_the_page(server):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thirdspace", "bench", "scene-load", "--url", server.http, "--scene", "gallery", "--runs", "2", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()
    figures = json.loads(stdout)
    assert (
        figures["runs"] == 2
        and 0 < figures["lowest_visible_ms_min"] <= figures["lowest_visible_ms_median"] <= figures["lowest_visible_ms_max"]
    )


async def test_loadtest_on_given_cpus_reports_the_bots_own_cpu(server):
    """Bots pinned with --cpus run in one process there and say what CPU they took, next to the server's."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thirdspace", "loadtest", "--url", server.ws, "--scene", "caravanserai",
        "--clients", "10", "--seconds", "3", "--cpus", "0", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()
    figures = json.loads(stdout)
    assert figures["clients_connected"] == 10 and figures["errors"] == 0 and figures["processes"] == 1
    assert figures["bots_cpus"] == [0] and len(figures["bots_cpu_percent_by_process"]) == 1
    assert figures["bots_cpu_percent"] > 0 and figures["bots_cpu_percent"] == figures["bots_cpu_percent_by_process"][0]
    # percent of a core over ten bots: CPU milliseconds a bot a second
    assert abs(figures["bots_cpu_ms_per_bot_per_s"] - figures["bots_cpu_percent"]) < 0.1
    assert isinstance(figures["bots_saturated"], list) and ("warning" in figures) == bool(figures["bots_saturated"])
    # the pre-encoded walks still show only heads the walkers sent, never a step back
    assert figures["shown_samples"] > 0 and figures["decode_error_m_max"] <= 0.002 and figures["shown_backward_steps"] == 0


async def test_lean_bots_walk_and_acknowledge_like_full_clients(server):
    """--lean walkers (raw sockets, counted snapshots) are seen by the decoding observers at the heads they sent, with
    acknowledgements three snapshots late, as full clients are."""

    async def run(*extra: str) -> dict:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "thirdspace", "loadtest", "--url", server.ws, "--scene", "caravanserai",
            "--clients", "16", "--seconds", "4", "--processes", "1", "--ack-delay", "3", "--json", *extra,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
        assert process.returncode == 0, stderr.decode()
        return json.loads(stdout)

    lean = await run("--lean")
    assert lean["lean_bots"] is True and lean["clients_connected"] == 16 and lean["errors"] == 0
    assert lean["bytes_in_per_client_per_s"] > 0 and lean["latency_ms_p50"] is not None
    assert lean["shown_samples"] > 0 and lean["decode_error_m_max"] <= 0.002 and lean["shown_backward_steps"] == 0
    full = await run()
    assert full["lean_bots"] is False and full["errors"] == 0 and full["shown_samples"] > 0


def test_lean_bots_refuse_voice():
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "loadtest", "--url", "ws://127.0.0.1:9/ws", "--scene", "market", "--lean", "--voice"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--lean bots do not signal voice" in result.stderr


def test_loadtest_refuses_a_cpu_list_it_cannot_read():
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "loadtest", "--url", "ws://127.0.0.1:9/ws", "--scene", "market", "--cpus", "one"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "expected CPU numbers" in result.stderr


def test_sync_load_benchmark_pins_server_and_bots_and_prints_its_summary():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "sync_load.py"), "--clients", "20", "--seconds", "3"],
        capture_output=True, text=True, check=True, timeout=400,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    report, summary = json.loads(lines[0]), json.loads(lines[1])["summary"]
    assert report["bots_cpus"] == [1] and report["processes"] == 1
    assert summary["clients"] == summary["connected"] == 20 and summary["errors"] == 0
    assert summary["latency_ms_p50"] is not None and summary["latency_ms_p50"] <= summary["latency_ms_p99"]
    assert summary["server_cpu_percent"] > 0 and summary["bots_cpu_ms_per_bot_per_s"] > 0
    assert lines[2].startswith("| clients |") and lines[4].startswith("| 20 | 20 | 0 |")
