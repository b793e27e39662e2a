"""The wall-clock limit on one asset job (``asset_job_timeout_s``): an upload past it gets a 413 naming the setting
and the worker takes the next job; a job deaf to the worker's alarm is killed and a new pool takes over."""

from __future__ import annotations

import pytest

from tests.assets import hostile
from tests.assets.test_asset_workers_http import serve, until, upload
from tests.assets.worker_jobs import deaf_wait_for
from tests.services import jobs
from thirdspace.assets.recipes import build_glb
from thirdspace.services.assets import AssetWorkers, JobTimedOut, WorkerStopped

PLINTH = build_glb("plinth")


async def test_an_upload_past_the_wall_clock_limit_is_refused_naming_the_setting(server, scenes_dir, tmp_path):
    http, api, running, runner = await serve(server, tmp_path, scenes_dir, asset_job_timeout_s=1)
    try:
        reply = await upload(api, "slow-upload", hostile.loose_triangles_glb(20_000))
        assert reply.status == 413, reply.body
        assert "asset_job_timeout_s" in reply.body["error"] and "1 s" in reply.body["error"] and reply.body["field"] == "body"
        again = await upload(api, "plinth-after-timeout", PLINTH)  # the worker took the next job
        assert again.status == 201, again.body
    finally:
        await http.close()
        await runner.cleanup()


async def test_a_job_that_ignores_its_alarm_is_killed_and_the_pool_starts_again(tmp_path):
    pool = AssetWorkers(workers=1, queue=1, memory_mb=0, cpu_s=0, timeout_s=1)
    await pool.start()
    try:
        with pytest.raises(JobTimedOut) as timed_out:  # the alarm reaches an ordinary job
            await pool.run(jobs.wait_for, str(tmp_path / "never"))
        assert "asset_job_timeout_s" in str(timed_out.value)
        first = await pool.run(jobs.data_segment_mb)  # the same worker lives on
        assert first > 0
        with pytest.raises(JobTimedOut):  # a job deaf to the alarm: the server kills its worker after the grace time
            await pool.run(deaf_wait_for, str(tmp_path / "never"))
        await until(lambda: pool.running == 0 and pool.admitted == 0, "the killed job frees its slot")
        try:
            assert await pool.run(jobs.data_segment_mb) > 0  # a new pool takes the next job
        except WorkerStopped:  # the broken pool was still being replaced: the job after that one runs
            assert await pool.run(jobs.data_segment_mb) > 0
    finally:
        await pool.close()
