"""Overlays and tours built with the curator's forms, in real Chromium, from a scene that has none: labels and a
narration added to objects picked in the tree, a bad media link refused at its field, three stops with where
to stand set by clicking the floor, reordered by dragging, published, and played by a visitor in that order.
Every step is undoable, and the forms work at a phone's width in Arabic."""

from __future__ import annotations

import aiohttp
import pytest

from tests.browser.curate_helpers import sign_in
from tests.conftest import PROJECT_ROOT
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"


def at(path: str) -> str:
    return f"#layer [data-path='{path}']"


async def fill(page, path: str, text: str) -> None:
    saves = await page.evaluate("window.curate.saves")
    field = page.locator(at(path))
    await field.fill(text)
    await field.dispatch_event("change")
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=15000)


async def click_and_save(page, selector: str) -> None:
    saves = await page.evaluate("window.curate.saves")
    await page.click(selector)
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=15000)


@pytest.mark.timeout(300)
async def test_a_three_stop_tour_built_with_the_forms_is_played_by_a_visitor(server, visit):
    _, token = await server.app[DB].add_user("Yuki Tanaka", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "tour-demo"}) as response:
            assert response.status == 201
            document = (await response.json())["document"]
        for key in ("overlays", "tours", "anchors"):
            del document[key]
        url = f"{server.http}/api/curate/scenes/tour-demo"
        async with http.put(url, json={"document": document}, headers={"If-Match": '"r1"'}) as response:
            assert response.status == 200, await response.text()

    curator = await visit(viewport={"width": 1400, "height": 900})
    page = curator.page
    await sign_in(page, server, token, "tour-demo")
    await page.click("#tabs button[data-tab='tours']")
    assert await page.locator("#layer [data-add-overlay='label']").is_disabled()  # nothing picked yet

    # -- overlays on objects picked in the tree ------------------------------------------------------------------
    for node, kind in (("celadon-vase", "label"), ("lustre-jar", "label"), ("astrolabe", "narration")):
        await page.click(f"#tree button[data-node='{node}']")
        await click_and_save(page, f"#layer [data-add-overlay='{kind}']")
    await fill(page, "$.overlays[0].text.en", "Celadon vase · Longquan, 13th century")
    await fill(page, "$.overlays[0].text.ar", "مزهرية سيلادون")
    assert await page.locator(at("$.overlays[0].text.ar")).get_attribute("dir") == "rtl"
    await fill(page, "$.overlays[2].text.en", "Turn the rete, and tonight's stars stand over your city.")
    # a recording's link that is not a link is refused at its field, and nothing is saved
    saves = await page.evaluate("window.curate.saves")
    audio = page.locator(at("$.overlays[2].audio.en"))
    await audio.fill("astrolabe.mp3")
    await audio.dispatch_event("change")
    await page.wait_for_selector("#layer .field-error")
    assert "A link starts with" in await page.locator("#layer .field-error").text_content()
    assert await page.evaluate("window.curate.saves") == saves, await page.evaluate("window.curate.steps")
    # captions that are not on the server are saved (they may be uploaded later) with a warning at the field
    await fill(page, "$.overlays[2].captions.en", "/media/astrolabe.en.vtt")
    await page.wait_for_selector("#layer .field-warning")
    assert "Nothing at /media/astrolabe.en.vtt" in await page.locator("#layer .field-warning").text_content()

    # -- a tour of three stops, each with its overlays and where to stand -----------------------------------------
    await click_and_save(page, "#add-tour")
    await fill(page, "$.tours[0].title.en", "Three travellers")
    await click_and_save(page, "#layer [data-add-stop='tour']")
    await click_and_save(page, "#layer [data-add-stop='tour']")
    view = await page.locator("#view3d").bounding_box()
    titles = ["The celadon vase", "The lustreware jar", "The astrolabe"]
    for s, (title, overlay) in enumerate(zip(titles, ("celadon-vase-label", "lustre-jar-label", "astrolabe-narration"), strict=True)):
        await fill(page, f"$.tours[0].stops[{s}].title.en", title)
        await fill(page, f"$.tours[0].stops[{s}].narration.en", f"Stop {s + 1}: {title.lower()}.")
        await click_and_save(page, f"#layer li[data-stop='stop-{s + 1}'] [data-stop-overlay='{overlay}']")
        await page.click(f"#layer [data-stand='stop-{s + 1}']")
        saves = await page.evaluate("window.curate.saves")
        await page.mouse.click(view["x"] + view["width"] * (0.3 + 0.2 * s), view["y"] + view["height"] * 0.55)
        await page.wait_for_function(f"window.curate.saves > {saves}", timeout=15000)
    stored = (await draft(server, headers))["document"]
    stops = stored["tours"][0]["stops"]
    assert [s["overlays"] for s in stops] == [["celadon-vase-label"], ["lustre-jar-label"], ["astrolabe-narration"]]
    for stop in stops:
        x, y, z = stop["stand"]["position"]
        assert abs(y) < 0.05 and -7 < x < 7 and -5 < z < 9, stop  # on the floor, inside the hall
    # each stand faces its overlay: the vase's is to the visitor's front
    assert stops[0]["stand"]["position"][2] > -2.5

    # -- close the stops' forms, and drag the astrolabe to the front of the tour ----------------------------------
    for s in (1, 2, 3):
        await page.click(f"#layer li[data-stop='stop-{s}'] .stop-body > summary")
    saves = await page.evaluate("window.curate.saves")
    await page.locator("#layer li[data-stop='stop-1'] .stop-head").scroll_into_view_if_needed()
    handle = await page.locator("#layer li[data-stop='stop-3'] .handle").bounding_box()
    target = await page.locator("#layer li[data-stop='stop-1'] .stop-head").bounding_box()
    await page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    await page.mouse.down()
    for step in range(1, 11):
        y = handle["y"] + (target["y"] + target["height"] / 2 - handle["y"]) * step / 10
        await page.mouse.move(handle["x"] + handle["width"] / 2, y)
        await page.wait_for_timeout(30)
    await page.mouse.up()
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=15000)
    stored = (await draft(server, headers))["document"]
    assert [s["id"] for s in stored["tours"][0]["stops"]] == ["stop-3", "stop-1", "stop-2"]
    await page.evaluate("document.querySelector('#side').scrollTop = 0")
    await page.screenshot(path=str(IMAGES / "curate-tours.png"))

    # -- publish, and a visitor plays the tour in the new order -----------------------------------------------------
    saves = await page.evaluate("window.curate.saves")
    await page.click("#publish")
    await page.wait_for_function("window.curate.status === 'published'", timeout=30000)
    visitor = await visit()
    await visitor.join(server.http, "tour-demo", "Omar")
    panel = visitor.page.locator("#tour")
    await panel.wait_for(state="visible")
    await visitor.page.click("#tour .tour-body > button")
    await visitor.page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")
    assert "The astrolabe" in await visitor.page.text_content("#tour h2")
    await visitor.page.wait_for_function("thirdspace.tour().shown.includes('astrolabe-narration')")
    await visitor.page.click("#tour .row button >> nth=1")
    await visitor.page.wait_for_function("thirdspace.tour().tour.index === 1")
    assert "The celadon vase" in await visitor.page.text_content("#tour h2")
    await visitor.page.wait_for_function("thirdspace.tour().shown.includes('celadon-vase-label')")
    await visitor.page.click("#tour .row button >> nth=1")
    await visitor.page.wait_for_function("thirdspace.tour().tour.index === 2")
    assert "The lustreware jar" in await visitor.page.text_content("#tour h2")
    assert not [e for e in visitor.errors if "favicon" not in e], visitor.errors

    # -- the reordering is one undoable step ----------------------------------------------------------------------
    saves = await page.evaluate("window.curate.saves")
    await page.click("#undo")
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=15000)
    stored = (await draft(server, headers))["document"]
    assert [s["id"] for s in stored["tours"][0]["stops"]] == ["stop-1", "stop-2", "stop-3"]


async def draft(server, headers: dict) -> dict:
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/scenes/tour-demo") as response:
            assert response.status == 200
            return await response.json()
