"""A curator signs in, moves a node with the gizmo and publishes; a visitor's open page sees it move.

The screenshots in docs/images/ that docs/curating.md shows are taken here."""

from __future__ import annotations

import aiohttp

from tests.browser.curate_helpers import sign_in
from tests.conftest import PROJECT_ROOT
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"


async def test_a_curator_moves_a_node_with_the_gizmo_and_visitors_see_it_live(server, visit):
    IMAGES.mkdir(exist_ok=True)
    _, token = await server.app[DB].add_user("Amina Diallo", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "curate-demo"}) as response:
            assert response.status == 201
            etag = response.headers["ETag"]
        async with http.post(f"{server.http}/api/curate/scenes/curate-demo/publish", headers={"If-Match": etag}) as response:
            assert response.status == 200

    visitor = await visit()
    await visitor.join(server.http, "curate-demo", "Visitor")
    await visitor.page.evaluate("window.__notReloaded = true")
    before = await visitor.page.evaluate("thirdspace.nodes()['plinth-2'].position")

    curator = await visit(viewport={"width": 1400, "height": 820})
    page = curator.page
    await page.goto(f"{server.http}/curate?scene=curate-demo")
    await page.wait_for_selector("#signin:not([hidden])")
    await page.screenshot(path=str(IMAGES / "curate-sign-in.png"))
    await sign_in(page, server, token)
    assert await page.text_content("#who") == "Amina Diallo (curator)"

    await page.click("#tree button[data-node='plinth-2']")
    await page.wait_for_timeout(300)
    start = await page.evaluate("window.curate.axisPoint('X', 0.45)")
    await page.mouse.move(start["x"], start["y"])
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(start["x"] + 9 * step, start["y"])
        await page.wait_for_timeout(20)
    await page.mouse.up()
    await page.wait_for_function("window.curate.saves >= 1", timeout=10000)
    after = await page.evaluate("window.curate.nodePosition('plinth-2')")
    assert after[0] > before[0] + 0.3 and after[1:] == before[1:]  # dragged along x only
    await page.screenshot(path=str(IMAGES / "curate-gizmo.png"))

    # Not published yet: the visitor still sees the old place.
    assert await visitor.page.evaluate("thirdspace.nodes()['plinth-2'].position") == before
    await page.click("#publish")
    await page.wait_for_function("window.curate.status === 'published'", timeout=10000)
    assert "visitors see it now" in await page.text_content("#save-status")
    await visitor.page.wait_for_function(f"Math.abs(thirdspace.nodes()['plinth-2'].position[0] - {after[0]}) < 1e-6", timeout=5000)
    assert await visitor.page.evaluate("window.__notReloaded") is True  # the same page, not a reload
    await visitor.page.screenshot(path=str(IMAGES / "curate-visitor-after-publish.png"))

    # The library: a recipe with its parameters and a preview, added to the scene as a pending object.
    await page.click("#tabs button[data-tab='library']")
    await page.select_option("#recipe", "pagoda")
    await page.fill("#recipe-form input[data-key='tiers']", "3")
    await page.click("#recipe-preview")
    await page.wait_for_function("window.curate.previewed === 'pagoda'", timeout=10000)
    await page.screenshot(path=str(IMAGES / "curate-library.png"))
    await page.click("#recipe-add")
    await page.wait_for_function("window.curate.saves >= 2", timeout=20000)
    await page.wait_for_selector("#tree .pending")
    await page.click("#tabs button[data-tab='review']")
    review = page.locator("#reviews li[data-review]").first
    await review.wait_for()
    assert "pagoda" in await review.text_content()
    await page.screenshot(path=str(IMAGES / "curate-review.png"))
    await review.locator("input").fill("Proportions checked against the plan.")
    await review.locator("button", has_text="Approve").click()
    await page.wait_for_selector("#reviews li.muted")  # "Nothing is waiting."
    await page.click("#tabs button[data-tab='history']")
    await page.wait_for_selector("#revisions li[data-revision='3']")
    assert await page.locator("#languages li[data-language='en']").count() == 1  # the language report
    await page.screenshot(path=str(IMAGES / "curate-history.png"))
    assert curator.errors == [] and visitor.errors == []
