"""A new scene made in the curator page, in real Chromium: a malformed id is refused at its field before anything is
sent, a taken one by the server at the same field; an empty scene in French opens with nothing in it, and an asset
added to it stands on its floor; a copy of the gallery under a new id and title has all of the gallery's nodes.
Both are drafts, unpublished."""

from __future__ import annotations

import aiohttp

from tests.browser.curate_helpers import sign_in
from thirdspace.web.keys import DB


async def fill_new_scene(page, start: str, scene_id: str, title: str, language: str | None = None) -> None:
    await page.click("#new-scene")
    await page.wait_for_selector("#new-scene-dialog[open]")
    await page.select_option("#new-scene-start", start)
    await page.fill("#new-scene-id", scene_id)
    await page.fill("#new-scene-name", title)
    if language is not None:
        await page.fill("#new-scene-language", language)
    await page.click("#new-scene-form button[type=submit]")


async def test_a_new_scene_empty_or_copied_is_made_from_the_page(server, visit):
    _, token = await server.app[DB].add_user("Inés Romero", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    curator = await visit(viewport={"width": 1400, "height": 820})
    page = curator.page
    await sign_in(page, server, token, "gallery")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method) if r.url.endswith("/api/curate/scenes") else None)

    # -- refused: a malformed id in the page, a taken one by the server, each at the id field -----------------------
    await fill_new_scene(page, "", "Empty Room!", "Salle vide", "fr")
    error = page.locator("#new-scene-form .field-error")
    await error.wait_for()
    assert "lower-case" in await error.text_content()
    assert requests == []  # nothing was sent
    await page.fill("#new-scene-id", "gallery")
    await page.click("#new-scene-form button[type=submit]")
    await page.wait_for_function("document.querySelector('#new-scene-form .field-error')?.textContent.includes('already')")
    assert await page.locator("#new-scene-id").get_attribute("aria-invalid") == "true"
    assert "POST" in requests

    # -- an empty scene, in French: it opens with nothing in it --------------------------------------------------
    await page.fill("#new-scene-id", "salle-vide")
    await page.click("#new-scene-form button[type=submit]")
    await page.wait_for_function("window.curate.scene === 'salle-vide' && window.curate.status === 'ready'", timeout=20000)
    assert await page.locator("#new-scene-dialog").get_attribute("open") is None
    assert "salle-vide" in page.url
    await page.wait_for_function("document.querySelectorAll('#tree button[data-node]').length === 1")  # the scene itself
    assert await page.locator("#scene-select").input_value() == "salle-vide"
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/scenes/salle-vide") as response:
            assert response.status == 200
            body = await response.json()
    assert body["document"]["default_language"] == "fr"
    assert body["document"]["title"] == {"fr": "Salle vide"}
    assert body["document"]["nodes"] == []
    assert body["scene"]["published_revision"] is None

    # an asset from the library stands on the empty scene's floor, inside its bounds
    await page.click("#tabs button[data-tab='library']")
    saves = await page.evaluate("window.curate.saves")
    await page.click("#assets li[data-asset='plinth'] button")
    await page.wait_for_function(f"window.curate.saves > {saves} && window.curate.selected === 'plinth'", timeout=20000)
    await page.wait_for_function("window.curate.worldBox('plinth') !== null")
    box = await page.evaluate("window.curate.worldBox('plinth')")
    assert abs(box["min"][1]) < 0.02, box
    bounds = body["document"]["bounds"]
    assert all(bounds["min"][i] <= box["min"][i] and box["max"][i] <= bounds["max"][i] for i in (0, 2)), (box, bounds)

    # -- a copy of the gallery, under a new id and title ----------------------------------------------------------
    await fill_new_scene(page, "gallery", "gallery-annex", "Gallery annex")
    await page.wait_for_function("window.curate.scene === 'gallery-annex' && window.curate.status === 'ready'", timeout=20000)
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/scenes/gallery-annex") as response:
            copy = (await response.json())["document"]
        async with http.get(f"{server.http}/api/curate/scenes/gallery") as response:
            gallery = (await response.json())["document"]
    assert [n["id"] for n in copy["nodes"]] == [n["id"] for n in gallery["nodes"]]
    assert copy["title"] == {**gallery["title"], gallery["default_language"]: "Gallery annex"}
    await page.wait_for_function(f"document.querySelectorAll('#tree button[data-node]').length === {len(gallery['nodes']) + 1}")
    # the one refusal asked for, the taken id, is the only thing the browser logged
    assert curator.errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]
