"""Shared fixtures: a real server on an ephemeral loopback port, clients, scene files."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck, settings

from thirdspace.app import create_app
from thirdspace.config import PROJECT_ROOT, Settings
from thirdspace.web.keys import ROOMS

TESTS_DIR = Path(__file__).resolve().parent
# Long-running tests (a minute or more of real load each): marked soak, so `-m "not soak"` leaves them out.
SOAK = ("web/test_slow_consumers.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so a run can pick the fast core (README, "Test it"):

    browser  everything in tests/browser (Chromium through Playwright)
    cluster  everything in tests/cluster, and any test whose module starts a redis-server
    postgres tests using the PostgreSQL server fixture (``postgres``, or the store over each backend)
    soak     the long-running tests listed in SOAK
    """
    for item in items:
        path = item.path.resolve().relative_to(TESTS_DIR).as_posix()
        top = path.split("/")[0]
        module = getattr(item, "module", None)
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if top == "browser":
            item.add_marker(pytest.mark.browser)
        if top == "cluster" or "redis" in item.fixturenames or hasattr(module, "start_redis"):
            item.add_marker(pytest.mark.cluster)
        if "postgres" in item.fixturenames or params.get("target") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if path in SOAK:
            item.add_marker(pytest.mark.soak)


# Property tests: a bounded run in the suite; `pytest --hypothesis-profile=deep` for a long one.
settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

SCENES_DIR = PROJECT_ROOT / "scenes"
NODE_MODULES = PROJECT_ROOT / "web_client" / "node_modules"


def demo_scene(scene_id: str = "gallery") -> dict:
    return json.loads((SCENES_DIR / f"{scene_id}.json").read_text("utf-8"))


@dataclass
class RunningServer:
    app: web.Application
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def rooms(self):
        return self.app[ROOMS]


async def start_server(settings: Settings) -> tuple[web.AppRunner, RunningServer]:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, RunningServer(app, port)


@pytest.fixture(scope="session")
def scenes_dir(tmp_path_factory) -> Path:
    """The demo scenes plus a two-visitor scene for overflow tests."""
    directory = tmp_path_factory.mktemp("scenes")
    for path in SCENES_DIR.glob("*.json"):
        shutil.copy(path, directory)
    small = copy.deepcopy(demo_scene("gallery"))
    small["id"] = "tiny"
    small["capacity"] = 2
    (directory / "tiny.json").write_text(json.dumps(small), "utf-8")
    quiet = copy.deepcopy(demo_scene("gallery"))
    quiet["id"] = "quiet"
    quiet["voice"] = {"hearing_radius_m": 2.0}  # voices carry 2 m: the spawn points are out of earshot of each other
    (directory / "quiet.json").write_text(json.dumps(quiet), "utf-8")
    return directory


@pytest.fixture(scope="session")
async def server(scenes_dir, tmp_path_factory) -> AsyncIterator[RunningServer]:
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=tmp_path_factory.mktemp("data"))
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


@pytest.fixture(scope="session")
def janus(tmp_path_factory):
    """A real Janus (VideoRoom plugin, HTTP transport, token auth, admin API) shared by the tests (tests/janus_server.py)."""
    from tests.janus_server import NEEDS_JANUS, start_janus

    if shutil.which("janus") is None:
        pytest.fail(NEEDS_JANUS, pytrace=False)
    running = start_janus(tmp_path_factory.mktemp("janus"))
    yield running
    running.stop()
