"""The headset menu under IWER (Meta Quest 3): opened with a controller button or the wrist button, driven by
pointing the emulated controller (or hand) at a menu element's laid-out position and pulling the trigger (or
pinching), so that the page's real pointer-events path runs. A second, desktop tab in the same room sees what
the headset sends. The screenshots in docs/visiting.md are taken here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import NODE_MODULES, PROJECT_ROOT

IWER = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
IMAGES = PROJECT_ROOT / "docs" / "images"


def headset(inputs: str = "controller") -> tuple[dict, ...]:
    if not IWER.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    script = f"""
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({{ forceInstall: true }});
window.__xrDevice.position.set(0, 1.6, 0);
window.__xrDevice.stereoEnabled = false;
window.__xrDevice.primaryInputMode = "{inputs}";
"""
    return ({"path": str(IWER)}, {"script": script})


def menu_state_js() -> str:
    return "thirdspace.xrMenu()"


async def menu(page) -> dict:
    return await page.evaluate(menu_state_js())


async def wait_for_element(page, element: str) -> dict:
    await page.wait_for_function(
        f"(() => {{ const e = thirdspace.xrMenu().elements[{json.dumps(element)}]; return e && e.size[0] > 0; }})()"
    )
    return (await menu(page))["elements"][element]


def aim_rotation(origin: np.ndarray, target: np.ndarray) -> list[float]:
    """The quaternion (x, y, z, w) turning the ray's -Z towards `target`."""
    d = target - origin
    d = d / np.linalg.norm(d)
    q = np.array([d[1], -d[0], 0.0, 1.0 - d[2]])  # from (0, 0, -1) to d
    return list(q / np.linalg.norm(q))


async def point_at(page, element: str, side: str = "right", inputs: str = "controller") -> None:
    """Aim the emulated controller (or hand) at the element, and wait until the page's pointer is on the menu.

    The element and the ray's start are both in the session's reference space, as the page reads them: in AR
    ("local") its origin is the headset's place at the start, 1.6 m above IWER's floor, and not turned, so the
    aim's rotation is the same in IWER's space."""
    target = np.array((await wait_for_element(page, element))["xr"])
    bodies = "controllers" if inputs == "controller" else "hands"
    origin = np.array((await menu(page))["rays"][side])
    x, y, z, w = aim_rotation(origin, target)
    await page.evaluate(f"__xrDevice.{bodies}.{side}.quaternion.set({x}, {y}, {z}, {w})")
    await page.wait_for_function(f"thirdspace.xrMenu().pointing[{json.dumps(side)}] === true")


async def pull(page, side: str = "right", inputs: str = "controller") -> None:
    """The trigger (or a pinch), pressed and let go as a person does."""
    if inputs == "controller":
        press, body = "updateButtonValue('trigger', {v})", f"__xrDevice.controllers.{side}"
    else:
        press, body = "updatePinchValue({v})", f"__xrDevice.hands.{side}"
    await page.evaluate(f"{body}.{press.format(v=1)}")
    await page.wait_for_timeout(250)
    await page.evaluate(f"{body}.{press.format(v=0)}")
    await page.wait_for_timeout(250)


async def choose(page, element: str, side: str = "right", inputs: str = "controller") -> None:
    await point_at(page, element, side, inputs)
    await pull(page, side, inputs)


async def open_with_button(page, button: str = "y-button") -> None:
    """Press and let go X or Y (on the left controller) or A or B (on the right one)."""
    side = "left" if button in ("x-button", "y-button") else "right"
    await page.evaluate(f"__xrDevice.controllers.{side}.updateButtonValue('{button}', 1)")
    await page.wait_for_timeout(200)
    await page.evaluate(f"__xrDevice.controllers.{side}.updateButtonValue('{button}', 0)")
    await page.wait_for_function("thirdspace.xrMenu().open")


async def enter_vr(page) -> None:
    await page.locator("#xr button#VRButton").click()
    await page.wait_for_function("thirdspace.xrPresenting() && thirdspace.xrMenu().active")


async def said(page, text: str) -> None:
    await page.wait_for_function(f"thirdspace.chat().some((line) => line.text.includes({json.dumps(text)}))", timeout=10000)


def no_outside_requests(page, base: str) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
    return outside


async def test_in_vr_the_menu_sends_phrases_and_typed_words_and_runs_the_tour(server, visit):
    desktop = await visit()
    await desktop.join(server.http, "gallery", "Desk")
    v = await visit(init_scripts=headset())
    page = v.page
    outside = no_outside_requests(page, server.http)
    me = await v.join(server.http, "gallery", "Headset")
    assert me["room"] == (await desktop.page.evaluate("thirdspace.room"))
    await enter_vr(page)
    assert not (await menu(page))["open"]
    await open_with_button(page)
    state = await menu(page)
    assert state["tab"] == "chat" and state["language"] == "en"

    # A quick phrase: point at the Phrases tab, pull; point at "Hello!", pull. The desktop tab reads it.
    await choose(page, "tab:phrases")
    await page.wait_for_function("thirdspace.xrMenu().tab === 'phrases'")
    start = np.array(await page.evaluate("thirdspace.ar().rig"))
    await choose(page, "phrase:hello")
    await said(desktop.page, "Hello!")
    await said(page, "Hello!")
    # The trigger on the menu is the menu's: the visitor did not jump.
    assert np.allclose(np.array(await page.evaluate("thirdspace.ar().rig")), start)
    assert (await menu(page))["tab"] == "chat"  # back to the chat, where the line shows
    # The chat's lines are laid out again on a later frame.
    await page.wait_for_function("thirdspace.xrMenu().labels.some((l) => l.text.includes('Hello!'))")

    # A typed word, on the in-world keyboard.
    await choose(page, "tab:type")
    for key in "hi":
        await choose(page, f"key:{key}")
    await page.wait_for_function("thirdspace.xrMenu().typed === 'hi'")
    await choose(page, "key:space")
    for key in "all":
        await choose(page, f"key:{key}")
    await choose(page, "send")
    await said(desktop.page, "hi all")

    # The tour, started and advanced from the headset.
    await choose(page, "tab:tour")
    await page.wait_for_function(  # the tab's buttons are laid out a frame or two after it opens
        "Object.entries(thirdspace.xrMenu().elements).some(([name, e]) => name.startsWith('tour:start:') && e.size[0] > 0)"
    )
    start_tour = next(e for e in (await menu(page))["elements"] if e.startswith("tour:start:"))
    await choose(page, start_tour)
    await page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")
    await choose(page, "tour:next")
    await page.wait_for_function("thirdspace.tour().tour.index === 1")
    await page.wait_for_function("thirdspace.xrMenu().labels.some((l) => l.id === 'tour:progress' && l.text.startsWith('Stop 2 of'))")
    await page.wait_for_timeout(500)
    IMAGES.mkdir(exist_ok=True)
    await page.screenshot(path=str(IMAGES / "xr-menu-vr.png"))
    assert outside == []  # fonts and all: nothing from a CDN
    assert v.errors == []
    assert desktop.errors == []


async def test_with_hand_tracking_the_wrist_button_opens_the_menu_and_a_pinch_sends_a_phrase(server, visit):
    desktop = await visit()
    await desktop.join(server.http, "gallery", "Desk")
    v = await visit(init_scripts=headset("hand"))
    page = v.page
    await v.join(server.http, "gallery", "Hands")
    # The left hand held up, palm side towards the visitor; the right hand above it, to point down at its wrist.
    await page.evaluate("__xrDevice.hands.left.position.set(-0.15, 1.2, -0.35); __xrDevice.hands.right.position.set(0.15, 1.45, -0.25)")
    await enter_vr(page)
    await choose(page, "wrist", inputs="hand")
    await page.wait_for_function("thirdspace.xrMenu().open")
    await choose(page, "tab:phrases", inputs="hand")
    await page.wait_for_function("thirdspace.xrMenu().tab === 'phrases'")
    await choose(page, "phrase:welcome", inputs="hand")
    await said(desktop.page, "Welcome!")
    assert v.errors == []


async def test_in_ar_on_a_headset_without_dom_overlay_the_panel_runs_the_tour(server, visit):
    v = await visit(init_scripts=headset())
    page = v.page
    await page.goto(f"{server.http}/?scene=gallery&anchor=gallery-door")
    await page.wait_for_selector("#lobby:not([hidden])")
    await page.fill("#name", "Passthrough")
    await page.click("#join")
    await page.wait_for_function("window.thirdspace.status === 'ready'")
    await page.locator("#xr button.ar-button").click()
    await page.wait_for_function("thirdspace.ar().active && thirdspace.xrMenu().active")
    await open_with_button(page, "x-button")
    await choose(page, "tab:tour")
    start_tour = next(e for e in (await menu(page))["elements"] if e.startswith("tour:start:"))
    await choose(page, start_tour)
    await page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")
    await choose(page, "tour:next")
    await page.wait_for_function("thirdspace.tour().tour.index === 1")
    assert not (await page.evaluate("thirdspace.ar()"))["calibrated"]  # pulls on the panel did not place the scene
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(IMAGES / "xr-panel-ar.png"))
    assert v.errors == []


async def test_the_menu_speaks_arabic_and_a_phrase_sent_in_arabic_arrives(server, visit):
    desktop = await visit()
    await desktop.join(server.http, "gallery", "Desk")
    v = await visit(init_scripts=headset())
    page = v.page
    outside = no_outside_requests(page, server.http)
    await v.join(server.http, "gallery", "سلمى", "ar")
    await enter_vr(page)
    await open_with_button(page, "b-button")
    state = await menu(page)
    assert state["language"] == "ar"
    tabs = {label["id"]: label for label in state["labels"]}
    assert tabs["tab:chat"]["text"] == "الدردشة" and tabs["tab:chat"]["direction"] == "rtl"
    assert tabs["tab:chat"]["font"].endswith("/static/fonts/noto-sans-arabic-arabic-400-normal.woff")
    # Right to left: the first tab (chat) is laid out at the right end of the row.
    assert state["elements"]["tab:chat"]["xr"][0] > state["elements"]["tab:tour"]["xr"][0]
    await choose(page, "tab:phrases")
    await page.wait_for_function("thirdspace.xrMenu().labels.some((l) => l.id === 'phrase:hello' && l.text === 'مرحبًا!')")
    await choose(page, "phrase:hello")
    await said(desktop.page, "Hello!")  # the desktop reader reads the phrase in English
    await said(page, "مرحبًا!")
    await choose(page, "tab:type")
    await wait_for_element(page, "key:س")  # the Arabic keys come first
    assert outside == []
    assert v.errors == []
