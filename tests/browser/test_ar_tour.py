"""An AR tour under IWER with its synthetic environment (a captured room to hit-test against), and the
same page without AR support. The screenshots in docs/ar-tours.md are taken here."""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser.test_webxr import TAP
from tests.conftest import NODE_MODULES, PROJECT_ROOT

IMAGES = PROJECT_ROOT / "docs" / "images"
SEM = NODE_MODULES / "@iwer" / "sem"
MARKER = np.array([0, 1.4, 4.9])  # the gallery's door anchor, in scene coordinates


def install_room_script() -> str:
    room = (SEM / "captures" / "office_small.json").read_text("utf-8")
    return f"""
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({{ forceInstall: true }});
window.__xrDevice.position.set(0, 1.6, 0);
window.__xrDevice.installSEM(IWER_SEM.SyntheticEnvironmentModule);
window.__xrDevice.sem.loadEnvironment({room});
"""


async def enter(page, base: str, anchor: str = "gallery-door") -> None:
    await page.goto(f"{base}/?scene=gallery&anchor={anchor}&lang=fr")
    await page.wait_for_selector("#lobby:not([hidden])")
    await page.fill("#name", "Visiteuse")
    await page.click("#join")
    await page.wait_for_function("window.thirdspace.status === 'ready'")


async def test_an_ar_session_places_the_tour_with_a_hit_test_and_shows_the_first_stop(server, visit):
    for path in (NODE_MODULES / "iwer" / "build" / "iwer.min.js", SEM / "build" / "iwer-sem.min.js"):
        if not path.is_file():
            pytest.fail(f"{path.name} is not installed: run the README's test command (it runs npm ci in web_client/)")
    IMAGES.mkdir(exist_ok=True)
    v = await visit(
        init_scripts=(
            {"path": str(NODE_MODULES / "iwer" / "build" / "iwer.min.js")},
            {"path": str(SEM / "build" / "iwer-sem.min.js")},
            {"script": install_room_script()},
        )
    )
    page = v.page
    await enter(page, server.http)
    # Visitors who did not scan a code pick the marker they stand at from a list.
    await page.locator("#anchor").wait_for(state="visible")
    assert await page.input_value("#anchor") == "gallery-door"  # the scanned one
    await page.select_option("#anchor", "east-wall")
    assert (await page.evaluate("thirdspace.ar()"))["anchor"] == "east-wall"
    await page.select_option("#anchor", "gallery-door")
    await page.click("#tour .tour-body > button")  # the tour, from its first stop
    await page.locator("#xr #ARButton").click()
    await page.wait_for_function("thirdspace.ar().active && thirdspace.ar().hitTest")
    assert await page.evaluate("thirdspace.nodes()['hall'] !== undefined")
    # Aim at the room and tap: the hit point becomes the marker's place.
    await page.wait_for_timeout(500)
    await page.evaluate(TAP)
    await page.wait_for_function("thirdspace.ar().calibrated")
    state = await page.evaluate("thirdspace.ar()")
    assert state["placedBy"] == "hit-test", state
    head, facing = np.array(state["head"]), np.array(state["facing"])
    to_marker = MARKER - head
    assert np.linalg.norm(to_marker) > 0.2
    flat = facing[[0, 2]] / np.linalg.norm(facing[[0, 2]])
    assert np.dot(flat, to_marker[[0, 2]] / np.linalg.norm(to_marker[[0, 2]])) > 0.95, state  # the marker is where the viewer aimed
    # In AR the virtual room is hidden; the first stop's overlay shows, and the stop's list is in the page.
    assert await page.evaluate("thirdspace.ar().active") and not await page.evaluate("thirdspace.roomVisible()")
    assert "welcome" in await page.evaluate("thirdspace.tour().shown")
    assert "welcome" in await page.evaluate("thirdspace.tour().boards")  # drawn in the headset's view, not only the page
    assert "Bienvenue" in await page.text_content("#tour h2")
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(IMAGES / "ar-tour-in-ar.png"))
    assert v.errors == []


async def test_without_ar_support_the_page_shows_the_same_overlays_on_the_desktop(server, visit):
    v = await visit()
    page = v.page
    await enter(page, server.http)
    # No AR here: the AR and VR buttons are there but hidden (they show only where the mode can start).
    assert await page.locator("#xr #ARButton").count() == 1 and await page.locator("#xr #VRButton").count() == 1
    assert await page.locator("#xr #ARButton").is_hidden() and await page.locator("#xr #VRButton").is_hidden()
    assert await page.locator("#anchor").is_hidden()  # no AR here: no marker to choose
    await page.click("#tour .tour-body > button")
    await page.wait_for_function("thirdspace.tour().shown.includes('welcome')")  # the same first stop as in AR
    assert await page.evaluate("thirdspace.roomVisible()")
    assert "Bienvenue" in await page.text_content("#tour h2")
    for _ in range(3):  # on to the astrolabe: its label, narration, path and turning reconstruction
        await page.click("#tour .row button >> nth=1")
    await page.wait_for_function("thirdspace.tour().shown.includes('astrolabe-model')")
    await page.locator(".overlay[data-overlay='astrolabe-story']").wait_for(state="visible")
    await page.screenshot(path=str(IMAGES / "ar-tour-desktop.png"))
    assert v.errors == []
