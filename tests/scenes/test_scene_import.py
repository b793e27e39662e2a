"""Scene files and the store: ``thirdspace scene import``, the start-up report and ``serve --reimport-scenes``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import demo_scene
from tests.processes import free_port, wait_until
from thirdspace.scenes.importing import changed_since_stored, describe
from thirdspace.store import Database


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thirdspace", *args], capture_output=True, text=True, timeout=120)


def write_scene(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), "utf-8")


def edited(document: dict) -> dict:
    out = json.loads(json.dumps(document))
    out["title"]["ja"] = "共有の品々のギャラリー"
    out["nodes"][1]["position"] = [1.5, 0, -2]
    out["nodes"].append({**out["nodes"][1], "id": "second-plinth"})
    return out


def stored(data_dir: Path, scene_id: str) -> tuple:
    db = Database(data_dir / "thirdspace.sqlite3")
    try:
        record = db.scene(scene_id)
        head = db.revision(scene_id, record.draft_revision)
        return record, head
    finally:
        db.close()


def test_import_adds_a_changed_file_as_the_next_draft_revision_with_what_changed(tmp_path):
    data, path = tmp_path / "data", tmp_path / "gallery.json"
    original = demo_scene("gallery")
    write_scene(path, original)
    first = run_cli("scene", "import", str(path), "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert "new scene gallery, draft revision 1" in first.stdout
    record, head = stored(data, "gallery")
    assert (record.draft_revision, record.published_revision, head["author"]) == (1, None, "import")

    again = run_cli("scene", "import", str(path), "--data-dir", str(data))
    assert again.returncode == 0 and "is the same; nothing to import" in again.stdout
    assert stored(data, "gallery")[0].draft_revision == 1

    write_scene(path, edited(original))
    changed = run_cli("scene", "import", str(path), "--data-dir", str(data))
    assert changed.returncode == 0, changed.stderr
    lines = changed.stdout.splitlines()
    assert "draft revision 2 (was 1; not published yet)" in lines[0]
    hall = original["nodes"][1]
    assert f"  ~ node {hall['id']} position: {hall['position']!r} -> [1.5, 0, -2]" in lines
    assert "  + node second-plinth" in lines
    assert "  scene title.ja: (none) -> '共有の品々のギャラリー'" in lines
    record, head = stored(data, "gallery")
    assert record.draft_revision == 2 and head["document"] == edited(original)
    assert head["message"] == "imported from gallery.json"


def test_an_invalid_file_is_named_and_nothing_is_stored(tmp_path):
    data, path = tmp_path / "data", tmp_path / "gallery.json"
    write_scene(path, demo_scene("gallery"))
    assert run_cli("scene", "import", str(path), "--data-dir", str(data)).returncode == 0
    broken = edited(demo_scene("gallery"))
    broken["nodes"][1]["position"] = [7, 0]
    write_scene(path, broken)
    result = run_cli("scene", "import", str(path), "--data-dir", str(data))
    assert result.returncode == 1
    assert "gallery.json: $.nodes[1].position: [7, 0] is too short" in result.stderr
    assert stored(data, "gallery")[0].draft_revision == 1


def test_a_file_counts_as_changed_only_if_it_differs_and_was_saved_after_the_draft(tmp_path):
    path = tmp_path / "gallery.json"
    document = demo_scene("gallery")
    write_scene(path, document)
    head = {"document": document, "created_at": "2026-01-01T00:00:00.000Z"}
    assert not changed_since_stored(path, document, head)  # same content
    assert changed_since_stored(path, edited(document), head)  # different, saved after the draft
    os.utime(path, (time.time(), 1_000_000_000))  # saved in 2001, before the draft: a curator's edit is newer
    assert not changed_since_stored(path, edited(document), head)
    assert describe(document, document) == []


def serve_once(tmp_path: Path, scenes: Path, *extra: str) -> str:
    """Start the server, wait until it serves, stop it; return what it printed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--scenes", str(scenes)]
        + ["--data-dir", str(tmp_path / "data"), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        import urllib.request

        def up() -> bool:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        wait_until(up, 90, "the server start")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return output


def test_start_up_reports_a_changed_file_in_one_line_and_reimport_brings_it_in(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    path = scenes / "gallery.json"
    original = demo_scene("gallery")
    write_scene(path, original)
    first = serve_once(tmp_path, scenes)
    assert "imported scene gallery" in first and "changed since the store" not in first
    record, _ = stored(tmp_path / "data", "gallery")
    assert (record.draft_revision, record.published_revision) == (1, 1)

    write_scene(path, edited(original))
    second = serve_once(tmp_path, scenes)
    reports = [line for line in second.splitlines() if "changed since the store took them" in line]
    assert len(reports) == 1, second
    assert f"thirdspace scene import {path}" in reports[0] and "--reimport-scenes" in reports[0]
    assert stored(tmp_path / "data", "gallery")[0].draft_revision == 1  # reported, not imported

    third = serve_once(tmp_path, scenes, "--reimport-scenes")
    assert "re-imported scene gallery" in third and "as draft revision 2 (title changed, 1 node added, 1 node changed)" in third
    assert "changed since the store took them" not in third
    record, head = stored(tmp_path / "data", "gallery")
    assert (record.draft_revision, record.published_revision, head["author"]) == (2, 1, "import")  # visitors still see 1

    # the file now matches the draft: nothing to report
    assert "changed since the store took them" not in serve_once(tmp_path, scenes)
