"""The ``thirdspace`` command as a user runs it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import SCENES_DIR, demo_scene
from thirdspace.config import Settings


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
