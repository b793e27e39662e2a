"""Every state-changing endpoint and WebSocket message, as anonymous, visitor, curator and admin."""

from __future__ import annotations

import itertools

import orjson
import pytest
import websockets

from tests.assets.helpers import third_party_models
from tests.curate.conftest import Api, Curated, draft
from thirdspace.client import ThirdSpaceClient
from thirdspace.protocol.constants import PROTOCOL_VERSION

ROLES = ("anonymous", "visitor", "curator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
_ids = itertools.count(1)


async def fresh_scene(curated: Curated, publish: bool = False) -> str:
    scene = f"authz-{next(_ids)}"
    reply = await curated.admin.post("/api/curate/scenes", {"copy_from": "gallery", "id": scene})
    assert reply.status == 201
    if publish:
        assert (await curated.admin.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": reply.etag})).status == 200
    return scene


async def etag(curated: Curated, scene: str) -> dict[str, str]:
    return {"If-Match": (await draft(curated.admin, scene)).etag}


class Visitors:
    """Python visitors in published rooms, for the moderation endpoints."""

    def __init__(self):
        self.clients: list[ThirdSpaceClient] = []

    async def join(self, curated: Curated, scene: str) -> ThirdSpaceClient:
        client = await ThirdSpaceClient.connect(curated.server.ws, scene, f"Guest {len(self.clients)}")
        self.clients.append(client)
        return client

    async def close(self):
        for client in self.clients:
            await client.close()


async def request_for(name: str, curated: Curated, visitors: Visitors):
    """(method, path, body, headers, data) for one attempt; resources are made fresh so an allowed role can succeed."""
    scene = await fresh_scene(curated, publish=name in ("publish", "rollback"))
    base = f"/api/curate/scenes/{scene}"
    if name == "create scene":
        return "POST", "/api/curate/scenes", {"copy_from": "gallery", "id": f"authz-new-{next(_ids)}"}, {}, None
    if name == "replace draft":
        return "PUT", base, {"document": (await draft(curated.admin, scene)).body["document"]}, await etag(curated, scene), None
    if name == "delete scene":
        return "DELETE", base, None, await etag(curated, scene), None
    if name == "add node":
        return "POST", f"{base}/nodes", {"node": {"id": "extra", "asset": "plinth"}}, await etag(curated, scene), None
    if name == "move node":
        return "PATCH", f"{base}/nodes/plinth-1", {"position": [0, 0, 0]}, await etag(curated, scene), None
    if name == "remove node":
        return "DELETE", f"{base}/nodes/plinth-1", None, await etag(curated, scene), None
    if name == "set text":
        return "PUT", f"{base}/texts", {"path": "title", "language": "de", "text": "Galerie"}, await etag(curated, scene), None
    if name == "publish":
        return "POST", f"{base}/publish", None, await etag(curated, scene), None
    if name == "rollback":
        return "POST", f"{base}/rollback", {"revision": 1}, await etag(curated, scene), None
    if name == "upload asset":
        data = third_party_models()["oculus-go/none.glb"]
        return "POST", f"/api/curate/assets?id=upload-{next(_ids)}", None, {"Content-Type": "model/gltf-binary"}, data
    if name == "generate asset":
        return (
            "POST",
            "/api/curate/assets/generate",
            {"recipe": {"name": "plinth", "params": {"height": 0.5 + next(_ids) / 1000}}},
            {},
            None,
        )
    if name == "preview recipe":
        return "POST", "/api/curate/recipes/pagoda/preview", {"params": {"tiers": 2}}, {}, None
    if name == "decide review":
        made = await curated.admin.post("/api/curate/assets/generate", {"recipe": {"name": "stele", "params": {"lines": next(_ids) % 20}}})
        return "POST", f"/api/curate/reviews/{made.body['review']}", {"decision": "approve", "note": "fine"}, {}, None
    live = await fresh_scene(curated, publish=True)
    client = await visitors.join(curated, live)
    room = f"/api/admin/rooms/{client.room}"
    if name == "mute":
        return "POST", f"{room}/mute", {"visitor": client.id, "muted": True}, {}, None
    if name == "kick":
        return "POST", f"{room}/kick", {"visitor": client.id, "minutes": 1}, {}, None
    if name == "lock":
        return "POST", f"{room}/lock", {"locked": True}, {}, None
    if name == "close room":
        return "POST", f"{room}/close", {"message": "The gallery is closing for the night."}, {}, None
    if name == "add user":
        return "POST", "/api/admin/users", {"name": f"Person {next(_ids)}", "role": "visitor"}, {}, None
    raise AssertionError(name)


WRITES = {
    "create scene": "curator",
    "replace draft": "curator",
    "delete scene": "admin",
    "add node": "curator",
    "move node": "curator",
    "remove node": "curator",
    "set text": "curator",
    "publish": "curator",
    "rollback": "curator",
    "upload asset": "curator",
    "generate asset": "curator",
    "preview recipe": "curator",
    "decide review": "curator",
    "mute": "curator",
    "kick": "curator",
    "lock": "curator",
    "close room": "curator",
    "add user": "admin",
}
READS = {
    "/api/curate/scenes": "curator",
    "/api/curate/scenes/gallery": "curator",
    "/api/curate/scenes/gallery/revisions": "curator",
    "/api/curate/reviews": "curator",
    "/api/curate/assets": "curator",
    "/api/admin/rooms": "curator",
    "/api/admin/users": "admin",
}


@pytest.mark.parametrize("name", sorted(WRITES))
async def test_state_changing_endpoints_admit_only_their_roles(curated: Curated, name: str):
    needed = WRITES[name]
    visitors = Visitors()
    try:
        for role in ROLES:
            method, path, body, headers, data = await request_for(name, curated, visitors)
            api: Api = getattr(curated, role)
            reply = await api.request(method, path, body, headers=headers, data=data)
            if RANK[role] >= RANK[needed]:
                assert 200 <= reply.status < 300, (role, name, reply.status, reply.body)
            else:
                assert reply.status == (401 if role == "anonymous" else 403), (role, name, reply.status, reply.body)
                assert reply.body["field"] in ("Authorization", "role")
    finally:
        await visitors.close()


@pytest.mark.parametrize("path", sorted(READS))
async def test_curation_reads_admit_only_their_roles(curated: Curated, path: str):
    for role in ROLES:
        reply = await getattr(curated, role).get(path)
        if RANK[role] >= RANK[READS[path]]:
            assert reply.status == 200, (role, path, reply.body)
        else:
            assert reply.status == (401 if role == "anonymous" else 403), (role, path, reply.status)


async def test_websocket_messages_by_role(curated: Curated):
    scene = await fresh_scene(curated, publish=True)
    for role in ROLES:
        headers = {"Authorization": f"Bearer {curated.tokens[role]}"} if role != "anonymous" else None
        # Watching a draft: curators and admins only; others get an error and may still join as visitors.
        async with websockets.connect(curated.server.ws, additional_headers=headers) as ws:
            await ws.send(orjson.dumps({"type": "watch", "scene": scene}).decode())
            reply = orjson.loads(await ws.recv())
            if RANK[role] >= RANK["curator"]:
                assert reply["type"] == "watching", (role, reply)
            else:
                assert reply == {
                    "type": "error",
                    "code": "forbidden",
                    "message": "watching a draft needs the curator role",
                    "field": "type",
                }
                hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene, "name": role}
                await ws.send(orjson.dumps(hello).decode())
                assert orjson.loads(await ws.recv())["type"] == "welcome"
        # Joining and chatting: everyone.
        async with await ThirdSpaceClient.connect(curated.server.ws, scene, f"{role} guest", token=curated.tokens.get(role)) as client:
            await client.send_chat(f"hello from a {role}")
            await client.wait_for(lambda c, role=role: any(m["text"] == f"hello from a {role}" for m in c.chat), timeout=5)


async def test_a_bad_token_is_refused_everywhere(curated: Curated):
    bad = Api(curated.anonymous.http, curated.anonymous.base, "not-a-token")
    assert (await bad.get("/api/curate/scenes")).status == 401
    assert (await bad.get("/api/scenes")).status == 401  # a wrong token is an error, not anonymity
    with pytest.raises(websockets.InvalidStatus) as err:
        await websockets.connect(curated.server.ws, additional_headers={"Authorization": "Bearer not-a-token"})
    assert err.value.response.status_code == 401


async def test_cookie_sessions_need_the_csrf_token_for_writes(curated: Curated):
    import aiohttp

    scene = await fresh_scene(curated)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:  # unsafe: cookies for an IP address
        async with browser.post(f"{curated.server.http}/api/session", json={"token": curated.tokens["curator"]}) as response:
            assert response.status == 200
            session = await response.json()
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        api = Api(browser, curated.server.http, None)
        assert (await api.get("/api/session")).body["user"]["role"] == "curator"
        assert (await api.get(f"/api/curate/scenes/{scene}")).status == 200  # reads need no CSRF token
        headers = await etag(curated, scene)
        forged = await api.patch(f"/api/curate/scenes/{scene}/nodes/plinth-1", {"position": [0, 0, 0]}, headers=headers)
        assert forged.status == 403 and forged.body["field"] == "X-CSRF-Token"
        real = await api.patch(
            f"/api/curate/scenes/{scene}/nodes/plinth-1", {"position": [0, 0, 0]}, headers={**headers, "X-CSRF-Token": session["csrf"]}
        )
        assert real.status == 200
        assert (await api.delete("/api/session")).status == 204
        assert (await api.get("/api/session")).body["user"] is None
    wrong = await curated.anonymous.post("/api/session", {"token": "nope"})
    assert wrong.status == 401 and wrong.body["field"] == "token"


async def test_websocket_origin_must_be_allowed(curated: Curated):
    own = curated.server.http
    async with websockets.connect(curated.server.ws, origin=own) as ws:
        await ws.send(orjson.dumps({"type": "ping", "nonce": 1}).decode())
        assert orjson.loads(await ws.recv()) == {"type": "pong", "nonce": 1}
    with pytest.raises(websockets.InvalidStatus) as err:
        await websockets.connect(curated.server.ws, origin="https://evil.example")
    assert err.value.response.status_code == 403
