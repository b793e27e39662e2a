"""Avatars in real headless Chromium against a real server: the style picked in the lobby is the one the others
see, name tags of any length stay readable (truncated, the whole name on focus), and a headset visitor's hands
follow its controllers and tracked hands (IWER). The screenshots in docs/visiting.md are taken here."""

from __future__ import annotations

import asyncio
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from tests.conftest import NODE_MODULES, PROJECT_ROOT
from thirdspace.client import ThirdSpaceClient
from thirdspace.protocol.constants import AVATAR_STYLES, DEFAULT_AVATAR, MAX_NAME_CHARS

IWER = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
IMAGES = PROJECT_ROOT / "docs" / "images"
AVATAR = "thirdspace.avatars().find(a => a.id === {id})"
LANGUAGES = ["en", "fr", "es", "ar", "zh", "hi", "sw", "ja", "de", "pt"]
LONG_NAME = "Maria Fernanda dos Santos Oliveira Cruz de Albuquerque e Menezes"  # 64 characters
ARABIC_NAME = "عبد الرحمن بن محمد بن عبد الله الهاشمي القرشي"


def facing(yaw: float) -> tuple[float, float, float, float]:
    """The rotation (x, y, z, w) turning a head that looks down -z by `yaw` radians about +y."""
    return (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))


def yaw_of(q: np.ndarray) -> float:
    x, y, z, w = (float(v) for v in q)
    return math.atan2(2 * (w * y + x * z), 1 - 2 * (y * y + x * x))


async def viewer_pose(client: ThirdSpaceClient, viewer: int) -> tuple[np.ndarray, float]:
    """Where a page's visitor stands (head) and which way it faces, as the room has it."""
    parts = await client.wait_for(lambda c: viewer in c.poses and c.poses[viewer].copy())
    return parts[0, :3], yaw_of(parts[0, 3:])


def ahead(head: np.ndarray, yaw: float, forward: float, right: float) -> tuple[float, float, float]:
    """A head position `forward` metres ahead of `head` and `right` metres to its right, at 1.6 m."""
    f = np.array([-math.sin(yaw), 0.0, -math.cos(yaw)])
    r = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
    p = head + forward * f + right * r
    return (float(p[0]), 1.6, float(p[2]))


async def test_the_picker_is_labelled_in_every_language_and_the_chosen_style_is_what_the_others_see(server, visit):
    v = await visit()
    page = v.page
    await page.goto(f"{server.http}/?scene=gallery")
    await page.wait_for_selector("#lobby:not([hidden])")
    radios = page.locator("#avatar-styles input[type=radio]")
    assert await radios.evaluate_all("rs => rs.map(r => r.value)") == list(AVATAR_STYLES)  # the server's list, in order
    assert await page.locator("#avatar-styles input:checked").get_attribute("value") == DEFAULT_AVATAR

    english = None
    for language in LANGUAGES:
        await page.select_option("#language", language)
        words = await page.evaluate(
            """() => ({legend: document.querySelector('#avatar-picker legend').textContent,
                       about: document.querySelector('#avatar-about').textContent,
                       labels: [...document.querySelectorAll('#avatar-styles label')].map(l => l.textContent.trim()),
                       named: [...document.querySelectorAll('#avatar-styles input')].every(i => i.labels[0].textContent.trim())})"""
        )
        assert words["legend"] and words["about"] and words["named"], (language, words)
        assert len(set(words["labels"])) == len(AVATAR_STYLES), (language, words)  # each style its own name
        assert all("_" not in text for text in [words["legend"], words["about"], *words["labels"]]), (language, words)
        if language == "en":
            english = words
        else:
            assert words["legend"] != english["legend"] and words["about"] != english["about"], language
    await page.select_option("#language", "en")

    # By keyboard: into the group, then the arrow keys move the choice (a radio group's own behaviour).
    await page.locator("#avatar-styles input:checked").focus()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    chosen = AVATAR_STYLES[2]
    assert await page.locator("#avatar-styles input:checked").get_attribute("value") == chosen
    about = await page.text_content("#avatar-about")
    assert about and chosen.lower() in about.lower()  # "A Japanese kimono ..."
    await page.fill("#name", "Keiko")
    await page.click("#join")
    await page.wait_for_function("window.thirdspace.status === 'ready'")
    keiko = await page.evaluate("thirdspace.visitorId")

    other = await visit()
    await other.join(server.http, "gallery", "Ama")
    seen = await other.page.wait_for_function(f"(() => {{ const a = {AVATAR.format(id=keiko)}; return a && a.visible && a; }})()")
    seen = await seen.json_value()
    assert seen["style"] == chosen and seen["name"] == "Keiko"
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Py") as py:
        assert py.visitors[keiko]["avatar"] == chosen  # what the hello carried, as the room has it
    assert v.errors == [] and other.errors == []


@pytest.mark.parametrize("language", ["en", "de", "ar"])
async def test_the_picker_fits_a_phone_without_overflowing(server, visit, language):
    v = await visit(viewport={"width": 360, "height": 640}, has_touch=True, is_mobile=True)
    page = v.page
    await page.goto(f"{server.http}/?scene=gallery&lang={language}")
    await page.wait_for_selector("#lobby:not([hidden])")
    boxes = await page.evaluate(
        """() => [...document.querySelectorAll('#avatar-picker, #avatar-picker label, #avatar-preview, #avatar-about')]
                 .map(e => { const r = e.getBoundingClientRect();
                             return {id: e.id || e.textContent.trim(), l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    for box in boxes:
        assert box["l"] >= 0 and box["r"] <= 360, (language, box)
    labels = [b for b in boxes[1:] if b["id"] not in ("avatar-preview", "avatar-about")]
    for i, a in enumerate(labels):  # no style's button covers another
        for b in labels[i + 1 :]:
            assert a["r"] <= b["l"] or b["r"] <= a["l"] or a["b"] <= b["t"] or b["b"] <= a["t"], (language, a, b)
    for label in labels:
        assert label["b"] - label["t"] >= 36, label  # big enough to tap
    if language == "en":
        await page.locator("#lobby").screenshot(path=str(IMAGES / "avatar-picker.png"))
    assert v.errors == []


async def test_long_names_are_truncated_in_the_tag_and_shown_whole_on_focus(server, visit):
    assert len(LONG_NAME) == MAX_NAME_CHARS
    v = await visit()
    me = await v.join(server.http, "gallery", "Viewer")
    page = v.page
    async with (
        await ThirdSpaceClient.connect(server.ws, "gallery", LONG_NAME, avatar="kurta", colour="#2a6f97") as latin,
        await ThirdSpaceClient.connect(server.ws, "gallery", ARABIC_NAME, "ar", avatar="djellaba", colour="#7a4e2d") as arabic,
    ):
        head, yaw = await viewer_pose(latin, me["id"])
        # Both ahead, to either side of the middle of the view (the middle is a focus of its own).
        places = {latin.id: ahead(head, yaw, 3.0, -0.9), arabic.id: ahead(head, yaw, 3.0, 0.9)}
        for client, name in ((latin, LONG_NAME), (arabic, ARABIC_NAME)):
            await client.send_pose(places[client.id], facing(yaw + math.pi))
            there = f"Math.hypot(a.position[0] - {places[client.id][0]}, a.position[2] - {places[client.id][2]}) < 0.02"
            short = await page.wait_for_function(
                f"(() => {{ const a = {AVATAR.format(id=client.id)}; return a && a.visible && {there} && a.tag && a.screen && a; }})()"
            )
            short = await short.json_value()
            assert short["name"] == name and not short["focused"]
            assert short["tag"].endswith("…") and len(short["tag"]) < len(name), short
            assert name.startswith(short["tag"][:-1].rstrip()), short  # the name's start, cut between letters

            x, y = short["screen"]
            await page.mouse.move(x, y)  # hovering the head
            whole = await page.wait_for_function(f"(() => {{ const a = {AVATAR.format(id=client.id)}; return a.focused && a; }})()")
            assert (await whole.json_value())["tag"] == name
            if client is arabic:
                await page.screenshot(path=str(IMAGES / "avatar-name-tags.png"))
            await page.mouse.move(5, 5)
            await page.wait_for_function(
                f"(() => {{ const a = {AVATAR.format(id=client.id)}; return !a.focused && a.tag.endsWith('…'); }})()"
            )
        # The tag's text is drawn in the page's own Arabic face (shaped, right to left), not as missing glyphs.
        assert await page.evaluate(f"document.fonts.check(\"600 40px 'Third Space Names'\", {json.dumps(ARABIC_NAME)})")
    assert v.errors == []


async def test_a_row_of_every_style(server, visit):
    """Every style side by side, one waving, as a visitor sees them: for the docs, and a check that each is drawn."""
    v = await visit(viewport={"width": 1200, "height": 640})
    me = await v.join(server.http, "gallery", "Viewer")
    colours = ["#3d7ea6", "#7b2d26", "#2f6b4f", "#8e5ea2", "#c97b2a", "#5b6c8f", "#a23b5a", "#44546a"]
    names = ["Alex", "Kofi", "Haruka", "Priya", "Wayra", "Youssef", "Amani", "Sigrid"]
    clients = [
        await ThirdSpaceClient.connect(server.ws, "gallery", name, avatar=style, colour=colour)
        for name, style, colour in zip(names, AVATAR_STYLES, colours, strict=True)
    ]
    try:
        head, yaw = await viewer_pose(clients[0], me["id"])
        spacing = 0.62
        for i, client in enumerate(clients):
            right = (i - (len(clients) - 1) / 2) * spacing
            at = ahead(head, yaw, 3.2, right)
            hand = None
            if i == 1:  # a raised right hand, greeting (the avatar's right is the viewer's left)
                hand = ahead(np.array(at), yaw + math.pi, 0.1, 0.3)
                hand = (hand[0], 1.75, hand[2])
            await client.send_pose(at, facing(yaw + math.pi), right=hand, hand_rotation=facing(yaw + math.pi))
        ids = [c.id for c in clients]
        listed = await v.page.wait_for_function(
            f"(() => {{ const a = thirdspace.avatars().filter(a => {ids}.includes(a.id));"
            " return a.length === 8 && a.every(x => x.visible && x.screen) && a; })()"
        )
        listed = await listed.json_value()
        assert sorted(a["style"] for a in listed) == sorted(AVATAR_STYLES)
        waving = next(a for a in listed if a["id"] == clients[1].id)
        assert waving["hands"][1]["tracked"] and not waving["hands"][0]["tracked"]
        await v.page.wait_for_timeout(500)
        png = await v.page.locator("#view").screenshot()
        (IMAGES / "avatars.png").write_bytes(png)
        # Each avatar is drawn where it stands: its body's pixels differ from the empty gallery's.
        image = Image.open(io.BytesIO(png)).convert("RGB")
        for a in listed:
            x, y = a["screen"]
            patch = image.crop((int(x) - 6, int(y) + 40, int(x) + 6, int(y) + 80)).getcolors(400)
            assert patch is not None and len(patch) > 3, a["name"]
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    assert v.errors == []


INSTALL_HEADSET = """
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({ forceInstall: true });
window.__xrDevice.position.set(0, 1.6, 0);
window.__xrDevice.stereoEnabled = false;
window.__xrDevice.primaryInputMode = "%s";
"""


def hand_of(avatar: dict, side: int) -> np.ndarray:
    return np.array(avatar["hands"][side]["position"])


@pytest.mark.parametrize("inputs", ["controller", "hand"])
async def test_a_headset_visitors_hands_follow_its_controllers_and_tracked_hands(server, visit, inputs):
    if not IWER.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    headset = await visit(init_scripts=({"path": str(IWER)}, {"script": INSTALL_HEADSET % inputs}))
    wearer = await headset.join(server.http, "gallery", "Wearer")
    watcher = await visit()
    await watcher.join(server.http, "gallery", "Watcher")
    await headset.page.locator("#xr button#VRButton").filter(has_text="ENTER VR").click()
    await headset.page.wait_for_function("thirdspace.xrPresenting()")
    bodies = "controllers" if inputs == "controller" else "hands"
    get = (
        f"(() => {{ const d = __xrDevice, l = d.{bodies}.left.position, r = d.{bodies}.right.position;"
        " return [[d.position.x, d.position.y, d.position.z], [l.x, l.y, l.z], [r.x, r.y, r.z]]; })()"
    )
    tracked = f"(() => {{ const a = {AVATAR.format(id=wearer['id'])}; return a && a.visible && a.hands.every(h => h.tracked) && a; }})()"
    before = await (await watcher.page.wait_for_function(tracked)).json_value()
    device, left, right = (np.array(p) for p in await headset.page.evaluate(get))
    # The hands are drawn as far from the head as the emulated hands are from the headset.
    for side, held in ((0, left), (1, right)):
        drawn = np.linalg.norm(hand_of(before, side) - np.array(before["position"]))
        assert abs(drawn - np.linalg.norm(held - device)) < 0.15, (inputs, side, drawn)
    # The left one is raised 30 cm: the watcher sees it go up, and the right stay.
    await headset.page.evaluate(f"__xrDevice.{bodies}.left.position.y += 0.3")
    raised = await watcher.page.wait_for_function(
        f"(() => {{ const a = {AVATAR.format(id=wearer['id'])}; return a.hands[0].position[1] > {hand_of(before, 0)[1] + 0.28} && a; }})()"
    )
    raised = await raised.json_value()
    assert abs(hand_of(raised, 0)[1] - hand_of(before, 0)[1] - 0.3) < 0.03
    assert np.linalg.norm(hand_of(raised, 1) - hand_of(before, 1)) < 0.03
    assert headset.errors == [] and watcher.errors == []
