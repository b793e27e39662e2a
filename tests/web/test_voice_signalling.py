"""Voice signalling against a real server: pairing by distance, relaying only between peers, limits, moderation.

Python clients carry no audio; they speak the signalling protocol of docs/voice.md, as a browser does."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from thirdspace.client import ThirdSpaceClient
from thirdspace.protocol.constants import CLOSE_KICKED, MAX_SDP_CHARS
from thirdspace.web.keys import DB

SCENE = "market"  # 120 m across: room to stand apart
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


async def place(server, client: ThirdSpaceClient, x: float, z: float) -> None:
    """Teleport the visitor's head to (x, 1.6, z), in hops the room allows (12 m, two a second), and wait until it is there."""
    room = server.rooms.runners[client.room].room
    slot = room.visitors[client.id].slot
    for _ in range(20):
        here = room.parts[slot, 0, :3]
        dx, dz = x - float(here[0]), z - float(here[2])
        distance = (dx * dx + dz * dz) ** 0.5
        if distance < 0.01:
            return
        step = min(1.0, 11.0 / distance)
        await client.send_pose((float(here[0]) + dx * step, 1.6, float(here[2]) + dz * step), teleport=True)
        await asyncio.sleep(0.6)
    raise AssertionError(f"visitor {client.id} could not get to ({x}, {z}): stuck at {room.parts[slot, 0, :3]}, {client.errors[-1:]}")


async def join(server, name: str, room: str = "") -> ThirdSpaceClient:
    return await ThirdSpaceClient.connect(server.ws, SCENE, name, room=room or None)


def peers(client: ThirdSpaceClient) -> set[int]:
    return set(client.voice_peers)


def errors(client: ThirdSpaceClient, code: str) -> list[dict]:
    return [e for e in client.errors if e["code"] == code]


@pytest.fixture
async def trio(server):
    """A speaks, B stands 3 m from A, C 16 m away (beyond the 12 m hearing radius); all three in one room with voice on."""
    a = await join(server, "Ama")
    b = await join(server, "Bo", room=a.room)
    c = await join(server, "Chen", room=a.room)
    clients = (a, b, c)
    try:
        await place(server, a, 0, 20)
        await place(server, b, 3, 20)
        await place(server, c, 16, 20)
        await a.send_voice(listen=True, speak=True)
        await b.send_voice(listen=True)
        await c.send_voice(listen=True)
        yield clients
    finally:
        for client in clients:
            await client.close()


async def test_the_welcome_says_how_to_connect(server):
    async with await join(server, "Dee") as dee:
        voice = dee.welcome["voice"]
        assert voice["transport"] == "p2p"
        assert voice["hearing_radius_m"] == 12.0 and voice["max_voices"] == 8
        assert voice["ice_transport_policy"] == "all" and voice["ice_servers"] == []
        await dee.send_voice(listen=True)
        state = await dee.wait_for(lambda c: c.voice_state)
        assert state == {"type": "voice_state", "listen": True, "speak": False, "announce": False, "room_muted": False, "transport": "p2p"}


async def test_near_visitors_are_paired_far_ones_are_not_until_they_walk_up(trio):
    a, b, c = trio
    await a.wait_for(lambda cl: b.id in cl.voice_peers)
    await b.wait_for(lambda cl: a.id in cl.voice_peers)
    # the lower id makes the offer, the other answers
    assert a.voice_peers[b.id]["offer"] is (a.id < b.id) and b.voice_peers[a.id]["offer"] is (b.id < a.id)
    await asyncio.sleep(0.7)  # more than one selection round
    assert c.id not in peers(a) and peers(c) == set()
    await c.send_pose((5, 1.6, 21), teleport=True)  # walks up to A (in one teleport)
    await c.wait_for(lambda cl: a.id in cl.voice_peers, timeout=2.5)
    # B and C only listen: no pair between them, nobody would speak in it
    assert b.id not in peers(c)


async def test_offers_answers_and_candidates_go_only_to_paired_peers(trio):
    a, b, c = trio
    await a.wait_for(lambda cl: b.id in cl.voice_peers)
    await a.send_signal(b.id, "offer", sdp=SDP)
    await a.send_signal(b.id, "candidate", candidate=CANDIDATE)
    got = await b.wait_for(lambda cl: len(cl.signals) >= 2 and cl.signals)
    assert got[0] == {"type": "signal", "from": a.id, "kind": "offer", "sdp": SDP}
    assert got[1] == {"type": "signal", "from": a.id, "kind": "candidate", "candidate": CANDIDATE}
    await b.send_signal(a.id, "answer", sdp=SDP)
    await a.wait_for(lambda cl: cl.signals and cl.signals[-1]["kind"] == "answer")

    await a.send_signal(c.id, "offer", sdp=SDP)  # C is 16 m away: not a peer
    refused = await a.wait_for(lambda cl: errors(cl, "not_paired"))
    assert refused[0]["field"] == "to" and refused[0]["to"] == c.id  # the page closes that connection
    await asyncio.sleep(0.2)
    assert c.signals == [] and not a.closed


async def test_bad_signalling_gets_its_error_and_nobody_else_notices(trio):
    a, b, c = trio
    await a.wait_for(lambda cl: b.id in cl.voice_peers)
    await a.send_signal(b.id, "offer", sdp="x" * (MAX_SDP_CHARS + 1))
    assert (await a.wait_for(lambda cl: errors(cl, "too_long")))[0]["field"] == "sdp"
    await a.send({"type": "signal", "to": b.id, "kind": "candidate", "candidate": {"candidate": 5}})
    await a.send({"type": "signal", "to": "everyone", "kind": "offer", "sdp": SDP})
    await a.send({"type": "signal", "to": b.id, "kind": "hangup"})
    bad = await a.wait_for(lambda cl: len(errors(cl, "bad_request")) >= 3 and errors(cl, "bad_request"))
    assert [e["field"] for e in bad] == ["candidate", "to", "kind"]
    # a flood: the first burst is relayed, then rate_limited (not counted against the error budget)
    for _ in range(400):
        await a.send_signal(b.id, "candidate", candidate=CANDIDATE)
    limited = await a.wait_for(lambda cl: errors(cl, "rate_limited"))
    assert limited[0]["field"] == "type"
    await b.wait_for(lambda cl: len(cl.signals) >= 100)
    assert len(b.signals) < 400
    # none of it reached C, or closed anyone; B and C carry on
    assert c.signals == [] and not a.closed and not b.closed
    await c.send_chat("still here")
    await b.wait_for(lambda cl: any(line["text"] == "still here" for line in cl.chat))


async def test_turning_voice_on_and_off_in_a_flood_is_rate_limited(server):
    async with await join(server, "Flo") as flo:
        for n in range(30):
            await flo.send_voice(listen=n % 2 == 0)
        limited = await flo.wait_for(lambda cl: errors(cl, "rate_limited"))
        assert limited[0]["field"] == "type"
        states = [m for m in flo.messages if m["type"] == "voice_state"]
        assert 10 <= len(states) < 30 and not flo.closed


async def test_voice_off_and_leaving_end_the_pairs(trio):
    a, b, c = trio
    await b.wait_for(lambda cl: a.id in cl.voice_peers)
    await a.send_voice(listen=False)
    await b.wait_for(lambda cl: a.id not in cl.voice_peers)
    await a.send_voice(listen=True, speak=True)
    await b.wait_for(lambda cl: a.id in cl.voice_peers)
    await a.close()
    await b.wait_for(lambda cl: a.id not in cl.voice_peers)


@pytest.fixture
async def admin(server) -> dict:
    _, token = await server.app[DB].add_user("Moderator Aïcha", "admin")
    return {"Authorization": f"Bearer {token}"}


async def test_a_room_mute_stops_pairing_the_speaker_and_a_kick_ends_its_pairs(trio, server, admin):
    _, b, _ = trio
    _, token = await server.app[DB].add_user("Visitor Dan", "visitor")  # signed in: the kick's ban is theirs alone
    a = await ThirdSpaceClient.connect(server.ws, SCENE, "Dan", token=token, room=b.room)
    try:
        await place(server, a, 1, 21)
        await a.send_voice(listen=True, speak=True)
        await b.wait_for(lambda cl: a.id in cl.voice_peers)
        async with aiohttp.ClientSession(headers=admin) as http:
            url = f"{server.http}/api/admin/rooms/{a.room}/mute"
            async with http.post(url, json={"visitor": a.id, "muted": True, "only": "voice"}) as response:
                assert response.status == 200, await response.text()
            state = await a.wait_for(lambda cl: cl.voice_state["room_muted"] and cl.voice_state)
            assert state["speak"] is True  # the microphone is on, but nobody is paired to hear it
            await b.wait_for(lambda cl: a.id not in cl.voice_peers)
            await asyncio.sleep(0.7)
            assert a.id not in peers(b)  # A may only listen now, and B only listens: there is no pair to make
            await a.send_signal(b.id, "offer", sdp=SDP)
            await a.wait_for(lambda cl: errors(cl, "not_paired"))
            await a.send_chat("chat is not muted")  # only voice was
            await b.wait_for(lambda cl: any(line["text"] == "chat is not muted" for line in cl.chat))

            async with http.post(url, json={"visitor": a.id, "muted": False, "only": "voice"}) as response:
                assert response.status == 200
            await b.wait_for(lambda cl: a.id in cl.voice_peers)
            async with http.post(f"{server.http}/api/admin/rooms/{a.room}/kick", json={"visitor": a.id, "minutes": 1}) as response:
                assert response.status == 200, await response.text()
        await b.wait_for(lambda cl: a.id not in cl.voice_peers)
        await a.wait_for(lambda cl: cl.closed)
        assert a.close_code == CLOSE_KICKED
    finally:
        await a.close()


async def test_a_guide_is_heard_by_the_tour_across_the_room(server):
    # "quiet" is the gallery with a 2 m hearing radius (tests/conftest.py): its spawn points are 3 m apart
    _, token = await server.app[DB].add_user("Guide Kofi", "guide")
    guide = await ThirdSpaceClient.connect(server.ws, "quiet", "Kofi", token=token)
    member = await ThirdSpaceClient.connect(server.ws, "quiet", "Lina", "ar", room=guide.room)
    try:
        assert guide.welcome["voice"]["hearing_radius_m"] == 2.0  # the scene's own voice rules
        await place(server, guide, -1.5, 3.5)
        await place(server, member, 1.5, 3.5)
        await guide.send_voice(listen=True, speak=True)
        await member.send_voice(listen=True)
        await guide.wait_for(lambda cl: cl.voice_state)
        await asyncio.sleep(0.7)
        assert guide.id not in peers(member)
        await guide.send({"type": "tour", "action": "start", "tour": "travelling-objects"})
        await member.wait_for(lambda cl: any(m["type"] == "tour_available" for m in cl.messages))
        await member.send({"type": "tour", "action": "join", "tour": "travelling-objects"})
        await member.wait_for(lambda cl: guide.id in cl.voice_peers, timeout=3)
        await member.send({"type": "tour", "action": "leave", "tour": "travelling-objects"})
        await member.wait_for(lambda cl: guide.id not in cl.voice_peers, timeout=3)
    finally:
        await guide.close()
        await member.close()


async def test_only_a_curator_may_announce_to_the_room(server):
    async with await join(server, "Eve") as eve:
        await eve.send_voice(listen=True, speak=True, announce=True)
        refused = await eve.wait_for(lambda cl: errors(cl, "forbidden"))
        assert refused[0]["field"] == "announce"
    _, token = await server.app[DB].add_user("Curator Femi", "curator")
    curator = await ThirdSpaceClient.connect(server.ws, SCENE, "Femi", token=token)
    far = await join(server, "Far", room=curator.room)
    try:
        await place(server, curator, 0, 20)
        await place(server, far, -30, 20)
        await far.send_voice(listen=True)
        await curator.send_voice(listen=True, speak=True, announce=True)
        await far.wait_for(lambda cl: curator.id in cl.voice_peers, timeout=3)
        await curator.send_voice(listen=True, speak=True, announce=False)
        await far.wait_for(lambda cl: curator.id not in cl.voice_peers, timeout=3)
    finally:
        await curator.close()
        await far.close()
