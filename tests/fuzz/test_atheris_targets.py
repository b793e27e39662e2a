"""The atheris entry points start, fuzz a little and stop; without atheris they say how to install it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "fuzz" / "atheris_targets.py"
TARGETS = ("protocol", "scene", "recipe", "import")


def run(*args: str, block_atheris: bool = False, **kwargs) -> subprocess.Popen:
    code = "import sys; sys.modules['atheris'] = None; " if block_atheris else ""
    code += f"import runpy, sys; sys.argv = {[str(SCRIPT), *args]!r}; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_usage_and_missing_atheris_exit_2():
    result = run("nonsense", block_atheris=True)
    _, err = result.communicate(timeout=60)
    assert result.returncode == 2 and "protocol|scene|recipe|import" in err
    result = run("scene", block_atheris=True)
    _, err = result.communicate(timeout=60)
    assert result.returncode == 2 and "pip install atheris" in err and "clang" in err


def test_every_target_fuzzes_a_few_hundred_inputs(tmp_path):
    if importlib.util.find_spec("atheris") is None:
        pytest.fail("atheris is not installed: the test extras install it (pip install -e '.[test]'; a wheel exists for x86_64 Linux)")
    runs = {target: run(target, "-atheris_runs=300", f"-artifact_prefix={tmp_path}/", cwd=tmp_path) for target in TARGETS}
    for target, process in runs.items():
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, (target, err[-3000:])
        assert "Done 300 " in err, (target, err[-3000:])
    assert not list(tmp_path.glob("crash-*"))
