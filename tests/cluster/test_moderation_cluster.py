"""Moderation and accounts across the nodes of a cluster: a kick made through one node keeps the person out of the
scene through the other; a user revoked through one node loses their WebSocket on the other."""

from __future__ import annotations

import aiohttp
import pytest

from tests.processes import start_node, stop
from thirdspace.client import JoinError, ThirdSpaceClient
from thirdspace.protocol.constants import CLOSE_KICKED, PROTOCOL_VERSION
from thirdspace.store import Database

BROWSER_COOKIE = "thirdspace_browser"


@pytest.fixture(scope="module")
def accounts(cluster_data) -> dict[str, tuple[int, str]]:
    db = Database(cluster_data / "thirdspace.sqlite3")
    try:
        made = {role: db.add_user(f"Moderation {role}", role) for role in ("admin", "visitor")}
        made["revoked"] = db.add_user("Moderation revoked", "curator")
        return {role: (user.id, token) for role, (user, token) in made.items()}
    finally:
        db.close()


@pytest.fixture(scope="module")
def nodes(redis, cluster_data, scenes_dir, tmp_path_factory, accounts):
    logs = tmp_path_factory.mktemp("logs")
    env = {"THIRDSPACE_SESSION_RECHECK_S": "0.5"}
    a = start_node("mod-a", redis.url, cluster_data, scenes_dir, logs, env=env)
    b = start_node("mod-b", redis.url, cluster_data, scenes_dir, logs, env=env)
    yield a, b
    stop(a)
    stop(b)


async def join(url: str, name: str, cookie: str | None = None, token: str | None = None) -> ThirdSpaceClient:
    headers = {"Cookie": cookie} if cookie else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": "market", "name": name, "language": "en", "colour": "#4a90d9"}
    ws, welcome = await ThirdSpaceClient._handshake(url, hello, headers or None, 10.0)
    return ThirdSpaceClient(ws, welcome)


async def test_a_kick_through_one_node_keeps_the_person_out_through_the_other(nodes, accounts):
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        async with http.get(a.http + "/") as reply:
            morsel = reply.cookies.get(BROWSER_COOKIE)
        cookie = f"{BROWSER_COOKIE}={morsel.value if morsel is not None else 'unsigned-cluster'}"
        visitor = await join(a.ws, "Kicked across", cookie, token=accounts["visitor"][1])
        try:
            admin = {"Authorization": f"Bearer {accounts['admin'][1]}"}
            url = f"{b.http}/api/admin/rooms/{visitor.room}/kick"
            async with http.post(url, json={"visitor": visitor.id, "minutes": 5}, headers=admin) as reply:
                assert reply.status == 200, await reply.text()
            await visitor.wait_for(lambda c: c.closed)
            assert visitor.close_code == CLOSE_KICKED
            for node in (a, b):
                with pytest.raises(JoinError) as refused:
                    await join(node.ws, "Back again", cookie)  # the same browser, not signed in
                assert refused.value.message["code"] == "kicked"
                with pytest.raises(JoinError):
                    await join(node.ws, "Back again", token=accounts["visitor"][1])  # signed in, another browser
        finally:
            await visitor.close()


async def test_a_user_revoked_through_one_node_loses_their_websocket_on_the_other(nodes, accounts):
    a, b = nodes
    user_id, token = accounts["revoked"]
    client = await join(a.ws, "Revoked across", token=token)
    try:
        holder = next(node for node in nodes if node.port == client.ws.remote_address[1])  # after any redirect
        other = b if holder is a else a
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {accounts['admin'][1]}"}) as http:
            async with http.post(f"{other.http}/api/admin/users/{user_id}/revoke", json={}) as reply:
                assert reply.status == 200, await reply.text()
        await client.wait_for(lambda c: c.closed, timeout=10)
        assert client.close_code == CLOSE_KICKED
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{holder.http}/api/curate/scenes", headers={"Authorization": f"Bearer {token}"}) as reply:
                assert reply.status == 401
    finally:
        await client.close()
