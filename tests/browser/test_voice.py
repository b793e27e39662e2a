"""Voice in the page, peer to peer, between real Chromium pages whose fake microphones beep: who hears whom (the
server's choice by distance, a tour's guide across the room), spatial balance, push to talk, a moderator's mute,
and the controls on a desktop, a phone and in a headset (IWER), in English and Arabic."""

from __future__ import annotations

import aiohttp

from tests.browser.test_phone_layout import TOUCH, layout_problems
from tests.browser.test_xr_menu import IMAGES, choose, enter_vr, headset, menu, open_with_button, wait_for_element
from tests.browser.voice_helpers import (
    HEARING_RADIUS_M,
    KEEP_M,
    LOUD,
    SCENE,
    SILENT,
    apart,
    balance,
    head,
    level,
    moderate,
    peers,
    stays_silent,
    turn_around,
    turn_voice_on,
    voice_server,
    voice_state,
    wait_hearing,
    wait_silent,
    walk,
)
from thirdspace.client import ThirdSpaceClient
from thirdspace.web.keys import DB


async def test_near_visitors_hear_a_speaker_at_their_side_and_far_ones_once_they_walk_up(visit, tmp_path):
    async with voice_server(tmp_path) as server:
        pages = []
        for name in ("Ana", "Bo", "Chidi"):
            v = await visit()
            me = await v.join(server.http, SCENE, name)
            pages.append((v, me))
        (a, me_a), (b, me_b), (c, me_c) = pages
        assert me_a["room"] == me_b["room"] == me_c["room"]
        assert [me_a["id"], me_b["id"], me_c["id"]] == [1, 2, 3]  # the hall's spawn points, in order
        # Everyone listens from the start, without a microphone; nobody speaks, so nobody is paired.
        for v, _ in pages:
            state = await voice_state(v.page)
            assert state["transport"] == "p2p" and state["listening"] and not state["on"]
            assert state["hearingRadius"] == HEARING_RADIUS_M
        await turn_voice_on(a.page)
        assert (await voice_state(a.page))["sending"]

        # B, 2 m from A, hears A; A stands on B's left (B faces -z, A is 2 m towards -x).
        heard = await wait_hearing(b.page, me_a["id"])
        assert heard > LOUD
        await b.page.wait_for_function(f"thirdspace.voice.balance({me_a['id']}) > 0.15", timeout=10000)
        await b.page.wait_for_function(f"thirdspace.voice.speaking({me_a['id']})")  # B's speaking ring for A
        assert await b.page.evaluate(f"thirdspace.voice.speaking({me_a['id']})")
        await b.page.wait_for_function(f"thirdspace.voice.ringShown({me_a['id']}) && thirdspace.voice.volume({me_a['id']}) === 1")
        # B mutes A for B only (from the list of voices), and unmutes.
        mute = b.page.locator(f"#voice-peers li[data-peer='{me_a['id']}'] button")
        assert (await mute.inner_text()).strip() == "Mute Ana"
        await mute.click()
        await b.page.wait_for_function(f"thirdspace.voice.volume({me_a['id']}) === 0 && !thirdspace.voice.ringShown({me_a['id']})")
        assert me_a["id"] in (await voice_state(b.page))["mutedHere"]
        await b.page.locator(f"#voice-peers li[data-peer='{me_a['id']}'] button", has_text="Unmute Ana").click()
        await b.page.wait_for_function(f"thirdspace.voice.volume({me_a['id']}) === 1")
        # B turns round: A is now on B's right.
        await turn_around(b.page)
        await b.page.wait_for_function(f"thirdspace.voice.balance({me_a['id']}) < -0.15", timeout=10000)
        assert await balance(b.page, me_a["id"]) < -0.15

        # C, 7 m from A (beyond the 4 m hearing radius), has no connection to A and hears nothing.
        assert apart(await head(c.page), await head(a.page)) > KEEP_M
        assert me_a["id"] not in await peers(c.page)
        assert await level(c.page, me_a["id"]) == 0
        assert me_a["id"] not in (await voice_state(c.page))["voices"]
        # C walks towards A (C faces A); once C is well within the radius, C hears A: within 2 s on a quiet
        # machine, and a busy CI machine is allowed 10 s.
        a_head = await head(a.page)
        await walk(c.page, f"Math.hypot(thirdspace.walker().head[0] - ({a_head[0]}), thirdspace.walker().head[2] - ({a_head[2]})) < 3.2")
        assert apart(await head(c.page), a_head) < HEARING_RADIUS_M
        await wait_hearing(c.page, me_a["id"], timeout=10000)
        for v, _ in pages:
            assert v.errors == []


async def test_push_to_talk_sends_nothing_while_the_key_is_up(visit, tmp_path):
    async with voice_server(tmp_path) as server:
        a = await visit()
        me_a = await a.join(server.http, SCENE, "Ana")
        b = await visit()
        await b.join(server.http, SCENE, "Bo")
        await turn_voice_on(a.page)
        await wait_hearing(b.page, me_a["id"])
        await a.page.select_option("#voice-mode", "ptt")
        await a.page.evaluate("document.activeElement.blur()")  # keys go to the page, not to the menu
        await a.page.locator("#voice-talk").wait_for(state="visible")
        assert not (await voice_state(a.page))["sending"]
        # Still connected, but silence: no energy reaches B while A's key is up.
        await wait_silent(b.page, me_a["id"])
        assert me_a["id"] in await peers(b.page)
        assert max(await stays_silent(b.page, me_a["id"])) < SILENT
        # V held down: A's voice reaches B; let go: silence again.
        await a.page.keyboard.down("KeyV")
        assert (await voice_state(a.page))["sending"]
        await wait_hearing(b.page, me_a["id"])
        await a.page.keyboard.up("KeyV")
        await wait_silent(b.page, me_a["id"])
        assert max(await stays_silent(b.page, me_a["id"], samples=4)) < SILENT
        # The hold-to-talk button does the same with a mouse or a finger.
        await a.page.locator("#voice-talk").hover()
        await a.page.mouse.down()
        await wait_hearing(b.page, me_a["id"])
        await a.page.mouse.up()
        await wait_silent(b.page, me_a["id"])
        assert a.errors == [] and b.errors == []


async def test_a_curators_room_mute_stops_a_voice_and_its_pairings(visit, tmp_path):
    async with voice_server(tmp_path) as server:
        _, token = await server.app[DB].add_user("Curator Ines", "curator")
        a = await visit()
        me_a = await a.join(server.http, SCENE, "Ana")
        b = await visit()
        await b.join(server.http, SCENE, "Bo")
        await turn_voice_on(a.page)
        await wait_hearing(b.page, me_a["id"])
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            await moderate(http, server, me_a["room"], "mute", {"visitor": me_a["id"], "muted": True, "only": "voice"})
            # A sees why, and the microphone button is off; B no longer hears A, and is not paired with A again.
            await a.page.wait_for_function("thirdspace.voice.state.roomMuted", timeout=10000)
            assert "moderator muted your microphone" in await a.page.inner_text("#voice-note")
            assert await a.page.locator("#voice-toggle").is_disabled()
            assert not (await voice_state(a.page))["sending"]
            await b.page.wait_for_function(f"!thirdspace.voice.peers().includes({me_a['id']})", timeout=10000)
            await wait_silent(b.page, me_a["id"])
            for _ in range(6):  # several selection rounds (2 a second): still no pair with A
                await b.page.wait_for_timeout(300)
                assert me_a["id"] not in await peers(b.page)
            # Unmuted: A is heard again.
            await moderate(http, server, me_a["room"], "mute", {"visitor": me_a["id"], "muted": False, "only": "voice"})
            await a.page.wait_for_function("!thirdspace.voice.state.roomMuted", timeout=10000)
            await wait_hearing(b.page, me_a["id"])
            assert a.errors == []
            # Kicked: A's page closes every voice connection and stops the microphone; B's connection to A goes.
            await moderate(http, server, me_a["room"], "kick", {"visitor": me_a["id"], "minutes": 1})
            await a.page.wait_for_function("thirdspace.status === 'closed'", timeout=10000)
            state = await voice_state(a.page)
            assert not state["on"] and not state["listening"] and state["voices"] == []
            assert await peers(a.page) == []
            await b.page.wait_for_function(f"!thirdspace.voice.peers().includes({me_a['id']})", timeout=10000)
            assert await level(b.page, me_a["id"]) == 0
        assert b.errors == []


async def test_a_guides_voice_reaches_a_tour_member_across_the_room(visit, tmp_path):
    async with voice_server(tmp_path) as server:
        _, token = await server.app[DB].add_user("Guide Nadia", "guide")
        guide = await visit()
        assert (await guide.page.request.post(f"{server.http}/api/session", data={"token": token})).ok
        me_guide = await guide.join(server.http, SCENE, "Nadia")
        # The second spawn point is taken by a visitor without a browser; the member stands at the third, 7 m away.
        async with await ThirdSpaceClient.connect(server.ws, SCENE, "Ama") as ama:
            assert ama.room == me_guide["room"]
            member = await visit()
            me_member = await member.join(server.http, SCENE, "Tomás", "es")
            assert apart(await head(member.page), await head(guide.page)) > KEEP_M
            await guide.page.click("#tour button.quiet >> nth=0")  # lead as guide
            await guide.page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.leading")
            await member.page.locator("#tour button", has_text="Nadia").click()
            await member.page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.guided")
            await turn_voice_on(guide.page)
            await wait_hearing(member.page, me_guide["id"])
            assert apart(await head(member.page), await head(guide.page)) > KEEP_M  # still across the room
        assert guide.errors == [] and member.errors == []
        assert me_member["id"] != me_guide["id"]


async def controls_shown(page, language: str) -> None:
    """The voice controls are in view, inside the chat panel, in the visitor's words."""
    words = {"en": ("Turn my voice on", "Turn my voice off"), "ar": ("شغّل صوتي", "أوقف صوتي")}[language]
    toggle = page.locator("#voice-toggle")
    await toggle.wait_for(state="visible")
    assert (await toggle.inner_text()).strip() == words[0]
    await toggle.click()
    await page.wait_for_function("thirdspace.voice.state.on", timeout=10000)
    assert (await toggle.inner_text()).strip() == words[1]
    await page.select_option("#voice-mode", "ptt")
    await page.locator("#voice-talk").wait_for(state="visible")
    assert await page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    box = await page.locator("#voice").bounding_box()
    chat = await page.locator("#chat").bounding_box()
    viewport = page.viewport_size
    assert box and chat and viewport
    assert chat["x"] - 0.5 <= box["x"] and box["x"] + box["width"] <= chat["x"] + chat["width"] + 0.5
    assert box["y"] + box["height"] <= viewport["height"] and box["x"] >= 0


async def test_the_voice_controls_show_on_a_desktop_and_a_phone_in_english_and_arabic(server, visit):
    IMAGES.mkdir(exist_ok=True)
    desktop = await visit()
    await desktop.join(server.http, "gallery", "Desk")
    await controls_shown(desktop.page, "en")
    await desktop.page.screenshot(path=str(IMAGES / "voice-desktop.png"))
    phone = await visit(**TOUCH)
    await phone.join(server.http, "gallery", "هاتف", "ar")
    await controls_shown(phone.page, "ar")
    # Held upright or on its side, nothing covers the voice controls, and nothing leaves the screen.
    assert await layout_problems(phone.page, "scene") == []
    await phone.page.set_viewport_size({"width": 390, "height": 844})
    await phone.page.wait_for_timeout(300)
    await phone.page.screenshot(path=str(IMAGES / "voice-phone-ar.png"))
    talk = phone.page.locator("#voice-talk")
    assert (await talk.inner_text()).strip() == "اضغط مطولًا لتتكلم"
    await talk.dispatch_event("pointerdown")
    assert (await voice_state(phone.page))["sending"]
    await talk.dispatch_event("pointerup")
    assert not (await voice_state(phone.page))["sending"]
    assert desktop.errors == [] and phone.errors == []


async def test_in_a_headset_the_menu_has_voice_with_the_grip_to_talk(server, visit):
    v = await visit(init_scripts=headset())
    page = v.page
    await v.join(server.http, "gallery", "Headset")
    await enter_vr(page)
    await open_with_button(page)
    await choose(page, "tab:voice")
    await page.wait_for_function("thirdspace.xrMenu().tab === 'voice'")
    await choose(page, "voice:toggle")
    await page.wait_for_function("thirdspace.voice.state.on", timeout=10000)
    await wait_for_element(page, "voice:mode:ptt")
    labels = {label["id"]: label["text"] for label in (await menu(page))["labels"]}
    assert labels["voice:toggle"] == "Turn my voice off" and labels["voice:self"].startswith(("You", "● You"))
    await choose(page, "voice:mode:ptt")
    await page.wait_for_function("thirdspace.voice.state.mode === 'ptt' && !thirdspace.voice.state.sending")
    # The grip held: the voice goes out; let go: silence.
    await page.evaluate("__xrDevice.controllers.left.updateButtonValue('squeeze', 1)")
    await page.wait_for_function("thirdspace.voice.state.sending")
    await page.evaluate("__xrDevice.controllers.left.updateButtonValue('squeeze', 0)")
    await page.wait_for_function("!thirdspace.voice.state.sending")
    await page.screenshot(path=str(IMAGES / "voice-xr.png"))
    # In Arabic, the voice tab's words are Arabic and right to left.
    await choose(page, "tab:more")
    await choose(page, "language:ar")
    await choose(page, "tab:voice")
    await wait_for_element(page, "voice:toggle")
    state = await menu(page)
    toggle = next(label for label in state["labels"] if label["id"] == "voice:toggle")
    assert toggle["text"] == "أوقف صوتي" and toggle["direction"] == "rtl"
    await page.screenshot(path=str(IMAGES / "voice-xr-ar.png"))
    assert v.errors == []
