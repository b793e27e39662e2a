"""Acknowledged edits survive the server being killed (SIGKILL) part way through a stream of them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys

import aiohttp

from tests.curate.conftest import add_users, fresh_data_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start(data, scenes, port) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thirdspace", "serve", "--no-build", "--port", str(port), "--data-dir", str(data), "--scenes", str(scenes),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise AssertionError("the server did not start")


async def test_acknowledged_edits_survive_sigkill(server, scenes_dir, tmp_path):
    data = fresh_data_dir(server, tmp_path / "data")
    token = add_users(data / "thirdspace.sqlite3")["curator"]
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/curate/scenes/gallery"
    headers = {"Authorization": f"Bearer {token}"}
    process = await start(data, scenes_dir, port)
    acknowledged: dict[int, float] = {}  # revision -> the x we sent
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(base) as response:
                etag = response.headers["ETag"]

            async def edit_forever():
                nonlocal etag
                step = 0
                while True:
                    step += 1
                    x = round(step * 0.01, 2)
                    body = {"position": [x, 0, -2.5]}
                    async with http.patch(f"{base}/nodes/plinth-1", json=body, headers={"If-Match": etag}) as response:
                        assert response.status == 200, await response.text()
                        etag = response.headers["ETag"]
                        acknowledged[int(etag.strip('"r'))] = x

            writer = asyncio.create_task(edit_forever())
            while len(acknowledged) < 40:
                await asyncio.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)  # edits are in flight
            await process.wait()
            try:
                await writer
            except (aiohttp.ClientError, AssertionError):
                pass  # the request in flight when the server died
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == -signal.SIGKILL

    process = await start(data, scenes_dir, port)
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(base) as response:
                head = (await response.json())["revision"]
            assert head >= max(acknowledged)  # at most the unacknowledged edit in flight went further
            for revision, x in sorted(acknowledged.items()):
                async with http.get(f"{base}/revisions/{revision}") as response:
                    document = (await response.json())["document"]
                plinth = next(n for n in document["nodes"] if n["id"] == "plinth-1")
                assert plinth["position"] == [x, 0, -2.5], revision
    finally:
        process.terminate()
        await process.wait()
    with sqlite3.connect(data / "thirdspace.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM revisions WHERE scene_id = 'gallery'").fetchone()[0] == head
