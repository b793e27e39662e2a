"""Assets stored through the authoring API are served after the server restarts, whether or not a scene uses them."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from tests.curate.conftest import add_users, fresh_data_dir
from tests.processes import Node, start_node, stop_process


def post_json(node: Node, path: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        node.http + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def served(node: Node, record: dict) -> dict[str, int]:
    """The status of the asset's record and of every file it lists (the source and each level)."""
    statuses = {"record": node.get(f"/api/assets/{record['sha256']}")[0], "source": node.get(record["url"])[0]}
    for level in record["levels"]:
        statuses[f"level {level['level']}"] = node.get(level["url"])[0]
    return statuses


async def test_a_generated_asset_no_scene_uses_is_served_after_a_restart(server, scenes_dir, tmp_path):
    data = fresh_data_dir(server, tmp_path / "data")
    token = add_users(data / "thirdspace.sqlite3")["curator"]
    logs = tmp_path / "logs"
    logs.mkdir()
    port = None
    node = await asyncio.to_thread(start_node, "restart", "", data, scenes_dir, logs)
    try:
        port = node.port
        recipe = {"name": "vessel", "params": {"sections": 29}, "seed": 90210}  # no scene uses this one
        status, body = await asyncio.to_thread(
            post_json, node, "/api/curate/assets/generate", {"recipe": recipe, "id": "unused-vessel"}, token
        )
        assert status == 201, body
        record = body["record"]
        everything_ok = {name: 200 for name in served(node, record)}
        assert served(node, record) == everything_ok
    finally:
        await asyncio.to_thread(stop_process, node.process, 30)
    node = await asyncio.to_thread(start_node, "restart", "", data, scenes_dir, logs, port=port)
    try:
        assert await asyncio.to_thread(served, node, record) == everything_ok
    finally:
        await asyncio.to_thread(stop_process, node.process, 30)
