"""The server's Janus client against a real Janus (Debian's janus, started by the ``janus`` fixture):
rooms come and go, only admitted tokens get in, and moderation kicks a publisher."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.janus_server import Janus, JanusVisitor, start_janus
from thirdspace.services.janus import JanusError, JanusRooms


@pytest.fixture
async def rooms(janus: Janus) -> AsyncIterator[JanusRooms]:
    client = JanusRooms(janus.url, janus.admin_url, janus.admin_secret)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=40)) as session:
        yield session


def room_number() -> int:
    return 1 + secrets.randbelow(2**40)


async def exists(rooms: JanusRooms, room: int) -> bool:
    return bool((await rooms._room_request({"request": "exists", "room": room}))["exists"])


async def join(visitor: JanusVisitor, room: int, feed: int) -> dict:
    """Join ``room`` as a publisher (no media yet), as the page does when its microphone turns on."""
    handle = await visitor.attach()
    body = {"request": "join", "ptype": "publisher", "room": room, "id": feed, "token": visitor.token}
    return await visitor.message(handle, body)


async def test_rooms_are_created_and_destroyed(rooms: JanusRooms):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    assert await exists(rooms, room)
    listed = await rooms._room_request({"request": "list"})
    assert room not in [entry["room"] for entry in listed["list"]]  # private: not listed to anyone
    await rooms.destroy_room(room)
    assert not await exists(rooms, room)
    await rooms.destroy_room(room)  # destroying it again is no error


async def test_room_is_audio_only_opus_for_many_publishers(rooms: JanusRooms):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    listed = await rooms._room_request({"request": "list", "admin_key": rooms.admin_secret})
    (entry,) = [entry for entry in listed["list"] if entry["room"] == room]
    assert entry["audiocodec"] == "opus"
    assert entry["max_publishers"] == 1000
    await rooms.destroy_room(room)


async def test_an_admitted_token_joins_as_publisher(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    visitor = JanusVisitor(http, janus.url, token)
    assert (await visitor.create())["janus"] == "success"
    answer = await join(visitor, room, feed=4242)
    assert answer["videoroom"] == "joined"
    assert answer["id"] == 4242
    assert [p["id"] for p in await rooms.participants(room)] == [4242]
    await rooms.destroy_room(room)


async def test_an_unadmitted_token_gets_nothing(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    visitor = JanusVisitor(http, janus.url, secrets.token_urlsafe(16))
    answer = await visitor.create()
    assert answer["janus"] == "error"
    assert answer["error"]["code"] == 403
    await rooms.destroy_room(room)


async def test_a_token_admitted_elsewhere_cannot_publish_here(rooms: JanusRooms, janus: Janus, http):
    room, other = room_number(), room_number()
    await rooms.create_room(room, "Gallery")
    await rooms.create_room(other, "Atrium")
    token = secrets.token_urlsafe(16)
    await rooms.admit(other, token)
    visitor = JanusVisitor(http, janus.url, token)
    assert (await visitor.create())["janus"] == "success"
    answer = await join(visitor, room, feed=7)
    assert answer["error_code"] == 433  # unauthorized: not on this room's allowed list
    assert answer["videoroom"] == "event"
    await rooms.destroy_room(room)
    await rooms.destroy_room(other)


async def test_a_revoked_token_is_refused(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    await rooms.revoke(room, token)
    visitor = JanusVisitor(http, janus.url, token)
    answer = await visitor.create()
    assert answer["janus"] == "error"
    assert answer["error"]["code"] == 403
    await rooms.destroy_room(room)


async def test_revoking_locks_out_an_open_session(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    visitor = JanusVisitor(http, janus.url, token)
    await visitor.create()
    handle = await visitor.attach()
    await rooms.revoke(room, token)
    answer = await visitor.post(f"/{visitor.session}/{handle}", {"janus": "message", "body": {"request": "list"}})
    assert answer["janus"] == "error"
    assert answer["error"]["code"] == 403
    await rooms.destroy_room(room)


async def test_unpublish_kicks_the_publisher(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    visitor = JanusVisitor(http, janus.url, token)
    await visitor.create()
    handle = await visitor.attach()
    joined = await visitor.message(handle, {"request": "join", "ptype": "publisher", "room": room, "id": 99, "token": token})
    assert joined["videoroom"] == "joined"
    await rooms.unpublish(room, 99, token=token)
    assert await visitor.event(handle) == {"videoroom": "event", "room": room, "leaving": "ok", "reason": "kicked"}
    assert await rooms.participants(room) == []
    # Off the room's list: joining again (on a new handle, as the page would) is refused,
    # while Janus itself still takes the token, to listen.
    again = await join(visitor, room, feed=99)
    assert again["error_code"] == 433
    await rooms.unpublish(room, 12345)  # a feed that is not there: nothing to do
    await rooms.admit(room, token)  # unmuted: may publish again
    assert (await join(visitor, room, feed=99))["videoroom"] == "joined"
    await rooms.destroy_room(room)


async def test_destroying_a_room_removes_its_tokens(rooms: JanusRooms, janus: Janus, http):
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    await rooms.destroy_room(room)
    answer = await JanusVisitor(http, janus.url, token).create()
    assert answer["error"]["code"] == 403


async def test_a_room_left_behind_is_taken_over(janus: Janus, http):
    """A restarted server creates a room that its earlier run left in Janus: the old tokens do not get in."""
    room = room_number()
    first = JanusRooms(janus.url, janus.admin_url, janus.admin_secret)
    await first.start()
    await first.create_room(room, "Gallery")
    old = secrets.token_urlsafe(16)
    await first.admit(room, old)
    second = JanusRooms(janus.url, janus.admin_url, janus.admin_secret)
    await second.start()
    await second.create_room(room, "Gallery")
    visitor = JanusVisitor(http, janus.url, old)
    await visitor.create()
    assert (await join(visitor, room, feed=3))["error_code"] == 433
    await second.close()
    first.rooms.clear()  # its room is gone already
    await first.close()


async def test_errors_are_janus_errors(rooms: JanusRooms):
    with pytest.raises(JanusError):
        await rooms.admit(room_number(), "never-created")
    unreachable = JanusRooms("http://127.0.0.1:9/janus", "http://127.0.0.1:9/admin", "x", timeout_s=1)
    with pytest.raises(JanusError):
        await unreachable.start()
    await unreachable.close()
    wrong_secret = JanusRooms(rooms.url, rooms.admin_url, "not-the-secret")
    with pytest.raises(JanusError) as refused:
        await wrong_secret.start()
    assert refused.value.code == 403
    await wrong_secret.close()


async def test_a_restarted_janus_gets_its_rooms_back(tmp_path, http):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    janus = start_janus(tmp_path / "first")
    rooms = JanusRooms(janus.url, janus.admin_url, janus.admin_secret)
    await rooms.start()
    room = room_number()
    await rooms.create_room(room, "Gallery")
    token = secrets.token_urlsafe(16)
    await rooms.admit(room, token)
    janus.stop()
    janus = start_janus(tmp_path / "second", like=janus)
    try:
        assert await rooms.participants(room) == []  # reconnected, room recreated
        visitor = JanusVisitor(http, janus.url, token)
        assert (await visitor.create())["janus"] == "success"
        assert (await join(visitor, room, feed=5))["videoroom"] == "joined"
    finally:
        await rooms.close()
        janus.stop()


async def test_the_shipped_janus_configuration_takes_only_admitted_visitors(tmp_path, http):
    """docker/janus: its entrypoint fills the templates in; Janus starts with token auth, the admin API, the VideoRoom
    plugin's admin_key, the page's origin for CORS and the public address in its candidates."""
    import os
    import subprocess

    from tests.processes import free_port, wait_until
    from thirdspace.config import PROJECT_ROOT

    folder = PROJECT_ROOT / "docker" / "janus"
    port, admin_port = free_port(), free_port()
    env = os.environ | {
        "JANUS_ADMIN_SECRET": "shipped-secret",
        "JANUS_PUBLIC_IP": "127.0.0.1",
        "JANUS_ALLOW_ORIGIN": "https://space.example.org",
        "JANUS_HTTP_PORT": str(port),
        "JANUS_ADMIN_PORT": str(admin_port),
        "JANUS_RTP_PORTS": "21000-21099",
        "JANUS_TEMPLATES": str(folder),
        "TMPDIR": str(tmp_path),
    }
    log = tmp_path / "janus.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["sh", str(folder / "entrypoint.sh")], env=env, stdout=out, stderr=subprocess.STDOUT)
    url, admin_url = f"http://127.0.0.1:{port}/janus", f"http://127.0.0.1:{admin_port}/admin"
    janus = Janus(url, admin_url, "shipped-secret", (21000, 21099), tmp_path, process)
    try:
        wait_until(lambda: janus.info() is not None or process.poll() is not None, 20, "the shipped janus answering")
        info = janus.info()
        assert info is not None, log.read_text()
        assert list(info["plugins"]) == ["janus.plugin.videoroom"]
        assert list(info["transports"]) == ["janus.transport.http"]
        text = log.read_text()
        assert "Using nat_1_1_mapping for public IP: 127.0.0.1" in text
        assert "Restricting Access-Control-Allow-Origin to 'https://space.example.org'" in text
        # Without a token nothing opens; a visitor's own room creation is refused (no admin_key).
        assert (await JanusVisitor(http, url, "nobody").create())["error"]["code"] == 403
        rooms = JanusRooms(url, admin_url, "shipped-secret")
        await rooms.start()
        try:
            room = room_number()
            await rooms.create_room(room, "Gallery")
            token = secrets.token_urlsafe(16)
            await rooms.admit(room, token)
            visitor = JanusVisitor(http, url, token)
            assert (await visitor.create())["janus"] == "success"
            handle = await visitor.attach()
            refused = await visitor.message(handle, {"request": "create", "room": room_number()})
            assert refused["error"] == "Missing mandatory element (admin_key)", refused
            assert (await join(visitor, room, feed=8))["videoroom"] == "joined"
        finally:
            await rooms.close()
    finally:
        janus.stop()
