"""Hostile models through the real upload route of a real server: node chains, scenes that list a root again and
again, many loose triangles, a large grid under bigger triangles.  Each is refused at once with a 422 naming the
limit, or built in time and memory in proportion to the file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import brotli
import numpy as np
import pytest

from tests.assets import hostile
from tests.assets.test_asset_workers_http import serve, until, upload
from tests.conftest import RunningServer
from tests.curate.conftest import Api
from thirdspace.web.keys import ASSETS


@pytest.fixture(scope="module")
async def curator(server, scenes_dir, tmp_path_factory) -> AsyncIterator[tuple[Api, RunningServer]]:
    """A server of its own with the default limits, its asset worker limited to 1 GB and 20 s of processor time a job
    (a file whose cost grows with the square of its triangles needs minutes: it would get a 413)."""
    data_dir = tmp_path_factory.mktemp("hostile")
    http, api, running, runner = await serve(server, data_dir, scenes_dir, asset_worker_memory_mb=1024, asset_job_cpu_s=20)
    yield api, running
    await http.close()
    await runner.cleanup()


def refused(reply, field: str, *words: str) -> None:
    assert reply.status == 422, reply.body
    assert reply.body["field"] == field, reply.body
    for word in words:
        assert word in reply.body["error"], reply.body


async def test_a_chain_of_nodes_deeper_than_the_limit_is_refused_naming_it(curator):
    api, _ = curator
    refused(await upload(api, "chain-1000", hostile.node_chain_glb(1000)), "nodes[256]", "257 levels deep", "the limit is 256")
    # 20,000 nodes (the node limit) in one chain: refused as fast, not after walking it node by node from each node
    refused(await upload(api, "chain-20000", hostile.node_chain_glb(20_000)), "nodes[256]", "the limit is 256")
    reply = await upload(api, "chain-256", hostile.node_chain_glb(256))  # at the limit: built, levels and all
    assert reply.status == 201, reply.body


async def test_a_chain_within_a_raised_limit_is_built_without_recursion(server, scenes_dir, tmp_path):
    """Deeper than Python's recursion limit (1,000 frames): every walk of the node graph is a loop."""
    http, api, running, runner = await serve(server, tmp_path, scenes_dir, asset_max_node_depth=5000)
    try:
        reply = await upload(api, "chain-3000", hostile.node_chain_glb(3000))
        assert reply.status == 201, reply.body
        record = await api.get(f"/api/assets/{reply.body['sha256']}")
        assert record.status == 200 and record.body["levels"], record.body
        refused(await upload(api, "chain-6000", hostile.node_chain_glb(6000)), "nodes[5000]", "the limit is 5000")
    finally:
        await http.close()
        await runner.cleanup()


async def test_a_scene_listing_its_root_a_million_times_is_refused_at_once(curator):
    api, _ = curator
    reply = await upload(api, "roots-1m", hostile.repeated_root_glb(1_000_000))
    refused(reply, "scenes[0].nodes", "1000000 root nodes", "the limit is 4096")
    # Within the count, a root listed twice is refused as the glTF validator refuses it
    refused(await upload(api, "roots-49", hostile.repeated_root_glb(50)), "scenes[0].nodes[1]", "node 0 is listed more than once")


async def test_a_scene_root_that_is_also_a_child_is_refused(curator):
    api, _ = curator
    glb = hostile._glb(hostile._triangle(), None, [{"children": [1]}, {"mesh": 0}], [0, 1])
    refused(await upload(api, "root-child", glb), "scenes[0].nodes[1]", "node 1 is a child of node 0")


async def test_a_mesh_drawn_by_many_nodes_past_the_drawn_triangle_limit_is_refused(curator):
    api, _ = curator
    nodes = [{"mesh": 0, "translation": [float(i), 0.0, 0.0]} for i in range(4000)]
    glb = hostile._glb(*_grid(40), nodes, list(range(4000)))  # 3,200 triangles, shown 4,000 times: 12.8 million drawn
    refused(await upload(api, "many-instances", glb), "nodes", "12800000 triangles", "the limit is 4000000")


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    side = np.linspace(0.0, 1.0, n + 1)
    x, z = np.meshgrid(side, side, indexing="ij")
    positions = np.stack([x.ravel(), np.zeros(x.size), z.ravel()], axis=1)
    index = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
    return positions, np.concatenate([np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)])


@pytest.mark.timeout(300)
async def test_twenty_thousand_loose_triangles_are_built_while_the_server_keeps_answering(curator):
    """20,000 separate overlapping triangles: once about a minute of processor time (every part compared with every
    bigger one), now in proportion to the file, well within the 20 s a job may use; /healthz answers all the while."""
    api, running = curator
    workers = running.app[ASSETS].workers
    request = asyncio.ensure_future(upload(api, "loose-20000", hostile.loose_triangles_glb(20_000)))
    await until(lambda: workers.running == 1 or request.done(), "the upload reaches the worker")
    answered = 0
    while not request.done():
        async with api.http.get(f"{running.http}/healthz") as response:
            assert response.status == 200
            answered += 1
        await asyncio.sleep(0.05)
    reply = await request
    assert reply.status == 201, reply.body
    assert answered >= 1
    record = await api.get(f"/api/assets/{reply.body['sha256']}")
    assert record.status == 200 and record.body["levels"][0]["triangles"] == 20_000


@pytest.mark.timeout(300)
async def test_a_large_grid_under_bigger_triangles_is_built_within_a_gigabyte(curator):
    """A 3.2 MB file (a 300 x 300 grid and 1,000 triangles bigger than it) once needed 6.5 GB; the worker has 1 GB."""
    api, running = curator
    data = hostile.grid_with_triangles_glb(300, 1000)
    assert len(data) < 4 * 1024 * 1024
    reply = await upload(api, "grid-and-triangles", data)
    assert reply.status == 201, reply.body
    # Its compressed twins are there too (a file this large gets brotli's faster setting) and decode to the file.
    level = (await api.get(f"/api/assets/{reply.body['sha256']}")).body["levels"][0]
    assert level["size"] > 1 << 20 and level["encoded"]["br"] < level["size"] / 3
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(running.http + level["url"], headers={"Accept-Encoding": "identity"}) as response:
            plain = await response.read()
        async with http.get(running.http + level["url"], headers={"Accept-Encoding": "br"}) as response:
            assert response.headers["Content-Encoding"] == "br"
            assert brotli.decompress(await response.read()) == plain
