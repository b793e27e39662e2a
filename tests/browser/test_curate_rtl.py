"""The curator page in Arabic, in real Chromium, at a desktop and two phone sizes: the page turns right to left, its own
words are Arabic (static and drawn ones alike), and on every tab, with forms open, and in the new-scene dialog, no
two controls overlap and none runs off the page or clips its words. Choosing another language in the page keeps it
in this browser."""

from __future__ import annotations

import aiohttp
import pytest

from tests.browser.curate_helpers import sign_in
from tests.conftest import PROJECT_ROOT
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"
ARABIC = r"[\u0600-\u06FF]"

# Every control shown (and the words beside them in the bar, the labels and the headings): its box cut to what
# its scrolling panels show, then every pair that overlaps, every one
# wider than the page, and every one whose words are cut off. Controls inside one another (an input in its label)
# are not a pair.
LAYOUT_PROBLEMS = """
(root) => {
  const selector = "button, input, select, textarea, summary, [role=tab], .bar > span, .bar > strong, label > span, h1, h2";
  const controls = [...document.querySelector(root).querySelectorAll(selector)].filter((e) => {
    const box = e.getBoundingClientRect();
    // checkVisibility: not in a closed <details> either (its content keeps stale boxes)
    return box.width > 0 && box.height > 0 && e.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true });
  });
  const words = (e) => (e.textContent || e.getAttribute("aria-label") || e.placeholder || "").trim().slice(0, 30);
  const name = (e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}[${words(e)}]`;
  const shown = (e) => {
    let { left, right, top, bottom } = e.getBoundingClientRect();
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX === "visible" && style.overflowY === "visible") continue;
      const clip = p.getBoundingClientRect();
      left = Math.max(left, clip.left); right = Math.min(right, clip.right);
      top = Math.max(top, clip.top); bottom = Math.min(bottom, clip.bottom);
    }
    return { left, right, top, bottom };
  };
  const boxes = controls.map((e) => ({ e, box: shown(e) })).filter(({ box }) => box.right - box.left > 1 && box.bottom - box.top > 1);
  const problems = [];
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    if (a.box.left < -1 || a.box.right > innerWidth + 1) {
      problems.push(`off the page: ${name(a.e)} ${Math.round(a.box.left)}..${Math.round(a.box.right)}`);
    }
    const tag = a.e.tagName;
    if ((tag === "BUTTON" || tag === "SUMMARY") && a.e.scrollWidth > a.e.clientWidth + 2) problems.push(`words cut off: ${name(a.e)}`);
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j];
      if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
      const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
      const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
      if (w > 1 && h > 1) problems.push(`overlap: ${name(a.e)} and ${name(b.e)} (${Math.round(w)}x${Math.round(h)} px)`);
    }
  }
  return { problems, checked: boxes.length };
}
"""

# The page's words that must be Arabic: everything the page marks as its own, and the controls drawn in code.
DRAWN = ["#tabs button", "#undo", "#publish", "#add-tour", "#add-anchor", "[data-add-overlay]", "#assets button", "[data-add-stop]"]


async def layout_ok(page, where: str, at_least: int = 10, root: str = "body") -> int:
    found = await page.evaluate(LAYOUT_PROBLEMS, root)
    assert found["problems"] == [], f"{where}: {found['problems']}"
    assert found["checked"] >= at_least, (where, found["checked"])
    return found["checked"]


async def arabic_everywhere(page, selectors: list[str]) -> None:
    untranslated = await page.evaluate(
        """([selectors, arabic]) => [...document.querySelectorAll(["[data-i18n]", ...selectors].join(","))]
             .filter((e) => e.getClientRects().length && !new RegExp(arabic).test(e.textContent))
             .map((e) => e.outerHTML.slice(0, 120))""",
        [selectors, ARABIC],
    )
    assert untranslated == []


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1400, "height": 820}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
    "small-phone": {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}


@pytest.mark.parametrize("device", VIEWPORTS)
async def test_the_curator_page_in_arabic_has_no_overlapping_controls(server, visit, device):
    _, token = await server.app[DB].add_user(f"Layla Haddad ({device})", "curator")
    scene = f"arabic-{device}"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": scene}) as response:
            assert response.status == 201
    curator = await visit(**VIEWPORTS[device])
    page = curator.page
    await page.goto(f"{server.http}/curate?scene={scene}&lang=ar")

    # -- the sign-in form: right to left, in Arabic, with the language to choose -------------------------------------
    await page.wait_for_selector("#signin:not([hidden])")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert await page.locator("#signin-language").input_value() == "ar"
    await arabic_everywhere(page, [])
    await layout_ok(page, "sign-in", at_least=3)  # the language, the token, the button
    await sign_in(page, server, token)

    # -- every tab, with forms open ------------------------------------------------------------------------------
    if device == "desktop":  # the panels trade places: the scene tree on the right, the side panel on the left
        tree, side = [await page.locator(s).bounding_box() for s in ("#tree-panel", "#side")]
        assert tree["x"] > side["x"]
    checked = await layout_ok(page, "the scene's texts")
    await page.click("#tree button[data-node='celadon-vase']")
    await page.wait_for_function("window.curate.selected === 'celadon-vase'")
    checked += await layout_ok(page, "a node")
    await page.click("#tabs button[data-tab='tours']")
    saves = await page.evaluate("window.curate.saves")
    await page.click("[data-add-overlay='narration']")
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=20000)
    await page.click("#add-tour")
    await page.wait_for_function(f"window.curate.saves > {saves + 1}", timeout=20000)
    await page.wait_for_selector("[data-add-stop='tour']")  # the new tour's card, open
    assert await page.locator("#layer details[open]").count() >= 3  # the narration, the tour and its first stop
    checked += await layout_ok(page, "tours")
    await page.click("#tabs button[data-tab='library']")
    await page.wait_for_selector("#assets button")
    checked += await layout_ok(page, "library")
    for tab in ("review", "history"):
        await page.click(f"#tabs button[data-tab='{tab}']")
        await page.wait_for_timeout(300)
        checked += await layout_ok(page, tab)
    await page.click("#new-scene")  # the new-scene dialog, over the page
    await page.wait_for_selector("#new-scene-dialog[open]")
    await arabic_everywhere(page, ["#new-scene-start option"])
    checked += await layout_ok(page, "new scene", at_least=6, root="#new-scene-dialog")
    await page.click("#new-scene-cancel")
    await page.click("#tabs button[data-tab='tours']")
    await arabic_everywhere(page, DRAWN)
    # the status line speaks Arabic too, and so do the undo button's words for the step
    assert await page.locator("#save-status").text_content()
    await page.wait_for_function(f"new RegExp('{ARABIC}').test(document.querySelector('#save-status').textContent)")
    assert await page.locator("#undo").is_enabled()
    await page.evaluate("window.scrollTo(0, 0)")
    if device != "small-phone":  # docs/curating.md shows these two
        await page.screenshot(path=str(IMAGES / f"curate-arabic-{device}.png"))
    assert checked > 40

    # -- another language, chosen in the page, is kept in this browser ----------------------------------------------
    if device == "desktop":
        async with page.expect_navigation():
            await page.select_option("#page-language", "fr")
        await page.wait_for_function("window.curate.status === 'ready'", timeout=30000)
        assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["fr", "ltr"]
        assert "lang=" not in page.url
        assert await page.locator("#publish").text_content() not in ("", "Publish")  # French, whatever the word
        await page.reload()
        await page.wait_for_function("window.curate.status === 'ready'", timeout=30000)
        assert await page.evaluate("document.documentElement.lang") == "fr"
    assert curator.errors == []
