"""Python clients against a real server on an ephemeral port."""

import asyncio

import numpy as np
import pytest

from thirdspace.client import JoinError, ThirdSpaceClient

MM = 0.001  # positions travel quantised to within a millimetre


async def test_two_visitors_see_each_other_move_and_chat(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", "sw", "#aa3300") as ama:
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo", "fr") as bo:
            assert ama.room == bo.room
            assert await ama.wait_for(lambda c: bo.id in c.visitors)
            assert ama.visitors[bo.id] == {"id": bo.id, "name": "Bo", "language": "fr", "colour": "#4a90d9", "avatar": "traveller"}
            assert bo.visitors[ama.id]["colour"] == "#aa3300"

            for step in range(5):
                await ama.send_pose((0.1 * step, 1.6, 3.0), left=(-0.3, 1.2, 2.8), right=(0.3, 1.2, 2.8))
                await asyncio.sleep(0.05)
            seen = await bo.wait_for(lambda c: ama.id in c.poses and abs(c.poses[ama.id][0, 0] - 0.4) < MM and c.poses)
            np.testing.assert_allclose(seen[ama.id][1, :3], (-0.3, 1.2, 2.8), atol=MM)
            await bo.send_pose((1.0, 1.7, 2.0))
            await ama.wait_for(lambda c: bo.id in c.poses and abs(c.poses[bo.id][0, 1] - 1.7) < MM)

            await bo.send_chat("Habari! <b>not bold</b>")
            line = await ama.wait_for(lambda c: c.chat and c.chat[-1])
            assert line["text"] == "Habari! <b>not bold</b>"
            assert line["from"] == bo.id and line["name"] == "Bo" and line["language"] == "fr"

        left = await ama.wait_for(lambda c: [m for m in c.messages if m["type"] == "leave"])
        assert left[0]["id"] == bo.id
        assert bo.id not in ama.visitors


async def test_late_joiner_receives_chat_history(server):
    async with await ThirdSpaceClient.connect(server.ws, "caravanserai", "Chen", "zh") as chen:
        await chen.send_chat("First line")
        await chen.send_chat("Second line")
        await chen.wait_for(lambda c: len(c.chat) >= 2)
        async with await ThirdSpaceClient.connect(server.ws, "caravanserai", "Dara", "ar") as dara:
            assert [m["text"] for m in dara.welcome["chat"]][-2:] == ["First line", "Second line"]


async def test_full_room_overflows_into_a_new_instance(server):
    a = await ThirdSpaceClient.connect(server.ws, "tiny", "a")
    b = await ThirdSpaceClient.connect(server.ws, "tiny", "b")
    c = await ThirdSpaceClient.connect(server.ws, "tiny", "c")
    try:
        assert a.room == b.room == "tiny-1"
        assert c.room == "tiny-2"
        assert set(a.visitors) == {a.id, b.id}
        assert set(c.visitors) == {c.id}
        await c.send_chat("only in room two")
        await c.wait_for(lambda cl: cl.chat)
        await asyncio.sleep(0.2)
        assert a.chat == [] and b.chat == []
        rooms = {r.id: len(r.visitors) for r in server.rooms.directory.rooms("tiny")}
        assert rooms == {"tiny-1": 2, "tiny-2": 1}
    finally:
        for client in (a, b, c):
            await client.close()
    await asyncio.sleep(0.1)
    assert server.rooms.directory.rooms("tiny") == []


async def test_unknown_scene_is_refused_with_an_error(server):
    with pytest.raises(JoinError) as info:
        await ThirdSpaceClient.connect(server.ws, "atlantis", "a")
    assert info.value.message == {"type": "error", "code": "unknown_scene", "message": "no scene 'atlantis'", "field": "scene"}


async def test_ping_gets_pong(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "p") as client:
        await client.send({"type": "ping", "nonce": "n-1"})
        pong = await client.wait_for(lambda c: [m for m in c.messages if m["type"] == "pong"])
        assert pong[0]["nonce"] == "n-1"


async def test_implausible_pose_is_dropped_and_counted_by_the_server(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "ok") as watcher:
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "jumpy") as jumpy:
            room = next(r.room for r in server.rooms.runners.values() if jumpy.id in r.room.visitors)
            await jumpy.send_pose((0, 1.6, 3))
            await watcher.wait_for(lambda c: jumpy.id in c.poses)
            dropped = room.stats.poses_dropped
            await jumpy.send_pose((0, 1.6, 500))  # far outside the gallery
            await jumpy.send_pose((float("nan"), 1.6, 3))
            for _ in range(100):  # poses are checked at the room's next tick
                if room.stats.poses_dropped != dropped:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # a few more ticks: nothing else is counted
            assert room.stats.poses_dropped == dropped + 2
            await asyncio.sleep(0.15)
            assert abs(watcher.poses[jumpy.id][0, 2] - 3) < MM


async def test_a_protocol_1_client_is_told_which_protocol_to_speak(server):
    with pytest.raises(JoinError) as info:
        await ThirdSpaceClient.connect(server.ws, "gallery", "old", protocol=1)
    assert info.value.message == {
        "type": "error",
        "code": "unsupported_protocol",
        "message": "this server speaks protocol 2, not 1",
        "field": "protocol",
    }


async def test_metrics_count_poses_bytes_and_rooms(server):
    import aiohttp

    async with await ThirdSpaceClient.connect(server.ws, "gallery", "counted") as client:
        await client.send_pose((0, 1.6, 3))
        await client.send_pose((0, 1.6, 300))  # dropped
        await client.send({"type": "ping"})
        await client.wait_for(lambda c: [m for m in c.messages if m["type"] == "pong"])
        async with aiohttp.ClientSession() as http, http.get(f"{server.http}/metrics") as response:
            text = await response.text()
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert float(samples['thirdspace_poses_total{outcome="dropped"}']) >= 1
    assert float(samples['thirdspace_poses_total{outcome="accepted"}']) >= 1
    assert float(samples["thirdspace_tick_seconds_count"]) > 0
    assert float(samples["thirdspace_tick_lateness_seconds_count"]) >= float(samples["thirdspace_tick_seconds_count"])
    assert 'thirdspace_tick_lateness_seconds_bucket{le="0.01"}' in samples
    assert float(samples['thirdspace_ws_bytes_out_total{kind="snapshot"}']) > 0
    assert float(samples['thirdspace_visitors{state="connected"}']) >= 1
    assert float(samples["thirdspace_chat_seconds_count"]) >= 0
    assert float(samples["process_resident_memory_bytes"]) > 0
