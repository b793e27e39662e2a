"""Room administration: list, mute, kick (and the ban that follows), lock, close with a message."""

from __future__ import annotations

import pytest

from tests.curate.conftest import Curated
from tests.curate.test_authoring import copy_scene
from thirdspace.client import JoinError, ThirdSpaceClient
from thirdspace.protocol.constants import CLOSE_KICKED, CLOSE_ROOM_CLOSED


async def test_mute_kick_lock_and_close(curated: Curated):
    api = curated.curator
    scene, _ = await copy_scene(api, publish=True)
    ws = curated.server.ws
    named = await ThirdSpaceClient.connect(ws, scene, "Signed in", token=curated.tokens["visitor"])
    other = await ThirdSpaceClient.connect(ws, scene, "Other")
    try:
        room = named.room
        rooms = (await api.get("/api/admin/rooms")).body["rooms"]
        listed = next(r for r in rooms if r["id"] == room)
        assert {v["name"] for v in listed["visitors"]} == {"Signed in", "Other"} and listed["locked"] is False

        assert (await api.post(f"/api/admin/rooms/{room}/mute", {"visitor": other.id})).status == 200
        await other.send_chat("can anyone hear me?")
        error = await other.wait_for(lambda c: c.errors)
        assert error[-1]["code"] == "muted"
        await named.send_chat("still talking")
        await other.wait_for(lambda c: any(m["text"] == "still talking" for m in c.chat))
        assert not any(m["text"] == "can anyone hear me?" for m in named.chat)
        assert (await api.post(f"/api/admin/rooms/{room}/mute", {"visitor": other.id, "muted": False})).status == 200

        kicked = await api.post(f"/api/admin/rooms/{room}/kick", {"visitor": named.id, "minutes": 5})
        assert kicked.status == 200
        with pytest.raises(ConnectionError):
            await named.wait_for(lambda c: False, timeout=3)
        assert named.close_code == CLOSE_KICKED
        with pytest.raises(JoinError) as refused:  # nor any room of the scene, for five minutes
            await ThirdSpaceClient.connect(ws, scene, "Signed in", token=curated.tokens["visitor"])
        assert refused.value.message["code"] == "kicked"

        assert (await api.post(f"/api/admin/rooms/{room}/lock", {"locked": True})).status == 200
        newcomer = await ThirdSpaceClient.connect(ws, scene, "Newcomer")
        assert newcomer.room != room
        await newcomer.close()

        closed = await api.post(f"/api/admin/rooms/{room}/close", {"message": "The gallery closes at six."})
        assert closed.status == 200
        with pytest.raises(ConnectionError):
            await other.wait_for(lambda c: False, timeout=3)
        assert other.close_code == CLOSE_ROOM_CLOSED
        assert any(m == {"type": "closed", "room": room, "message": "The gallery closes at six."} for m in other.messages)
        assert room not in {r["id"] for r in (await api.get("/api/admin/rooms")).body["rooms"]}
    finally:
        await named.close()
        await other.close()


async def test_moderation_names_what_is_wrong(curated: Curated):
    api = curated.curator
    assert (await api.post("/api/admin/rooms/nowhere-1/mute", {"visitor": 1})).body["field"] == "room_id"
    scene, _ = await copy_scene(api, publish=True)
    async with await ThirdSpaceClient.connect(curated.server.ws, scene, "Someone") as client:
        reply = await api.post(f"/api/admin/rooms/{client.room}/kick", {"visitor": 999})
        assert reply.status == 404 and reply.body["field"] == "visitor"
        reply = await api.post(f"/api/admin/rooms/{client.room}/kick", {"visitor": client.id, "minutes": -1})
        assert reply.status == 400 and reply.body["field"] == "minutes"
        reply = await api.post(f"/api/admin/rooms/{client.room}/close", {"message": " "})
        assert reply.status == 400 and reply.body["field"] == "message"


async def test_a_taken_down_scene_closes_its_rooms(curated: Curated):
    scene, _ = await copy_scene(curated.curator, publish=True)
    client = await ThirdSpaceClient.connect(curated.server.ws, scene, "Late visitor")
    try:
        etag = (await curated.admin.get(f"/api/curate/scenes/{scene}")).etag
        assert (await curated.admin.delete(f"/api/curate/scenes/{scene}", headers={"If-Match": etag})).status == 204
        with pytest.raises(ConnectionError):
            await client.wait_for(lambda c: False, timeout=3)
        assert client.close_code == CLOSE_ROOM_CLOSED
        with pytest.raises(JoinError):
            await ThirdSpaceClient.connect(curated.server.ws, scene, "Too late")
    finally:
        await client.close()
