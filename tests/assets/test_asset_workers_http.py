"""Asset work over HTTP runs in the worker processes: the event loop keeps running during a real import, a full
pool answers 503 with Retry-After, a killed worker or a model over the memory limit is a clear error, and the
next upload succeeds."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.assets.helpers import PROFILES
from tests.conftest import RunningServer, start_server
from tests.curate.conftest import Api, add_users, fresh_data_dir
from tests.services import jobs
from thirdspace.assets.recipes import build_glb
from thirdspace.config import Settings
from thirdspace.services.assets import AssetWorkers
from thirdspace.web.keys import ASSETS

MODEL = "meta-quest-touch-plus/left.glb"  # a published controller model: a few seconds of work for the pipeline
LARGE_MODEL = "valve-index/left.glb"  # 6 MB with large textures: well over 100 MB of memory in the pipeline
PLINTH = build_glb("plinth")


def model(name: str) -> bytes:
    if not PROFILES.is_dir():
        pytest.fail("@webxr-input-profiles/assets is not installed: run the README's test command (npm ci in web_client/)")
    return (PROFILES / name).read_bytes()


async def serve(server: RunningServer, data_dir, scenes_dir, **settings) -> tuple[aiohttp.ClientSession, Api, RunningServer, object]:
    data = fresh_data_dir(server, data_dir)
    token = add_users(data / "thirdspace.sqlite3")["curator"]
    runner, running = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data, **settings))
    http = aiohttp.ClientSession()
    return http, Api(http, running.http, token), running, runner


@pytest.fixture(scope="module")
async def one_worker(server, scenes_dir, tmp_path_factory) -> AsyncIterator[tuple[Api, RunningServer]]:
    """A server with one asset worker and no queue: a second job while one runs is refused."""
    http, api, running, runner = await serve(server, tmp_path_factory.mktemp("one-worker"), scenes_dir, asset_workers=1, asset_queue=0)
    yield api, running
    await http.close()
    await runner.cleanup()


async def until(condition, what: str) -> None:
    for _ in range(6000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def upload(api: Api, asset_id: str, data: bytes):
    return api.request("POST", f"/api/curate/assets?id={asset_id}&source_type=digitalCapture", data=data)


async def test_the_event_loop_keeps_running_while_a_real_model_is_imported(one_worker):
    api, running = one_worker
    workers = running.app[ASSETS].workers
    ticks = {"during_the_job": 0}
    stop = asyncio.Event()

    async def tick() -> None:  # what a room's tick loop does: wake up often, do a little, sleep again
        while not stop.is_set():
            if workers.running:
                ticks["during_the_job"] += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.ensure_future(tick())
    reply = await upload(api, "quest-controller", model(MODEL))
    stop.set()
    await ticker
    assert reply.status == 201, reply.body
    assert ticks["during_the_job"] >= 20, ticks  # inline, the loop would not have run once while the model was processed
    # The worker wrote the files; the server's own store knows the record and serves its levels.
    record = await api.get(f"/api/assets/{reply.body['sha256']}")
    assert record.status == 200 and len(record.body["levels"]) >= 2
    async with api.http.get(running.http + record.body["levels"][-1]["url"]) as response:
        assert response.status == 200 and (await response.read())[:4] == b"glTF"


async def test_a_full_pool_answers_503_with_retry_after_and_takes_work_again_when_free(one_worker, tmp_path):
    api, running = one_worker
    workers = running.app[ASSETS].workers
    gate = tmp_path / "gate"
    occupied = asyncio.ensure_future(workers.run(jobs.wait_for, str(gate), wait=True))
    await until(lambda: workers.running == 1, "the worker is taken")
    try:
        for reply, field in [
            (await upload(api, "plinth-upload", PLINTH), "body"),
            (await api.post("/api/curate/recipes/pagoda/preview", {"params": {"tiers": 3}}), "params"),
            (await api.post("/api/curate/assets/generate", {"recipe": {"name": "pagoda", "params": {"tiers": 4}}}), "recipe"),
        ]:
            assert reply.status == 503, reply.body
            assert int(reply.headers["Retry-After"]) > 0
            assert "busy" in reply.body["error"] and reply.body["field"] == field
        assert (await api.get("/api/curate/assets")).status == 200  # what needs no worker is answered as usual
    finally:
        gate.touch()
        await occupied
    reply = await upload(api, "plinth-upload", PLINTH)
    assert reply.status == 201, reply.body


async def test_a_killed_worker_is_a_clear_error_and_the_next_upload_succeeds(one_worker):
    api, running = one_worker
    workers = running.app[ASSETS].workers
    pid = await workers.run(os.getpid)
    request = asyncio.ensure_future(upload(api, "killed-upload", model(MODEL)))
    await until(lambda: workers.running == 1, "the upload reaches the worker")
    os.kill(pid, signal.SIGKILL)
    reply = await request
    assert reply.status == 500, reply.body
    assert "asset worker stopped" in reply.body["error"] and reply.body["field"] == "body"
    assert (await api.get("/api/curate/assets")).status == 200
    again = await upload(api, "killed-upload", model(MODEL))  # nothing was kept of the killed attempt: the id is free
    assert again.status == 201, again.body
    assert await workers.run(os.getpid) != pid


async def test_a_model_over_the_memory_limit_is_refused_by_name_and_the_next_upload_succeeds(server, scenes_dir, tmp_path):
    probe = AssetWorkers(workers=1, memory_mb=0)  # what a worker uses before any job, on this machine
    await probe.start()
    try:
        baseline_mb = await probe.run(jobs.data_segment_mb)
    finally:
        await probe.close()
    limit_mb = baseline_mb + 48  # room for small models, not for the large one's textures and levels
    http, api, running, runner = await serve(server, tmp_path / "data", scenes_dir, asset_worker_memory_mb=limit_mb)
    try:
        reply = await upload(api, "index-controller", model(LARGE_MODEL))
        assert reply.status == 413, reply.body
        assert f"{limit_mb} MB" in reply.body["error"] and "asset_worker_memory_mb" in reply.body["error"]
        assert reply.body["field"] == "body"
        assert (await upload(api, "plinth-upload", PLINTH)).status == 201
    finally:
        await http.close()
        await runner.cleanup()


async def test_a_file_over_the_size_limit_is_refused_before_any_work(one_worker):
    api, running = one_worker
    limit = running.app[ASSETS].limits.max_file_bytes
    reply = await upload(api, "too-big", bytes(limit + 1))
    assert reply.status == 413, reply.body
    assert str(limit) in reply.body["error"] and reply.body["field"] == "body"
