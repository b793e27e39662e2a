"""immersive-vr under the IWER WebXR emulator: the emulated headset's pose reaches a Python client."""

import numpy as np
import pytest

from tests.conftest import NODE_MODULES
from thirdspace.client import ThirdSpaceClient
from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT

INSTALL_EMULATED_HEADSET = """
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({ forceInstall: true });
window.__xrDevice.position.set(0.3, 1.7, 0.2);
"""

STEP_SIDEWAYS = """
for (const body of [__xrDevice, __xrDevice.controllers.left, __xrDevice.controllers.right]) body.position.x += 0.1;
"""


async def test_entering_vr_sends_the_headset_and_controller_poses(server, visit):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    if not iwer.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    v = await visit(init_scripts=({"path": str(iwer)}, {"script": INSTALL_EMULATED_HEADSET}))
    me = await v.join(server.http, "gallery", "Headset")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Watcher") as watcher:
        button = v.page.locator("#xr button#VRButton")
        await button.filter(has_text="ENTER VR").wait_for()
        await button.click()
        await v.page.wait_for_function("thirdspace.xrPresenting()")
        assert len(await v.page.evaluate("thirdspace.xrSigns()")) >= 4  # "generated" signs in the headset

        def tracked_pose(client):
            parts = client.poses.get(me["id"])
            return parts is not None and abs(parts[0, 1] - 1.7) < 0.01 and parts.copy()

        first = await watcher.wait_for(tracked_pose)
        assert watcher.pose_flags[me["id"]] & (FLAG_LEFT | FLAG_RIGHT) == FLAG_LEFT | FLAG_RIGHT  # both controllers tracked
        # hands are where the emulated controllers are: near the head, not at the origin
        assert 0.05 < np.linalg.norm(first[1, :3] - first[0, :3]) < 1.0
        assert 0.05 < np.linalg.norm(first[2, :3] - first[0, :3]) < 1.0

        for _ in range(10):  # the wearer walks a metre sideways, as fast as a person does
            await v.page.evaluate(STEP_SIDEWAYS)
            await v.page.wait_for_timeout(100)
        moved = await watcher.wait_for(
            lambda c: abs(np.linalg.norm(c.poses[me["id"]][0, [0, 2]] - first[0, [0, 2]]) - 1.0) < 0.01 and c.poses[me["id"]].copy()
        )
        assert abs(moved[0, 1] - 1.7) < 0.01
    assert v.errors == []


PULL_TRIGGER = """
  await new Promise((r) => setTimeout(r, 300));
  hand.updateButtonValue('trigger', 1);
  await new Promise((r) => setTimeout(r, 300));
  hand.updateButtonValue('trigger', 0);
"""
# A tap: press and release the right trigger (in AR, the session's select).
TAP = "async () => { const hand = window.__xrDevice.controllers.right;" + PULL_TRIGGER + "}"
# Point 45 degrees down, so that the ray meets the floor ahead, then pull.
POINT_DOWN_AND_PULL = (
    "async () => { const hand = window.__xrDevice.controllers.right; hand.quaternion.set(-0.3826834, 0, 0, 0.9238795);" + PULL_TRIGGER + "}"
)


async def test_pointing_and_releasing_the_trigger_teleports(server, visit):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    v = await visit(init_scripts=({"path": str(iwer)}, {"script": INSTALL_EMULATED_HEADSET}))
    me = await v.join(server.http, "gallery", "Jumper")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Watcher") as watcher:
        teleports = []
        watcher.on_snapshot = lambda c: teleports.append(c.poses[me["id"]].copy()) if me["id"] in c.decoder.teleported else None
        await v.page.locator("#xr button").filter(has_text="ENTER VR").click()
        await v.page.wait_for_function("thirdspace.xrPresenting()")
        start = await watcher.wait_for(
            lambda c: me["id"] in c.poses and abs(c.poses[me["id"]][0, 1] - 1.7) < 0.01 and c.poses[me["id"]].copy()
        )
        await v.page.evaluate(POINT_DOWN_AND_PULL)
        landed = await watcher.wait_for(lambda c: teleports and teleports[0])
        assert np.linalg.norm(landed[0, [0, 2]] - start[0, [0, 2]]) > 0.5  # a jump, flagged as one
        assert abs(landed[0, 1] - 1.7) < 0.01  # the head stays at the wearer's height
    assert v.errors == []


async def test_ar_hides_the_room_aligns_at_the_anchor_and_keeps_the_alignment_after_a_reload(server, visit):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    v = await visit(init_scripts=({"path": str(iwer)}, {"script": INSTALL_EMULATED_HEADSET}))
    page = v.page
    await page.goto(f"{server.http}/?scene=gallery&anchor=gallery-door")
    await page.wait_for_selector("#lobby:not([hidden])")
    await page.fill("#name", "Phone")
    await page.click("#join")
    await page.wait_for_function("window.thirdspace.status === 'ready'")
    await page.locator("#xr #ARButton").click()
    await page.wait_for_function("thirdspace.ar().active")
    state = await page.evaluate("thirdspace.ar()")
    assert state["anchor"] == "gallery-door" and not state["calibrated"]
    assert "marker" in await page.text_content("#status")  # what to do next
    await page.evaluate(TAP)
    await page.wait_for_function("thirdspace.ar().calibrated")
    # Without surfaces to hit (no synthetic environment is loaded), the tap puts the marker 1.5 m ahead of the
    # viewer, and turns the scene so that the viewer faces the marker's wall: in scene coordinates the door marker
    # (0, 1.4, 4.9) is now straight ahead of the head, 1.5 m away.
    state = await page.evaluate("thirdspace.ar()")
    head, facing = np.array(state["head"]), np.array(state["facing"])
    to_marker = np.array([0, 1.4, 4.9]) - head
    assert abs(np.hypot(to_marker[0], to_marker[2]) - 1.5) < 0.1, state
    flat = facing[[0, 2]] / np.linalg.norm(facing[[0, 2]])
    assert np.dot(flat, to_marker[[0, 2]] / np.linalg.norm(to_marker[[0, 2]])) > 0.99, state
    placed = state["rig"]
    assert await page.evaluate("sessionStorage.getItem('thirdspace.ar.gallery') !== null")
    # Reload in the same tab session: the alignment comes back without tapping.
    await page.reload()
    await page.wait_for_selector("#lobby:not([hidden])")
    await page.fill("#name", "Phone")
    await page.click("#join")
    await page.wait_for_function("window.thirdspace.status === 'ready'")
    await page.locator("#xr #ARButton").click()
    await page.wait_for_function("thirdspace.ar().active && thirdspace.ar().restored")
    assert (await page.evaluate("thirdspace.ar()"))["rig"] == placed
    assert v.errors == []
