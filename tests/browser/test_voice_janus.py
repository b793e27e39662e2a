"""Voice through a real Janus (Debian's janus, VideoRoom, token authentication) between real Chromium pages whose
fake microphones beep: the server creates the room in Janus and admits each visitor's token; A publishes to Janus;
B near A subscribes to A's feed and hears it; C far away has no subscription until C walks up; a moderator's mute
takes A's feed off Janus."""

from __future__ import annotations

import aiohttp

from tests.browser.voice_helpers import (
    HEARING_RADIUS_M,
    KEEP_M,
    SCENE,
    apart,
    head,
    level,
    moderate,
    peers,
    turn_voice_on,
    voice_server,
    voice_state,
    wait_hearing,
    wait_silent,
    walk,
)
from tests.janus_server import Janus
from thirdspace.web.keys import DB

# Small views: three pages draw their WebGL on the CPU (SwiftShader) in one shared GPU process, and what is
# tested here is their sound; a smaller canvas leaves their main threads free for the WebRTC steps.
SMALL = {"viewport": {"width": 640, "height": 400}}


def janus_settings(janus: Janus) -> dict[str, str]:
    return {
        "THIRDSPACE_VOICE": "janus",
        "THIRDSPACE_JANUS_URL": janus.url,
        "THIRDSPACE_JANUS_ADMIN_URL": janus.admin_url,
        "THIRDSPACE_JANUS_ADMIN_SECRET": janus.admin_secret,
    }


async def publishers(server) -> list[int]:
    """The feeds publishing in the room's Janus room, as Janus itself lists them."""
    voice = server.rooms.voice
    (number,) = voice.janus_rooms.values()
    return [p["id"] for p in await voice.janus.participants(number) if p.get("publisher")]


async def test_janus_carries_a_voice_to_the_near_and_not_the_far_until_they_walk_up(visit, janus, tmp_path):
    async with voice_server(tmp_path, janus_settings(janus)) as server:
        pages = []
        for name in ("Ana", "Bo", "Chidi"):
            v = await visit(**SMALL)
            me = await v.join(server.http, SCENE, name)
            pages.append((v, me))
        (a, me_a), (b, me_b), (c, me_c) = pages
        assert me_a["room"] == me_b["room"] == me_c["room"]
        for v, _ in pages:
            await v.page.wait_for_function("thirdspace.voice.state.listening")
            assert (await voice_state(v.page))["transport"] == "janus"
        await turn_voice_on(a.page)
        assert (await voice_state(a.page))["sending"]

        # B, 2 m from A, hears A through Janus: A's feed publishes there, B subscribes to it.
        await wait_hearing(b.page, me_a["id"])
        assert len(await publishers(server)) == 1
        # C, 7 m from A (beyond the 4 m hearing radius), has no subscription to A and hears nothing.
        assert apart(await head(c.page), await head(a.page)) > KEEP_M
        assert me_a["id"] not in await peers(c.page)
        assert await level(c.page, me_a["id"]) == 0
        # C walks towards A; once well within the radius, C hears A (on a quiet machine within 2 s; a busy CI machine is allowed 10 s).
        a_head = await head(a.page)
        await walk(c.page, f"Math.hypot(thirdspace.walker().head[0] - ({a_head[0]}), thirdspace.walker().head[2] - ({a_head[2]})) < 3.2")
        assert apart(await head(c.page), a_head) < HEARING_RADIUS_M
        await wait_hearing(c.page, me_a["id"], timeout=10000)
        for v, _ in pages:
            assert v.errors == []


async def test_a_moderators_mute_takes_the_feed_off_janus(visit, janus, tmp_path):
    async with voice_server(tmp_path, janus_settings(janus)) as server:
        _, token = await server.app[DB].add_user("Curator Ines", "curator")
        a = await visit(**SMALL)
        me_a = await a.join(server.http, SCENE, "Ana")
        b = await visit(**SMALL)
        await b.join(server.http, SCENE, "Bo")
        await turn_voice_on(a.page)
        await wait_hearing(b.page, me_a["id"])
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            await moderate(http, server, me_a["room"], "mute", {"visitor": me_a["id"], "muted": True, "only": "voice"})
            await a.page.wait_for_function("thirdspace.voice.state.roomMuted", timeout=10000)
            await b.page.wait_for_function(f"!thirdspace.voice.peers().includes({me_a['id']})", timeout=10000)
            await wait_silent(b.page, me_a["id"])
            assert await publishers(server) == []  # kicked out of the Janus room
            # Unmuted: A publishes again and B hears A.
            await moderate(http, server, me_a["room"], "mute", {"visitor": me_a["id"], "muted": False, "only": "voice"})
            await a.page.wait_for_function("!thirdspace.voice.state.roomMuted", timeout=10000)
            await wait_hearing(b.page, me_a["id"])
            assert len(await publishers(server)) == 1
        assert a.errors == [] and b.errors == []
