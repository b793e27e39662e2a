"""Shared by the asset tests: the Khronos validator and third-party models installed by npm."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NODE_MODULES, PROJECT_ROOT

VALIDATE = PROJECT_ROOT / "tests" / "tools" / "validate_gltf.mjs"
# Published controller and hand models (MIT, from the W3C Immersive Web group's webxr-input-profiles),
# installed by the test command's `npm ci` as a dev dependency of the web client; none are in this repository.
PROFILES = NODE_MODULES / "@webxr-input-profiles" / "assets" / "dist" / "profiles"
THIRD_PARTY = ("generic-hand/left.glb", "pico-neo3/right.glb", "oculus-go/none.glb", "meta-quest-touch-plus/left.glb")


def khronos_validate(paths) -> list[dict]:
    if not (NODE_MODULES / "gltf-validator").is_dir():
        pytest.fail("gltf-validator is not installed: run the README's test command (it runs npm ci in web_client/)")
    node = shutil.which("node")
    assert node, "Node.js is needed for the Khronos glTF-Validator"
    env = {"NODE_PATH": str(NODE_MODULES), "PATH": ""}
    result = subprocess.run([node, str(VALIDATE), *map(str, paths)], capture_output=True, text=True, env=env, timeout=300, check=True)
    return json.loads(result.stdout)


def validate_bytes(tmp_path: Path, files: dict[str, bytes]) -> dict[str, dict]:
    """Validate named GLB bytes in one validator run; the report per name."""
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name.replace('/', '_')}.glb"
        path.write_bytes(data)
        paths.append(path)
    reports = khronos_validate(paths)
    return {name: report for name, report in zip(files, reports, strict=True)}


def third_party_models() -> dict[str, bytes]:
    if not PROFILES.is_dir():
        pytest.fail("@webxr-input-profiles/assets is not installed: run the README's test command (npm ci in web_client/)")
    return {name: (PROFILES / name).read_bytes() for name in THIRD_PARTY}
