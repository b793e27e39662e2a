"""The server on PostgreSQL: scenes are imported and served, and two servers on one database share the store."""

from __future__ import annotations

import os
import subprocess
import sys

import aiohttp

from tests.conftest import start_server
from tests.curate.conftest import Api, fresh_data_dir
from thirdspace.config import Settings
from thirdspace.store import Database


async def test_two_servers_share_one_postgresql_store(server, scenes_dir, tmp_path, postgres):
    url = postgres.create_database()
    store = Database(url)
    curator_token = store.add_user("Curator Example", "curator")[1]
    store.close()
    runners = []
    try:
        data_a = fresh_data_dir(server, tmp_path / "a")
        runner, node_a = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data_a, database_url=url))
        runners.append(runner)
        assert not (data_a / "thirdspace.sqlite3").exists()
        data_b = fresh_data_dir(server, tmp_path / "b")
        runner, node_b = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data_b, database_url=url))
        runners.append(runner)

        async with aiohttp.ClientSession() as http:
            a, b = Api(http, node_a.http, curator_token), Api(http, node_b.http, curator_token)
            expected = {path.stem for path in scenes_dir.glob("*.json")}
            for node in (a, b):
                reply = await node.get("/api/scenes")
                assert reply.status == 200 and {s["id"] for s in reply.body["scenes"]} == expected
            # Node B found the scenes node A had imported: each is still at its first revision.
            revisions = await b.get("/api/curate/scenes/gallery/revisions")
            assert [r["revision"] for r in revisions.body["revisions"]] == [1]

            created = await a.post("/api/curate/scenes", {"copy_from": "gallery", "id": "shared-copy"})
            assert created.status == 201, created.body
            seen = await b.get("/api/curate/scenes")
            assert "shared-copy" in {s["id"] for s in seen.body["scenes"]}
            draft = await b.get("/api/curate/scenes/shared-copy")
            assert draft.status == 200 and draft.etag == created.etag == '"r1"'

            # Both edit revision 1: the first wins, the second is told the draft moved on.
            path = "/api/curate/scenes/shared-copy/nodes/plinth-1"
            first = await a.patch(path, {"position": [1, 0, -2.5]}, headers={"If-Match": '"r1"'})
            assert first.status == 200 and first.etag == '"r2"', first.body
            second = await b.patch(path, {"position": [2, 0, -2.5]}, headers={"If-Match": '"r1"'})
            assert second.status == 412 and second.body["current_revision"] == 2, second.body

            published = await b.post("/api/curate/scenes/shared-copy/publish", headers={"If-Match": '"r2"'})
            assert published.status == 200, published.body
            reply = await b.get("/api/scenes")
            assert "shared-copy" in {s["id"] for s in reply.body["scenes"]}
            history = (await a.get("/api/curate/scenes/shared-copy/revisions")).body["revisions"]
            assert [(r["revision"], r["published_at"] is not None) for r in history] == [(2, True), (1, False)]
    finally:
        for runner in runners:
            await runner.cleanup()


def test_the_user_commands_use_database_url(postgres, tmp_path):
    url = postgres.create_database()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")}, "THIRDSPACE_DATABASE_URL": url}

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "thirdspace", *args, "--data-dir", str(tmp_path)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)

    added = cli("user", "add", "Amina", "--role", "curator")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert cli("user", "add", "Amina", "--role", "curator").returncode == 2  # already there
    assert "Amina" in cli("user", "list").stdout
    assert not (tmp_path / "thirdspace.sqlite3").exists()
    store = Database(url)
    assert store.user_by_token(token).name == "Amina"
    store.close()
