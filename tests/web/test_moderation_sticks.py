"""Moderation that sticks to the person (docs/curating.md, "Moderating a room"): a mute or a kick follows the
account, the browser's identity cookie and (for anonymous visitors) the address, in every room of the scene,
across rooms that close and open again under the same id, until the window the moderator chose ends."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import orjson
import pytest
import websockets

from tests.conftest import RunningServer, start_server
from tests.curate.conftest import add_users, fresh_data_dir
from thirdspace.client import JoinError, ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.protocol.constants import CLOSE_KICKED, PROTOCOL_VERSION

BROWSER_COOKIE = "thirdspace_browser"
_names = itertools.count(1)


@dataclass
class Moderated:
    server: RunningServer
    tokens: dict[str, str]
    http: aiohttp.ClientSession

    async def admin(self, room: str, action: str, body: dict) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens['curator']}"}
        async with self.http.post(f"{self.server.http}/api/admin/rooms/{room}/{action}", json=body, headers=headers) as reply:
            assert reply.status == 200, await reply.text()
            return await reply.json()

    async def scene(self) -> str:
        """A published copy of the gallery of this test's own: bans on it touch no other test."""
        scene = f"sticks-{next(_names)}"
        headers = {"Authorization": f"Bearer {self.tokens['curator']}"}
        base = f"{self.server.http}/api/curate/scenes"
        async with self.http.post(base, json={"copy_from": "gallery", "id": scene}, headers=headers) as reply:
            assert reply.status == 201, await reply.text()
            etag = reply.headers["ETag"]
        async with self.http.post(f"{base}/{scene}/publish", headers={**headers, "If-Match": etag}) as reply:
            assert reply.status == 200, await reply.text()
        return scene

    async def browser_cookie(self) -> str:
        """What a browser keeps from its first visit to the page: its identity cookie ("name=value"; a browser
        sends back whatever it holds, so one the server did not hand out stands for a browser it cannot tell apart)."""
        async with aiohttp.ClientSession() as fresh, fresh.get(self.server.http + "/") as reply:
            morsel = reply.cookies.get(BROWSER_COOKIE)
        return f"{BROWSER_COOKIE}={morsel.value if morsel is not None else f'unsigned-{next(_names)}'}"


@pytest.fixture(scope="module")
async def moderated(server, scenes_dir, tmp_path_factory) -> AsyncIterator[Moderated]:
    data = fresh_data_dir(server, tmp_path_factory.mktemp("moderated"))
    tokens = add_users(data / "thirdspace.sqlite3")
    runner, running = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data))
    async with aiohttp.ClientSession() as http:
        yield Moderated(running, tokens, http)
    await runner.cleanup()


async def join(
    moderated: Moderated, scene: str, name: str, cookie: str | None = None, token: str | None = None, **hello
) -> ThirdSpaceClient:
    """A visitor joining as a browser would: with its identity cookie (and a token when signed in)."""
    headers = {"Cookie": cookie} if cookie else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    message = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene, "name": name, "language": "en", "colour": "#4a90d9"}
    ws, welcome = await ThirdSpaceClient._handshake(moderated.server.ws, message | hello, headers or None, 10.0)
    return ThirdSpaceClient(ws, welcome)


async def refused(moderated: Moderated, scene: str, cookie: str | None = None, token: str | None = None, **hello) -> dict:
    with pytest.raises(JoinError) as error:
        client = await join(moderated, scene, "Back again", cookie, token, **hello)
        await client.close()
    return error.value.message


async def kicked(client: ThirdSpaceClient) -> None:
    await client.wait_for(lambda c: c.closed)
    assert client.close_code == CLOSE_KICKED


async def test_the_page_and_the_websocket_hand_a_browser_its_identity_cookie_once(moderated: Moderated):
    async with aiohttp.ClientSession() as fresh, fresh.get(moderated.server.http + "/") as reply:
        morsel = reply.cookies.get(BROWSER_COOKIE)
    assert morsel is not None and morsel["httponly"] and morsel["samesite"] == "Lax" and not morsel["secure"]
    async with aiohttp.ClientSession() as again:
        async with again.get(moderated.server.http + "/", headers={"Cookie": f"{BROWSER_COOKIE}={morsel.value}"}) as reply:
            assert BROWSER_COOKIE not in reply.cookies  # it has one already
        async with again.get(moderated.server.http + "/", headers={"Cookie": f"{BROWSER_COOKIE}=made.up"}) as reply:
            assert reply.cookies[BROWSER_COOKIE].value != "made.up"  # not signed here: a new one
    async with websockets.connect(moderated.server.ws) as ws:
        assert ws.response.headers.get("Set-Cookie", "").startswith(f"{BROWSER_COOKIE}=")


async def test_a_muted_visitor_who_leaves_and_rejoins_is_still_muted(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    loud = await join(moderated, scene, "Loud", cookie)
    listener = await join(moderated, scene, "Listener")
    try:
        assert (await moderated.admin(loud.room, "mute", {"visitor": loud.id}))["muted"] is True  # for mute_minutes
        await loud.send_chat("can anyone hear me?")
        assert (await loud.wait_for(lambda c: c.errors))[-1]["code"] == "muted"
        await loud.close()

        back = await join(moderated, scene, "Loud again", cookie)  # the same browser: the mute is still on
        try:
            await back.send_chat("I am back")
            error = await back.wait_for(lambda c: c.errors)
            assert error[-1]["code"] == "muted"
            await listener.send_chat("listener here")
            await listener.wait_for(lambda c: any(m["text"] == "listener here" for m in c.chat))
            assert not any(m["text"] == "I am back" for m in listener.chat)
            notice = next(m for m in back.messages if m.get("type") == "muted")  # and is told so on arrival
            assert notice["chat"] is True and notice["voice"] is True and notice["until"] > 0

            await moderated.admin(back.room, "mute", {"visitor": back.id, "muted": False})  # lifted for the person
        finally:
            await back.close()
        again = await join(moderated, scene, "Loud, forgiven", cookie)
        async with again:
            await again.send_chat("thank you")
            await listener.wait_for(lambda c: any(m["text"] == "thank you" for m in c.chat))
    finally:
        await loud.close()
        await listener.close()


async def test_a_kicked_signed_in_visitor_cannot_come_back_without_their_token_from_the_same_browser(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    signed_in = await join(moderated, scene, "Signed in", cookie, token=moderated.tokens["visitor"])
    witness = await join(moderated, scene, "Witness")  # keeps the room open
    try:
        await moderated.admin(signed_in.room, "kick", {"visitor": signed_in.id, "minutes": 5})
        await kicked(signed_in)
        assert (await refused(moderated, scene, cookie))["code"] == "kicked"  # anonymous now, the same browser
        assert (await refused(moderated, scene, token=moderated.tokens["visitor"]))["code"] == "kicked"  # another browser
        assert (await refused(moderated, scene, cookie, room=witness.room))["code"] == "kicked"  # asking for a room
        other = await join(moderated, scene, "Someone else", await moderated.browser_cookie())  # others still come in
        await other.close()
    finally:
        await signed_in.close()
        await witness.close()


async def test_a_kicked_anonymous_visitor_is_known_by_browser_and_by_address(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    rude = await join(moderated, scene, "Rude", cookie)
    try:
        await moderated.admin(rude.room, "kick", {"visitor": rude.id, "minutes": 5})
        await kicked(rude)
        assert (await refused(moderated, scene, cookie))["code"] == "kicked"
        # Cookies cleared: the address stands in, and the cookie that connection is handed is banned with it.
        hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene, "name": "New me", "language": "en", "colour": "#123456"}
        async with websockets.connect(moderated.server.ws) as ws:
            issued = ws.response.headers.get("Set-Cookie", "")
            await ws.send(orjson.dumps(hello).decode())
            reply = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply["type"] == "error" and reply["code"] == "kicked"
        assert issued.startswith(f"{BROWSER_COOKIE}=")
        assert (await refused(moderated, scene, issued.split(";")[0]))["code"] == "kicked"
    finally:
        await rude.close()


async def test_a_kick_holds_when_the_room_closes_and_opens_again_under_the_same_id(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    alone = await join(moderated, scene, "Alone", cookie)
    room = alone.room
    try:
        await moderated.admin(room, "kick", {"visitor": alone.id, "minutes": 5})
        await kicked(alone)
        for _ in range(100):  # the room closes once its only visitor is gone
            if moderated.server.rooms.runner(room) is None:
                break
            await asyncio.sleep(0.05)
        assert moderated.server.rooms.runner(room) is None
        assert (await refused(moderated, scene, cookie, room=room))["code"] == "kicked"
        assert (await refused(moderated, scene, cookie))["code"] == "kicked"
        newcomer = await join(moderated, scene, "Newcomer", await moderated.browser_cookie(), room=room)
        async with newcomer:
            assert newcomer.room == room  # the id is open again, for everyone else
            assert (await refused(moderated, scene, cookie, room=room))["code"] == "kicked"
    finally:
        await alone.close()


async def test_a_kick_and_a_mute_end_when_their_window_does(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    visitor = await join(moderated, scene, "Briefly", cookie)
    witness = await join(moderated, scene, "Witness")
    try:
        await moderated.admin(visitor.room, "mute", {"visitor": visitor.id, "minutes": 0.02})  # 1.2 s
        await visitor.send_chat("muted?")
        assert (await visitor.wait_for(lambda c: c.errors))[-1]["code"] == "muted"
        await visitor.wait_for(lambda c: [m for m in c.messages if m.get("type") == "muted" and not m["chat"]], timeout=5)
        await visitor.send_chat("not any more")
        await witness.wait_for(lambda c: any(m["text"] == "not any more" for m in c.chat))

        await moderated.admin(visitor.room, "kick", {"visitor": visitor.id, "minutes": 0.02})
        await kicked(visitor)
        assert (await refused(moderated, scene, cookie))["code"] == "kicked"
        await asyncio.sleep(1.5)
        back = await join(moderated, scene, "Back", cookie)
        async with back:
            await back.send_chat("hello again")
            await witness.wait_for(lambda c: any(m["text"] == "hello again" for m in c.chat))
    finally:
        await visitor.close()
        await witness.close()


async def test_a_visitor_kicked_while_away_cannot_take_their_place_back_with_the_resume_token(moderated: Moderated):
    scene = await moderated.scene()
    cookie = await moderated.browser_cookie()
    visitor = await join(moderated, scene, "Resumer", cookie)
    witness = await join(moderated, scene, "Witness")
    try:
        token, room, old_id = visitor.welcome["resume"], visitor.room, visitor.id
        runner = moderated.server.rooms.runner(room)
        visitor.ws.transport.abort()  # the network went away: the server keeps the place for the resume window
        for _ in range(100):
            if old_id not in runner.sessions:
                break
            await asyncio.sleep(0.05)
        assert old_id not in runner.sessions and old_id in runner.room.visitors
        await moderated.admin(room, "kick", {"visitor": old_id, "minutes": 5})
        assert (await refused(moderated, scene, cookie, room=room, resume=token))["code"] == "kicked"
        assert old_id not in runner.room.visitors  # the place is gone: the token resumes nothing
        elsewhere = await join(moderated, scene, "Other browser", await moderated.browser_cookie(), room=room, resume=token)
        async with elsewhere:
            assert not elsewhere.welcome.get("resumed") and elsewhere.id != old_id
    finally:
        await visitor.close()
        await witness.close()
