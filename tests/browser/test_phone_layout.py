"""The visitor page on phones and tablets, held either way: nothing the visitor can touch lies over anything else or
off the screen, in the lobby and in a scene, in English, French, Spanish and Arabic; the help line speaks of the
joystick; the on-screen keyboard leaves the chat input in view; the XR buttons show only where XR can start, in
the visitor's language. The screenshots in docs/visiting.md ("On a phone") are taken here."""

from __future__ import annotations

import pytest

from tests.browser.test_webxr import INSTALL_EMULATED_HEADSET
from tests.conftest import NODE_MODULES, PROJECT_ROOT

IMAGES = PROJECT_ROOT / "docs" / "images"
# Phones upright and on their side, and a tablet both ways.
VIEWPORTS = [(360, 640), (640, 360), (390, 844), (844, 390), (768, 1024), (1024, 768)]
TOUCH = {"has_touch": True, "is_mobile": True, "viewport": {"width": 390, "height": 844}}
HELP_TOUCH = {
    "en": "Joystick to walk",
    "fr": "Joystick pour marcher",
    "es": "Joystick para caminar",
    "ar": "عصا التحكم للمشي",
}

# What the visitor sees and can touch, with each box cut to the scrolling panels it sits in (a button scrolled out
# of the tour panel is not on screen). The "generated" labels and tour overlays are left out: they are drawn at
# their objects in the scene, under the panels, and move with the view.
LAYOUT_PROBLEMS = """() => {
  const interactive = 'button, input, select, textarea, a[href], summary, [role="button"], #joystick';
  const blocks = '#lobby, #hud > header, #asset-info, #chat, #tour, #xr > *, .help';
  const classes = (e) => e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
  const name = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${classes(e)}`
    + ` "${(e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 24)}"`;
  const shown = (e) => {
    if (e.closest('.labels, [hidden]')) return null;
    for (let a = e; a; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) return null;
    }
    let r = e.getBoundingClientRect();
    let box = {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
    // Cut to scrolling panels, not to the page itself: the page's overflow: hidden would hide what is off the screen.
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const c = a.getBoundingClientRect();
      box = {left: Math.max(box.left, c.left), top: Math.max(box.top, c.top),
             right: Math.min(box.right, c.right), bottom: Math.min(box.bottom, c.bottom)};
    }
    return box.right - box.left > 1 && box.bottom - box.top > 1 ? box : null;
  };
  const items = [...new Set([...document.querySelectorAll(interactive), ...document.querySelectorAll(blocks)])]
    .map((element) => ({element, box: shown(element)})).filter((i) => i.box);
  const problems = [];
  for (const {element, box} of items) {
    if (box.left < -0.5 || box.top < -0.5 || box.right > innerWidth + 0.5 || box.bottom > innerHeight + 0.5)
      problems.push(`${name(element)} is off the screen: ${JSON.stringify(box)}`);
  }
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = items[i], b = items[j];
    if (a.element.contains(b.element) || b.element.contains(a.element)) continue;
    const x = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
    const y = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
    if (x > 0.5 && y > 0.5) problems.push(`${name(a.element)} overlaps ${name(b.element)} by ${x.toFixed(0)}x${y.toFixed(0)} px`);
  }
  return {checked: items.map((i) => name(i.element)), problems};
}"""

NEXT_FRAMES = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


async def layout_problems(page, where: str) -> list[str]:
    """Resize to each viewport and collect what overlaps or leaves the screen."""
    found = []
    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.evaluate(NEXT_FRAMES)
        await page.wait_for_timeout(150)  # the renderer and the labels follow the resize on the next frames
        result = await page.evaluate(LAYOUT_PROBLEMS)
        assert len(result["checked"]) >= (5 if where == "lobby" else 8), (where, width, height, result["checked"])
        if where != "lobby":  # the check did look at what a visitor touches most
            for element in ("input#chat-input", "button#quick-send", "div#joystick", "section#chat"):
                assert any(c.startswith(element) for c in result["checked"]), (where, width, height, element)
        found += [f"{where} {width}x{height}: {problem}" for problem in result["problems"]]
    return found


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
async def test_on_a_phone_nothing_covers_anything_in_the_lobby_or_the_scene(server, visit, language):
    IMAGES.mkdir(exist_ok=True)
    v = await visit(**TOUCH)
    page = v.page
    await page.goto(f"{server.http}/?scene=gallery&lang={language}")
    await page.wait_for_selector("#lobby:not([hidden])")
    assert await page.evaluate("matchMedia('(pointer: coarse)').matches")  # a touch screen, as on a phone
    await page.fill("#name", "Visitor with a long name")
    problems = await layout_problems(page, "lobby")
    if language == "en":
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(IMAGES / "phone-lobby.png"))
    await page.click("#join")
    await page.wait_for_function("['ready', 'error'].includes(window.thirdspace.status)", timeout=30000)
    assert await page.evaluate("thirdspace.status") == "ready", await page.evaluate("thirdspace.error")
    await page.locator("#tour .tour-body > button").first.wait_for()
    await page.locator("#joystick").wait_for(state="visible")
    # Without WebXR (this browser has no headset and no AR) there are no XR buttons, greyed or not.
    assert await page.locator("#xr > :visible").count() == 0
    assert "NOT SUPPORTED" not in await page.inner_text("body")
    # The help line speaks of the joystick and taps, in the visitor's language.
    help_line = await page.inner_text(".help")
    assert HELP_TOUCH[language] in help_line and "WASD" not in help_line
    await fill_the_chat(page)
    problems += await layout_problems(page, "scene")
    # A started tour has more buttons in its panel; the list of generated objects takes the details panel.
    await page.click("#tour .tour-body > button")
    await page.wait_for_function("thirdspace.tour() && thirdspace.tour().shown.length > 0")
    problems += await layout_problems(page, "tour")
    await page.click("#generated-badge")
    await page.locator("#asset-info").wait_for(state="visible")
    problems += await layout_problems(page, "details")
    await page.click("#asset-info .close")
    assert problems == []
    if language == "ar":
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.evaluate(NEXT_FRAMES)
        await page.wait_for_timeout(500)
        await page.screenshot(path=str(IMAGES / "phone-scene-ar.png"))
    if language == "fr":
        await page.set_viewport_size({"width": 844, "height": 390})
        await page.evaluate(NEXT_FRAMES)
        await page.wait_for_timeout(500)
        await page.screenshot(path=str(IMAGES / "phone-scene-landscape.png"))
    assert v.errors == []


# An on-screen keyboard shrinks the visual viewport and leaves the layout viewport as it is: emulate that by
# giving visualViewport a shorter height and telling the page, as the browser does.
KEYBOARD_UP = """(height) => {
  Object.defineProperty(visualViewport, 'height', {configurable: true, get: () => height});
  visualViewport.dispatchEvent(new Event('resize'));
}"""
KEYBOARD_DOWN = """() => {
  delete visualViewport.height;
  visualViewport.dispatchEvent(new Event('resize'));
}"""
CHAT_INPUT_SHOWS = """(height) => {
  const input = document.querySelector('#chat-input');
  const r = input.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const send = document.querySelector('#chat-form button').getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, width: r.width, onTop: hit === input, send: send.bottom <= height};
}"""


@pytest.mark.parametrize("size", [(390, 844), (844, 390)])
async def test_the_on_screen_keyboard_leaves_the_chat_input_in_view(server, visit, size):
    width, height = size
    v = await visit(**{**TOUCH, "viewport": {"width": width, "height": height}})
    page = v.page
    await v.join(server.http, "gallery", "Typist", "fr")
    await page.click("#chat-input")
    keyboard = round(height * 0.45)  # about what a phone's keyboard takes
    visible = height - keyboard
    await page.evaluate(KEYBOARD_UP, visible)
    await page.evaluate(NEXT_FRAMES)
    shows = await page.evaluate(CHAT_INPUT_SHOWS, visible)
    assert shows["top"] >= 0 and shows["bottom"] <= visible and shows["width"] > 120, shows
    assert shows["onTop"] and shows["send"], shows  # nothing lies over the input, and Send is above the keyboard too
    await page.fill("#chat-input", "Bonjour")
    await page.keyboard.press("Enter")
    await page.wait_for_function("thirdspace.chat().some((line) => line.text === 'Bonjour')")
    await page.evaluate(KEYBOARD_DOWN)
    await page.evaluate(NEXT_FRAMES)
    assert await page.evaluate("document.documentElement.dataset.keyboard") is None
    assert (await page.evaluate(LAYOUT_PROBLEMS))["problems"] == []
    await page.locator("#tour").wait_for(state="visible")  # the rest of the HUD is back
    assert v.errors == []


XR_WORDS = {
    "en": ("Enter VR", "Start AR", "Marker", "Exit VR"),
    "fr": ("Entrer en RV", "Lancer la RA", "Repère", "Quitter la RV"),
    "ar": ("ادخل الواقع الافتراضي", "ابدأ الواقع المعزز", "العلامة", "اخرج من الواقع الافتراضي"),
}


async def fill_the_chat(page) -> None:
    """A busy room: enough long lines (the server's burst) that the chat log is at its tallest."""
    for i in range(5):
        await page.fill("#chat-input", f"Message number {i}, long enough to wrap onto a second line of the chat")
        await page.keyboard.press("Enter")
    await page.wait_for_function("thirdspace.chat().length >= 5")


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
async def test_xr_buttons_show_where_xr_can_start_in_the_visitors_language(server, visit, language):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    if not iwer.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    v = await visit(init_scripts=({"path": str(iwer)}, {"script": INSTALL_EMULATED_HEADSET}), **TOUCH)
    page = v.page
    await v.join(server.http, "gallery", "Visitor with a long name", language)
    enter, start, marker, leave = XR_WORDS[language]
    vr, ar = page.locator("#xr #VRButton"), page.locator("#xr #ARButton")
    await vr.wait_for(state="visible")
    await ar.wait_for(state="visible")
    assert await vr.inner_text() == enter
    assert await ar.inner_text() == start
    assert await page.get_attribute("#anchor", "aria-label") == marker
    # The XR buttons and the marker list find room on every screen, beside a full chat, the started tour and
    # the list of generated objects.
    await page.locator("#tour .tour-body > button").first.wait_for()
    await fill_the_chat(page)
    problems = await layout_problems(page, "scene")
    await page.click("#tour .tour-body > button")
    await page.wait_for_function("thirdspace.tour() && thirdspace.tour().shown.length > 0")
    problems += await layout_problems(page, "tour")
    await page.click("#generated-badge")
    await page.locator("#asset-info").wait_for(state="visible")
    problems += await layout_problems(page, "details")
    assert problems == []
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.click("#asset-info .close")
    await vr.click()
    await page.wait_for_function("thirdspace.xrPresenting()")
    assert await vr.inner_text() == leave
    await vr.dispatch_event("click")  # the emulator's own view now lies over the page, as a headset's would
    await page.wait_for_function("!thirdspace.xrPresenting()")
    assert await vr.inner_text() == enter
    assert v.errors == []


# Two kinds of faults the layout check exists for: a panel moved over another, and a panel pushed off the screen.
BREAK_THE_LAYOUT = {
    "overlap": "#chat { position: fixed !important; top: 40px !important; left: 40px !important; }",
    "off the screen": "#chat { transform: translateX(-80%) !important; }",
}


@pytest.mark.parametrize("fault", list(BREAK_THE_LAYOUT))
async def test_the_layout_check_finds_a_broken_layout(server, visit, fault):
    v = await visit(**TOUCH)
    page = v.page
    await v.join(server.http, "gallery", "Checker", "fr")
    await page.locator("#tour .tour-body > button").first.wait_for()
    assert (await page.evaluate(LAYOUT_PROBLEMS))["problems"] == []
    await page.add_style_tag(content=BREAK_THE_LAYOUT[fault])
    await page.evaluate(NEXT_FRAMES)
    problems = (await page.evaluate(LAYOUT_PROBLEMS))["problems"]
    assert any(fault in problem for problem in problems) or (fault == "overlap" and any("overlaps" in p for p in problems)), problems
    assert v.errors == []
