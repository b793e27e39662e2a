"""The draft in VR from the curator page, under the IWER WebXR emulator in real Chromium: "Preview in VR" shows only
where a headset can start immersive-vr, puts the wearer at the first spawn point at the headset's own height, hides
the gizmo, shows an edit made in the page at once, lets the wearer teleport across the floor, and comes back to
editing when the session ends."""

from __future__ import annotations

import aiohttp
import pytest

from tests.browser.curate_helpers import sign_in
from tests.conftest import NODE_MODULES
from thirdspace.web.keys import DB

HEADSET = """
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({ forceInstall: true });
window.__xrDevice.position.set(0, 1.6, 0);
"""
# Point the right controller 45 degrees down and pull its trigger: a teleport to the floor ahead.
POINT_DOWN_AND_PULL = """async () => {
  const hand = window.__xrDevice.controllers.right;
  hand.quaternion.set(-0.3826834, 0, 0, 0.9238795);
  await new Promise((r) => setTimeout(r, 300));
  hand.updateButtonValue('trigger', 1);
  await new Promise((r) => setTimeout(r, 300));
  hand.updateButtonValue('trigger', 0);
}"""


async def test_preview_in_vr_stands_at_the_spawn_point_shows_edits_and_comes_back(server, visit):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    if not iwer.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    _, token = await server.app[DB].add_user("Mateo Silva", "curator")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "vr-demo"}) as response:
            assert response.status == 201
            document = (await response.json())["document"]
    spawn = document["spawn_points"][0]["position"]

    # -- a desktop without a headset has no VR button at all ------------------------------------------------------
    plain = await visit(viewport={"width": 1280, "height": 800})
    await sign_in(plain.page, server, token, "vr-demo")
    await plain.page.wait_for_timeout(500)
    assert await plain.page.locator("#vr-preview").count() == 1
    assert await plain.page.locator("#vr-preview").is_hidden()

    # -- with a headset: the button, then the draft around the wearer ---------------------------------------------
    curator = await visit(init_scripts=({"path": str(iwer)}, {"script": HEADSET}), viewport={"width": 1280, "height": 800})
    page = curator.page
    await sign_in(page, server, token, "vr-demo")
    await page.click("#tree button[data-node='celadon-vase']")
    button = page.locator("#vr-preview")
    await button.wait_for(state="visible")
    assert await button.text_content() == "Preview in VR"
    await button.click()
    await page.wait_for_function("window.curate.vr().presenting", timeout=20000)
    state = await page.evaluate("window.curate.vr()")
    head = state["head"]
    assert abs(head[0] - spawn[0]) < 0.05 and abs(head[2] - spawn[2]) < 0.05, head  # at the spawn point
    assert abs(head[1] - (spawn[1] + 1.6)) < 0.05, head  # at the headset's own height above its floor
    assert state["gizmo"] is False
    assert await button.text_content() == "Back to editing"
    assert "spawn point" in await page.locator("#save-status").text_content()

    # an edit typed in the page while the headset is on is in the scene the wearer sees
    saves = await page.evaluate("window.curate.saves")
    before = await page.evaluate("window.curate.worldBox('celadon-vase')")
    x = page.locator("#position-fields input").first
    was = float(await x.input_value())
    await x.fill(str(was + 1.5))  # metres along x, from where it stands on its plinth
    await x.dispatch_event("change")
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=20000)
    await page.wait_for_function("window.curate.vr().presenting && window.curate.worldBox('celadon-vase') !== null")
    box = await page.evaluate("window.curate.worldBox('celadon-vase')")
    assert abs(box["min"][0] - before["min"][0] - 1.5) < 0.01 and abs(box["max"][0] - before["max"][0] - 1.5) < 0.01, (before, box)

    # the wearer teleports across the floor ahead (the draft's floor, inside its bounds)
    await page.evaluate(POINT_DOWN_AND_PULL)
    await page.wait_for_function(f"Math.abs(window.curate.vr().head[2] - {head[2]}) > 0.5", timeout=10000)
    moved = (await page.evaluate("window.curate.vr()"))["head"]
    assert moved[2] < head[2]  # forward: the spawn point faces -z
    bounds = document["bounds"]
    assert bounds["min"][2] < moved[2] < bounds["max"][2]

    # -- the session ends: back to editing, gizmo and all -------------------------------------------------------
    await button.dispatch_event("click")  # the emulator's own view of the headset covers the page meanwhile
    await page.wait_for_function("!window.curate.vr().presenting", timeout=10000)
    assert (await page.evaluate("window.curate.vr()"))["gizmo"] is True
    assert await button.text_content() == "Preview in VR"
    assert curator.errors == [] and plain.errors == []
