"""The ``thirdspace`` command as a user runs it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import SCENES_DIR, demo_scene
from thirdspace.config import Settings
from thirdspace.startup import sync_kernels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_serve_reports_an_invalid_scene_and_serves_the_valid_ones(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "gallery.json").write_text((SCENES_DIR / "gallery.json").read_text("utf-8"), "utf-8")
    broken = demo_scene("caravanserai")
    broken["nodes"][3]["position"] = [7, 0]
    (scenes / "broken.json").write_text(json.dumps(broken), "utf-8")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thirdspace",
            "serve",
            "--no-build",
            "--port",
            str(port),
            "--scenes",
            str(scenes),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get_json(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert status == 200 and body == {"status": "ok"}
        _, listing = get_json(f"http://127.0.0.1:{port}/api/scenes")
        assert [s["id"] for s in listing["scenes"]] == ["gallery"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert "broken.json: $.nodes[3].position: [7, 0] is too short" in output
    assert process.returncode == 0


def test_scene_validate_command(tmp_path):
    bad = demo_scene()
    bad["capacity"] = "many"
    (tmp_path / "bad.json").write_text(json.dumps(bad), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "scene", "validate", str(SCENES_DIR / "gallery.json"), str(tmp_path / "bad.json")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "gallery.json: ok" in result.stdout
    assert "bad.json: $.capacity: 'many' is not of type 'integer'" in result.stderr


def test_settings_layer_defaults_toml_environment_and_options(tmp_path):
    config = tmp_path / "thirdspace.toml"
    config.write_text('port = 9000\ntick_hz = 30\nhost = "0.0.0.0"\n', "utf-8")
    settings = Settings.load(config, environ={"THIRDSPACE_PORT": "9100", "THIRDSPACE_CHAT_BURST": "3"}, host="127.0.0.2")
    assert settings.port == 9100  # environment beats the file
    assert settings.tick_hz == 30.0  # the file beats the default
    assert settings.chat_burst == 3
    assert settings.host == "127.0.0.2"  # options beat everything
    assert Settings.load(environ={}).port == 8080


@pytest.mark.parametrize(("environ", "message"), [({"THIRDSPACE_PORT": "eighty"}, "setting port"), ({}, "unknown setting")])
def test_bad_settings_are_named(tmp_path, environ, message):
    config = tmp_path / "c.toml"
    config.write_text("colour_of_sky = 1\n" if not environ else "", "utf-8")
    with pytest.raises(ValueError, match=message):
        Settings.load(config, environ=environ)


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thirdspace", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_generate_lists_the_recipes_with_their_parameters():
    listing = run_cli("generate", "--list")
    assert listing.returncode == 0
    assert "pagoda" in listing.stdout and "tiers=5" in listing.stdout
    schemas = json.loads(run_cli("generate", "--list", "--json").stdout)
    assert {"pagoda", "memorial_gate", "terrain"} <= {r["name"] for r in schemas}


def test_generate_writes_identical_glb_for_the_same_inputs(tmp_path):
    from thirdspace.assets.gltf import unpack
    from thirdspace.assets.provenance import Provenance, read_packet

    args = [
        "generate",
        "pagoda",
        "--param",
        "tiers=7",
        "--param",
        "roof_colour=#223344",
        "--seed",
        "3",
        "--made-at",
        "2026-01-01T00:00:00Z",
    ]
    first = run_cli(*args, "-o", str(tmp_path / "a.glb"))
    second = run_cli(*args, "-o", str(tmp_path / "b.glb"))
    assert first.returncode == second.returncode == 0, first.stderr
    assert (tmp_path / "a.glb").read_bytes() == (tmp_path / "b.glb").read_bytes()
    record = Provenance.from_packet(read_packet(unpack((tmp_path / "a.glb").read_bytes()).document))
    assert record.params["tiers"] == 7 and record.params["roof_colour"] == "#223344" and record.seed == 3


def test_generate_a_batch_shows_progress(tmp_path):
    result = run_cli("generate", "terrain", "--seeds", "1-4", "--param", "resolution=8", "-o", str(tmp_path / "hills"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "hills").iterdir()) == [f"terrain-{i}.glb" for i in range(1, 5)]
    assert "4/4" in result.stderr and "#" in result.stderr


def test_generate_names_bad_parameters(tmp_path):
    result = run_cli("generate", "pagoda", "--param", "tiers=40", "-o", str(tmp_path / "x.glb"))
    assert result.returncode == 2 and "params.tiers" in result.stderr
    result = run_cli("generate", "no_such_recipe", "-o", str(tmp_path / "x.glb"))
    assert result.returncode == 2 and "unknown recipe" in result.stderr
    result = run_cli("generate", "--prompt", "a bell", "-o", str(tmp_path / "x.glb"))
    assert result.returncode == 2 and "service" in result.stderr
    assert not (tmp_path / "x.glb").exists()


def test_asset_import_labels_a_curators_model(tmp_path):
    from tests.assets.helpers import third_party_models
    from thirdspace.assets.gltf import unpack
    from thirdspace.assets.provenance import Provenance, read_packet

    model = tmp_path / "controller.glb"
    model.write_bytes(third_party_models()["oculus-go/none.glb"])
    assets = tmp_path / "assets"
    assets.mkdir()
    result = run_cli(
        "asset",
        "import",
        str(model),
        "--id",
        "go-controller",
        "--source-type",
        "digitalCreation",
        "--made-by",
        "Museum",
        "--assets-dir",
        str(assets),
    )
    assert result.returncode == 0, result.stderr
    record = Provenance.from_packet(read_packet(unpack((assets / "go-controller.glb").read_bytes()).document))
    assert (record.source_type, record.made_by, record.generated) == ("digitalCreation", "Museum", False)
    truncated = tmp_path / "broken.glb"
    truncated.write_bytes(model.read_bytes()[:1000])
    result = run_cli("asset", "import", str(truncated), "--id", "broken", "--assets-dir", str(assets))
    assert result.returncode == 1 and "header.length" in result.stderr
    assert not (assets / "broken.glb").exists()
    result = run_cli("asset", "import", str(model), "--id", "../escape", "--assets-dir", str(assets))
    assert result.returncode == 2 and "asset id" in result.stderr
    assert not (tmp_path / "escape.glb").exists()
    # Without --source-type, a declared packet is kept and only the stamp is changed.
    result = run_cli(
        "asset", "import", str(assets / "go-controller.glb"), "--id", "again", "--made-by", "Archive", "--assets-dir", str(assets)
    )
    record = Provenance.from_packet(read_packet(unpack((assets / "again.glb").read_bytes()).document))
    assert (record.source_type, record.made_by) == ("digitalCreation", "Archive")


def test_user_add_prints_a_token_once_and_keeps_only_its_hash(tmp_path):
    import sqlite3

    result = run_cli("user", "add", "Amina", "--role", "curator", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    with sqlite3.connect(tmp_path / "thirdspace.sqlite3") as db:
        stored = db.execute("SELECT name, role, token_sha256 FROM users").fetchall()
    assert stored[0][:2] == ("Amina", "curator") and token not in stored[0][2]
    assert "Amina" in run_cli("user", "list", "--data-dir", str(tmp_path)).stdout
    assert run_cli("user", "add", "Amina", "--role", "curator", "--data-dir", str(tmp_path)).returncode == 2
    assert run_cli("user", "add", "Bo", "--role", "emperor", "--data-dir", str(tmp_path)).returncode == 2


def test_user_revoke_and_remove_end_a_users_access(tmp_path):
    from thirdspace.store import Database

    token = run_cli("user", "add", "Leaky", "--role", "curator", "--data-dir", str(tmp_path)).stdout.strip().splitlines()[-1]
    db = Database(tmp_path / "thirdspace.sqlite3")
    try:
        user = db.user_by_token(token)
        session_id, _ = db.open_session(user)
        revoked = run_cli("user", "revoke", str(user.id), "--data-dir", str(tmp_path))
        assert revoked.returncode == 0, revoked.stderr
        assert db.user_by_token(token) is None and db.session(session_id) is None
        renewed = run_cli("user", "revoke", str(user.id), "--new-token", "--data-dir", str(tmp_path))
        assert renewed.returncode == 0, renewed.stderr
        assert db.user_by_token(renewed.stdout.strip().splitlines()[-1]) == user
        removed = run_cli("user", "remove", str(user.id), "--data-dir", str(tmp_path))
        assert removed.returncode == 0 and "Leaky" in removed.stdout, removed.stderr
        assert db.users() == []
    finally:
        db.close()
    missing = run_cli("user", "remove", str(user.id), "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "no user" in missing.stderr
    assert run_cli("user", "revoke", "99", "--data-dir", str(tmp_path)).returncode == 2


def test_scene_export_writes_a_stored_scene_back_to_json(tmp_path):
    from thirdspace.store import Database

    db = Database(tmp_path / "thirdspace.sqlite3")
    document = demo_scene("gallery")
    db.create_scene(document, "test", "imported", publish=True)
    moved = json.loads(json.dumps(document))
    moved["nodes"][1]["position"] = [0, 0, 0]
    db.write_draft("gallery", 1, moved, "test", "moved")
    db.close()
    out = tmp_path / "gallery.json"
    assert run_cli("scene", "export", "gallery", "-o", str(out), "--data-dir", str(tmp_path)).returncode == 0
    assert json.loads(out.read_text("utf-8")) == moved  # the draft head by default
    published = run_cli("scene", "export", "gallery", "--published", "--data-dir", str(tmp_path))
    assert json.loads(published.stdout) == document
    assert run_cli("scene", "validate", str(out)).returncode == 0
    missing = run_cli("scene", "export", "nowhere", "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "not found" in missing.stderr


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "thirdspace", "serve", "--no-build", *args]


def clean_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")} | extra


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error a command printed: one line on stderr, no traceback, a non-zero exit."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            serve_command("--port", str(port), "--data-dir", str(tmp_path)), capture_output=True, text=True, timeout=60, env=clean_env()
        )
    line = one_line_error(result)
    assert f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "argument --port: must be a port number from 1 to 65535, not '70000'"),
        (["--port", "eighty"], "argument --port: must be a port number from 1 to 65535, not 'eighty'"),
        (["--port", "-1"], "argument --port: must be a port number from 1 to 65535, not '-1'"),
        (["--workers", "-2"], "argument --workers: must be 1 or more, not -2"),
    ],
)
def test_bad_options_are_one_line(tmp_path, args, message):
    result = subprocess.run(serve_command(*args, "--data-dir", str(tmp_path)), capture_output=True, text=True, timeout=60, env=clean_env())
    assert message in one_line_error(result)
    assert result.returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "sync", "--seconds", "-1"], "argument --seconds: must be more than 0, not -1"),
        (["bench", "sync", "--entities", "-5"], "argument --entities: must be 1 or more, not -5"),
        (["loadtest", "--url", "ws://127.0.0.1:1/ws", "--scene", "market", "--clients", "-3"], "argument --clients: must be 1 or more"),
        (["loadtest", "--url", "ws://127.0.0.1:1/ws", "--scene", "market", "--seconds", "-0.5"], "argument --seconds: must be more than 0"),
        (["bench", "scene-load", "--url", "http://127.0.0.1:1", "--runs", "-1"], "argument --runs: must be 1 or more"),
    ],
)
def test_negative_counts_and_durations_as_options_are_one_line(args, message):
    assert message in one_line_error(run_cli(*args))


def test_config_file_problems_are_one_line_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "--config", str(missing), "serve", "--no-build"],
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )  # fmt: skip
    assert one_line_error(result) == f"thirdspace: config file {missing} not found"
    broken = tmp_path / "broken.toml"
    broken.write_text('port = 9000\nhost = "127.0.0.1\ntick_hz = 20\n', "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "--config", str(broken), "serve", "--no-build"],
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )  # fmt: skip
    line = one_line_error(result)
    assert line.startswith(f"thirdspace: {broken}:2:") and "TOML syntax error" in line


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ("resume_window_s = -5\n", {}, "setting resume_window_s (from {config}): must be 0 or more, not -5"),
        ("chat_history = -1\n", {}, "setting chat_history (from {config}): must be 1 or more, not -1"),
        ("port = 0\n", {}, "setting port (from {config}): must be a port number from 1 to 65535, not 0"),
        (
            "",
            {"THIRDSPACE_DRAIN_TIMEOUT_S": "-1"},
            "setting drain_timeout_s (from THIRDSPACE_DRAIN_TIMEOUT_S): must be 0 or more, not '-1'",
        ),
        ("", {"THIRDSPACE_ASSET_WORKERS": "-2"}, "setting asset_workers (from THIRDSPACE_ASSET_WORKERS): must be 1 or more, not '-2'"),
        ("", {"THIRDSPACE_PORT": "99999"}, "setting port (from THIRDSPACE_PORT): must be a port number from 1 to 65535"),
    ],
)
def test_negative_settings_in_the_file_or_environment_are_one_line(tmp_path, toml, environ, message):
    config = tmp_path / "settings.toml"
    config.write_text(toml, "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "--config", str(config), "serve", "--no-build", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=clean_env(**environ),
    )  # fmt: skip
    assert one_line_error(result).startswith("thirdspace: " + message.format(config=config))


def test_a_scenes_folder_without_scenes_is_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a scene", "utf-8")
    for folder, message in ((empty, f"no scenes in {empty}"), (tmp_path / "absent", f"no scenes folder {tmp_path / 'absent'}")):
        result = subprocess.run(
            serve_command("--port", str(free_port()), "--scenes", str(folder), "--data-dir", str(tmp_path / "data")),
            capture_output=True, text=True, timeout=60, env=clean_env(),
        )  # fmt: skip
        assert message in one_line_error(result)


def test_the_port_opens_only_when_the_server_can_serve_and_the_steps_are_printed(tmp_path):
    """A fresh data directory: the store is made, the kernels loaded, the demo assets built; until then connections are refused."""
    import threading

    port = free_port()
    process = subprocess.Popen(
        serve_command("--port", str(port), "--scenes", str(SCENES_DIR), "--data-dir", str(tmp_path / "data")),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    refused_during_steps = 0
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            stepping = any(line.startswith("[1/3]") for line in lines)
            try:
                status, listing = get_json(f"http://127.0.0.1:{port}/api/scenes")
            except urllib.error.URLError as err:
                assert isinstance(err.reason, ConnectionRefusedError), err  # refused, never accepted and left waiting
                refused_during_steps += stepping
                time.sleep(0.05)
                continue
            break
        # The first connection that is accepted is served in full: every demo scene is there.
        assert status == 200 and {s["id"] for s in listing["scenes"]} == {"caravanserai", "gallery", "market"}
        assert refused_during_steps > 0
        status, _ = get_json(f"http://127.0.0.1:{port}/readyz")
        assert status == 200
        wait_for = time.monotonic() + 10
        while not any(line.startswith("Third Space at") for line in lines) and time.monotonic() < wait_for:
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(30)
        reader.join(10)
    steps = [line for line in lines if line.startswith("[")]
    assert [line[:5] for line in steps if ": " not in line] == ["[1/3]", "[2/3]", "[3/3]"], lines
    assert any("opening the store" in line for line in steps)
    kernels = len(sync_kernels())  # the sync kernels and the voice selection's
    assert any("sync kernels" in line and f"{kernels} of {kernels}" in line for line in steps)
    assert any("building their assets" in line and " of " in line for line in steps)
    banner = [i for i, line in enumerate(lines) if line.startswith(f"Third Space at http://127.0.0.1:{port}/ (started in ")]
    assert banner and banner[0] > max(lines.index(line) for line in steps), lines
