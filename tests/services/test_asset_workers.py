"""The asset worker pool: bounded queue, memory and processor-time limits, a worker that dies, errors that come back whole."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tests.services import jobs
from thirdspace.assets.checks import ImportRefused, check_upload
from thirdspace.assets.recipes import RecipeError, build_glb
from thirdspace.services.assets import WORKER_NICENESS, AssetWorkers, AssetWorkersBusy, JobTooLong, WorkerOutOfMemory, WorkerStopped


@pytest.fixture
async def workers():
    pool = AssetWorkers(workers=1, queue=1, memory_mb=512, cpu_s=2)
    await pool.start()
    yield pool
    await pool.close()


async def until(condition, what: str) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_full_queue_refuses_requests_at_once_and_owed_work_waits(workers, tmp_path):
    gate = tmp_path / "gate"
    running = asyncio.ensure_future(workers.run(jobs.wait_for, str(gate)))
    await until(lambda: workers.running == 1, "the first job reaches the worker")
    queued = asyncio.ensure_future(workers.run(jobs.wait_for, str(gate)))
    await asyncio.sleep(0)
    with pytest.raises(AssetWorkersBusy) as busy:  # one running, one waiting: the queue of 1 is full
        await workers.run(os.getpid)
    assert busy.value.retry_after_s > 0 and "busy" in str(busy.value)
    owed = asyncio.ensure_future(workers.run(os.getpid, wait=True))  # the server's own work queues anyway
    await asyncio.sleep(0.05)
    assert not (running.done() or queued.done() or owed.done())
    gate.touch()
    pids = await asyncio.gather(running, queued, owed)
    assert len(set(pids)) == 1  # one worker did them all, one after another
    assert (workers.admitted, workers.running) == (0, 0)


async def test_a_job_over_the_memory_limit_fails_clearly_and_the_worker_lives_on(workers):
    pid = await workers.run(os.getpid)
    with pytest.raises(WorkerOutOfMemory) as err:
        await workers.run(jobs.allocate, 1024)
    assert "512 MB" in str(err.value) and "asset_worker_memory_mb" in str(err.value)
    assert await workers.run(jobs.allocate, 64) == 64 * 1024 * 1024
    assert await workers.run(os.getpid) == pid


async def test_a_job_over_its_processor_time_is_stopped(workers):
    pid = await workers.run(os.getpid)
    with pytest.raises(JobTooLong) as err:
        await workers.run(jobs.spin)
    assert "asset_job_cpu_s" in str(err.value)
    assert await workers.run(os.getpid) == pid  # the limit is per job: the next one gets its own 2 s


async def test_a_killed_worker_fails_its_job_and_a_new_worker_takes_the_next(workers, tmp_path):
    pid = await workers.run(os.getpid)
    doomed = asyncio.ensure_future(workers.run(jobs.wait_for, str(tmp_path / "never")))
    await until(lambda: workers.running == 1, "the job reaches the worker")
    behind = asyncio.ensure_future(workers.run(os.getpid, wait=True))  # waiting for the worker when it dies
    await asyncio.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerStopped, match="stopped while working on this"):
        await doomed
    new_pid = await behind
    assert new_pid != pid
    assert await workers.run(jobs.allocate, 1) == 1024 * 1024
    assert (workers.admitted, workers.running) == (0, 0)


async def test_errors_from_a_job_come_back_whole(workers):
    glb = await workers.run(build_glb, "plinth")
    with pytest.raises(ImportRefused) as refused:
        await workers.run(check_upload, glb[:100])
    assert refused.value.field == "header.length" and refused.value.message
    with pytest.raises(RecipeError) as recipe:
        await workers.run(build_glb, "pagoda", {"tiers": 99})
    assert recipe.value.field == "params.tiers"
    with pytest.raises(ValueError, match="no such thing"):
        await workers.run(jobs.refuse, "no such thing")


async def test_a_caller_that_stops_waiting_keeps_the_worker_busy_until_the_job_ends(tmp_path):
    workers = AssetWorkers(workers=1, queue=0)
    await workers.start()
    try:
        gate = tmp_path / "gate"
        request = asyncio.ensure_future(workers.run(jobs.wait_for, str(gate)))
        await until(lambda: workers.running == 1, "the job reaches the worker")
        request.cancel()  # the client went away; the worker does not know
        await asyncio.sleep(0.05)
        with pytest.raises(AssetWorkersBusy):
            await workers.run(os.getpid)
        gate.touch()
        await until(lambda: workers.admitted == 0, "the job ends")
        assert await workers.run(jobs.allocate, 1) == 1024 * 1024
    finally:
        await workers.close()


async def test_closing_stops_a_running_job(tmp_path):
    workers = AssetWorkers(workers=1, queue=0)
    await workers.start()
    pid = await workers.run(os.getpid)
    stuck = asyncio.ensure_future(workers.run(jobs.wait_for, str(tmp_path / "never")))
    await until(lambda: workers.running == 1, "the job reaches the worker")
    await workers.close()
    with pytest.raises(WorkerStopped):
        await stuck
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="not started"):
        await workers.run(os.getpid)


async def test_a_memory_limit_too_small_to_start_is_a_clear_start_up_error():
    workers = AssetWorkers(workers=1, memory_mb=16)
    with pytest.raises(RuntimeError, match="the asset workers cannot start"):
        await workers.start()


def test_settings_are_checked():
    for bad in ({"workers": 0}, {"queue": -1}, {"memory_mb": -1}):
        with pytest.raises(ValueError):
            AssetWorkers(**bad)


async def test_workers_run_at_a_lower_priority_than_the_server(workers):
    assert await workers.run(os.nice, 0) == os.nice(0) + WORKER_NICENESS
