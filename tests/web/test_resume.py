"""Resume over a real server: a dropped TCP connection comes back to the same place, and nobody sees it leave."""

import asyncio

import pytest

from tests.conftest import start_server
from thirdspace.client import ThirdSpaceClient
from thirdspace.config import Settings


def membership_changes(client, visitor_id):
    return [m for m in client.messages if (m.get("type") == "leave" and m["id"] == visitor_id)
            or (m.get("type") == "join" and m["visitor"]["id"] == visitor_id)]  # fmt: skip


async def test_a_dropped_connection_resumes_in_the_same_slot_unseen(server):
    async with (
        await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", language="sw", reconnect=True) as ama,
        await ThirdSpaceClient.connect(server.ws, "gallery", "Bo", language="fr") as bo,
    ):
        assert ama.room == bo.room
        runner = server.rooms.runners[ama.room]
        slot = runner.room.visitors[ama.id].slot
        await bo.send_chat("before the drop")
        await ama.wait_for(lambda c: any(line["text"] == "before the drop" for line in c.chat))
        first_id = ama.id

        ama.ws.transport.abort()  # the network goes: no close frame
        await ama.wait_for(lambda c: c.resumes == 1)

        assert ama.id == first_id and ama.room == bo.room
        assert runner.room.visitors[ama.id].slot == slot and runner.room.visitors[ama.id].name == "Ama"
        assert [line["text"] for line in ama.chat].count("before the drop") == 1  # history kept, not doubled
        await ama.send_chat("after the drop")
        await bo.wait_for(lambda c: any(line["text"] == "after the drop" for line in c.chat))
        await asyncio.sleep(0.2)
        assert membership_changes(bo, first_id) == []  # Bo never saw Ama leave or join
        await ama.send_pose((1.0, 1.6, 2.0))
        await bo.wait_for(lambda c: first_id in c.poses and abs(c.poses[first_id][0][0] - 1.0) < 0.01)


async def test_a_clean_close_leaves_at_once(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo") as bo:
        ama = await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", reconnect=True)
        await ama.close()
        await bo.wait_for(lambda c: [m for m in c.messages if m.get("type") == "leave" and m["id"] == ama.id], timeout=3)


@pytest.fixture
async def short_window(scenes_dir, tmp_path):
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=tmp_path, resume_window_s=0.5)
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


async def test_after_the_window_the_place_is_gone(short_window):
    async with await ThirdSpaceClient.connect(short_window.ws, "gallery", "Bo") as bo:
        ama = await ThirdSpaceClient.connect(short_window.ws, "gallery", "Ama")
        token, room = ama.welcome["resume"], ama.room
        ama.ws.transport.abort()
        left = await bo.wait_for(lambda c: [m for m in c.messages if m.get("type") == "leave" and m["id"] == ama.id], timeout=5)
        assert left
        # Coming back with the old token after the window is a plain new join.
        late = await ThirdSpaceClient.connect(short_window.ws, "gallery", "Ama", room=room, resume=token)
        assert not late.welcome.get("resumed")
        await late.close()


async def test_a_forged_resume_token_is_a_new_visitor(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo") as bo:
        forged = f"{bo.id}.{'A' * 24}"
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "Eve", room=bo.room, resume=forged) as eve:
            assert not eve.welcome.get("resumed") and eve.id != bo.id
            assert server.rooms.runners[bo.room].room.visitors[bo.id].name == "Bo"


async def test_a_malformed_resume_token_is_refused_naming_the_field(server):
    with pytest.raises(Exception) as err:
        await ThirdSpaceClient.connect(server.ws, "gallery", "Eve", resume="not a token")
    assert err.value.message["field"] == "resume"
