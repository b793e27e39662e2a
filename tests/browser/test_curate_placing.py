"""Placing things in the curator studio, in real Chromium: a new object stands on the floor in front of the camera,
inside the bounds, shown no bigger than the footprint and clear of the spawn points; a snapped drag lands on the
grid and back on the surface; several nodes are selected, duplicated and deleted; every edit is undone and redone,
across a reload of the page, back to the scene as it began; an edit someone else changed since is not undone."""

from __future__ import annotations

import math

import aiohttp

from tests.browser.curate_helpers import sign_in
from tests.conftest import PROJECT_ROOT
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"
CM = 0.02


async def draft_of(server, headers: dict, scene: str) -> dict:
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/scenes/{scene}") as response:
            assert response.status == 200
            return await response.json()


async def signed_in(visit, server, token: str, scene: str, **viewport):
    curator = await visit(**viewport)
    page = curator.page
    await sign_in(page, server, token, scene)
    return page


async def saved(page, saves: int) -> int:
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=20000)
    await page.wait_for_function("window.curate.status === 'ready'", timeout=20000)
    await page.wait_for_timeout(200)
    return await page.evaluate("window.curate.saves")


async def test_place_snap_select_duplicate_delete_and_undo_everything_across_a_reload(server, visit):
    _, token = await server.app[DB].add_user("Amara Okafor", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "placing-demo"}) as response:
            assert response.status == 201
            original = (await response.json())["document"]
    page = await signed_in(visit, server, token, "placing-demo", viewport={"width": 1400, "height": 820})
    assert await page.evaluate("window.curate.steps") == {"undo": [], "redo": []}
    assert await page.locator("#undo").is_disabled()

    # -- add a pagoda from its recipe (5 m wide and 10 m tall as made) in the library ------------------------------
    await page.click("#tabs button[data-tab='library']")
    camera = await page.evaluate("window.curate.cameraPose()")
    await page.select_option("#recipe", "pagoda")
    await page.click("#recipe-add")
    saves = await saved(page, 0)
    await page.wait_for_function("window.curate.selected === 'pagoda'", timeout=10000)
    # the library's thumbnails: drawn from each asset's model when in sight, and kept under the level's sha256
    await page.wait_for_selector("#assets img.thumb[data-drawn]", timeout=60000)
    drawn = await page.evaluate(
        """() => {
            const img = document.querySelector('#assets img.thumb[data-drawn]');
            const canvas = Object.assign(document.createElement('canvas'), {width: img.naturalWidth, height: img.naturalHeight});
            const context = canvas.getContext('2d');
            context.drawImage(img, 0, 0);
            const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let model = 0;  // pixels that are not the background (#2b2f38)
            for (let i = 0; i < pixels.length; i += 4) {
                if (Math.abs(pixels[i] - 0x2b) + Math.abs(pixels[i + 1] - 0x2f) + Math.abs(pixels[i + 2] - 0x38) > 30) model++;
            }
            const kept = localStorage.getItem('thirdspace.curate.thumbnail.' + img.dataset.drawn);
            return {share: model / (pixels.length / 4), kept: kept === img.src};
        }"""
    )
    assert drawn["share"] > 0.03 and drawn["kept"], drawn
    # the library finds it: generated, waiting for review; a search narrows the list by name
    new_asset = (await draft_of(server, headers, "placing-demo"))["document"]["nodes"][-1]["asset"]
    await page.wait_for_selector(f"#assets li[data-asset='{new_asset}']")
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/assets") as response:
            library = (await response.json())["assets"]
    shown_items = "items => items.map(i => i.dataset.asset)"
    await page.select_option("#asset-filter", "generated")
    shown = await page.eval_on_selector_all("#assets > li:not([hidden])", shown_items)
    assert new_asset in shown and sorted(shown) == sorted(a["id"] for a in library if a.get("generated")), shown
    await page.select_option("#asset-filter", "waiting")
    waiting = await page.eval_on_selector_all("#assets > li:not([hidden])", shown_items)
    assert new_asset in waiting and sorted(waiting) == sorted(a["id"] for a in library if a["status"] == "pending"), waiting
    assert "brass-lantern" not in waiting
    await page.select_option("#asset-filter", "all")
    await page.fill("#asset-search", "lantern")
    assert await page.eval_on_selector_all("#assets > li:not([hidden])", "items => items.map(i => i.dataset.asset)") == ["brass-lantern"]
    assert "1 of " in await page.locator("#asset-count").text_content()
    await page.fill("#asset-search", "")
    await page.locator("#assets li[data-asset='caravanserai-arcade']").scroll_into_view_if_needed()
    await page.wait_for_selector("#assets li[data-asset='caravanserai-arcade'] img.thumb[data-drawn]", timeout=60000)
    await page.screenshot(path=str(IMAGES / "curate-assets.png"))
    box = await page.evaluate("window.curate.worldBox('pagoda')")
    size = [box["max"][i] - box["min"][i] for i in range(3)]
    assert abs(box["min"][1] - 0.0) < CM, box  # stands on the hall's floor: not sunk into it, not floating
    assert max(size[0], size[2]) <= 2.0 + CM and size[1] <= 2.5 + CM, size  # fitted to the footprint
    lo, hi = original["bounds"]["min"], original["bounds"]["max"]
    assert all(lo[i] - CM <= box["min"][i] and box["max"][i] <= hi[i] + CM for i in range(3)), box
    centre = [(box["min"][i] + box["max"][i]) / 2 for i in range(3)]
    to_it = [centre[i] - camera["position"][i] for i in range(3)]
    cosine = sum(a * b for a, b in zip(to_it, camera["forward"], strict=True)) / math.hypot(*to_it)
    assert cosine > math.cos(math.radians(20)), cosine  # in front of the camera, near the middle of the view
    for spawn in original["spawn_points"]:
        x, _, z = spawn["position"]
        dx = max(box["min"][0] - x, 0, x - box["max"][0])
        dz = max(box["min"][2] - z, 0, z - box["max"][2])
        assert math.hypot(dx, dz) >= 0.5, (spawn, box)  # nobody spawns inside it
    await page.click("#tabs button[data-tab='node']")
    await page.wait_for_function("document.querySelector('#node-size').textContent.includes('real size')", timeout=10000)
    size_text = await page.locator("#node-size").text_content()
    real_height = float(size_text.split("real size ")[1].split(" × ")[1])
    assert real_height > 2.5, size_text  # the model is bigger than it is shown, and the panel says so

    # -- snap: a drag along x lands on the 0.25 m grid and back on the floor --------------------------------------
    await page.keyboard.press("g")
    assert await page.locator("#snap").get_attribute("aria-pressed") == "true"
    before = await page.evaluate("window.curate.nodePosition('pagoda')")
    start = await page.evaluate("window.curate.axisPoint('X', 0.45)")
    await page.mouse.move(start["x"], start["y"])
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(start["x"] + 11 * step, start["y"] - 2 * step)
        await page.wait_for_timeout(20)
    await page.mouse.up()
    saves = await saved(page, saves)
    after = await page.evaluate("window.curate.nodePosition('pagoda')")
    assert after[0] > before[0] + 0.2, (before, after)
    assert abs(after[0] / 0.25 - round(after[0] / 0.25)) < 1e-6, after  # on the grid
    box = await page.evaluate("window.curate.worldBox('pagoda')")
    assert abs(box["min"][1]) < CM, box  # surface snapping keeps it on the floor
    await page.screenshot(path=str(IMAGES / "curate-placing.png"))

    # -- select two plinths (Shift-click), duplicate them with what stands on them, delete the copies -------------
    await page.click("#tree button[data-node='plinth-1']")
    await page.click("#tree button[data-node='plinth-2']", modifiers=["Shift"])
    assert await page.evaluate("window.curate.selection") == ["plinth-1", "plinth-2"]
    await page.click("#duplicate")
    saves = await saved(page, saves)
    await page.wait_for_function("window.curate.selection.join() === 'plinth-1-copy,plinth-2-copy'", timeout=10000)
    nodes = {n["id"]: n for n in (await draft_of(server, headers, "placing-demo"))["document"]["nodes"]}
    assert nodes["celadon-vase-copy"]["parent"] == "plinth-1-copy" and nodes["lustre-jar-copy"]["parent"] == "plinth-2-copy"
    assert nodes["plinth-1-copy"]["position"][0] == nodes["plinth-1"]["position"][0] + 1.0
    await page.locator("#view3d").focus()
    await page.keyboard.press("Delete")
    saves = await saved(page, saves)
    nodes = {n["id"] for n in (await draft_of(server, headers, "placing-demo"))["document"]["nodes"]}
    assert not {"plinth-1-copy", "plinth-2-copy", "celadon-vase-copy", "lustre-jar-copy"} & nodes
    steps = await page.evaluate("window.curate.steps")
    assert len(steps["undo"]) == 4 and steps["redo"] == [], steps  # add, move, duplicate, delete

    # -- undo the deletion with the keyboard; the copies and what stood on them are back ------------------------
    await page.keyboard.press("Control+z")
    saves = await saved(page, saves)
    nodes = {n["id"] for n in (await draft_of(server, headers, "placing-demo"))["document"]["nodes"]}
    assert {"plinth-1-copy", "plinth-2-copy", "celadon-vase-copy", "lustre-jar-copy"} <= nodes

    # -- the steps survive a reload: redo, then undo everything back to the scene as it began ----------------------
    await page.reload()
    await page.wait_for_function("window.curate.status === 'ready'", timeout=30000)
    steps = await page.evaluate("window.curate.steps")
    assert len(steps["undo"]) == 3 and len(steps["redo"]) == 1, steps
    saves = await page.evaluate("window.curate.saves")
    await page.click("#redo")
    saves = await saved(page, saves)
    nodes = {n["id"] for n in (await draft_of(server, headers, "placing-demo"))["document"]["nodes"]}
    assert "plinth-1-copy" not in nodes
    for _ in range(4):
        await page.click("#undo")
        saves = await saved(page, saves)
    assert await page.locator("#undo").is_disabled()
    back = await draft_of(server, headers, "placing-demo")
    assert back["document"] == original
    assert back["revision"] == 11  # the copy, four edits, an undo, a redo, four undos: each one a revision

    # -- redo the first step (the pagoda again); someone else moves it; undoing it now is refused ----------------
    await page.click("#redo")
    saves = await saved(page, saves)
    revision = (await draft_of(server, headers, "placing-demo"))["revision"]
    async with aiohttp.ClientSession(headers=headers) as http:
        patch = {"position": [0, 0, -4], "message": "moved by a colleague"}
        url = f"{server.http}/api/curate/scenes/placing-demo/nodes/pagoda"
        async with http.patch(url, json=patch, headers={"If-Match": f'"r{revision}"'}) as response:
            assert response.status == 200
    await page.wait_for_function(f"window.curate.revision === {revision + 1}", timeout=20000)
    await page.click("#undo")
    await page.wait_for_function("document.querySelector('#save-status').textContent.includes('Cannot undo')", timeout=10000)
    assert "pagoda was changed since" in await page.locator("#save-status").text_content()
    stored = await draft_of(server, headers, "placing-demo")
    assert stored["revision"] == revision + 1
    assert next(n for n in stored["document"]["nodes"] if n["id"] == "pagoda")["position"] == [0, 0, -4]


async def test_the_toolbar_fits_a_phone_and_a_dropped_asset_lands_where_it_is_dropped(server, visit):
    _, token = await server.app[DB].add_user("Lina Haddad", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "drop-demo"}) as response:
            assert response.status == 201
    page = await signed_in(visit, server, token, "drop-demo", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    width = await page.evaluate("document.documentElement.clientWidth")
    boxes = [await page.locator(f"#tools > button:nth-of-type({i})").bounding_box() for i in range(1, 11)]
    assert all(b and 0 <= b["x"] and b["x"] + b["width"] <= width for b in boxes), boxes
    for i, a in enumerate(boxes):  # no two controls overlap
        for b in boxes[i + 1 :]:
            beside = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            assert beside or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"], (a, b)

    # the guides and the visitor's eye-height view
    assert await page.locator("#guides").get_attribute("aria-pressed") == "true"
    await page.click("#eye-view")
    pose = await page.evaluate("window.curate.cameraPose()")
    assert [round(v, 2) for v in pose["position"]] == [0, 1.6, 3.5] and pose["forward"][2] < -0.99, pose
    await page.click("#eye-view")

    # a drop on the view (the desktop gesture, sent as the browser would) puts the asset under the drop point
    view = await page.locator("#view3d").bounding_box()
    x, y = view["x"] + view["width"] * 0.3, view["y"] + view["height"] * 0.6
    surface = await page.evaluate(f"window.curate.surfaceAt({x}, {y})")
    await page.evaluate(
        f"""() => {{
            const data = new DataTransfer();
            data.setData('application/x-thirdspace-asset', 'plinth');
            const canvas = document.querySelector('#view3d');
            const drop = {{dataTransfer: data, clientX: {x}, clientY: {y}, bubbles: true, cancelable: true}};
            canvas.dispatchEvent(new DragEvent('drop', drop));
        }}"""
    )
    await saved(page, 0)
    await page.wait_for_function("window.curate.selected === 'plinth'", timeout=10000)
    box = await page.evaluate("window.curate.worldBox('plinth')")
    middle = [(box["min"][i] + box["max"][i]) / 2 for i in (0, 2)]
    assert math.hypot(middle[0] - surface["point"][0], middle[1] - surface["point"][2]) < 0.05, (middle, surface)
    assert abs(box["min"][1] - surface["point"][1]) < CM
    await page.screenshot(path=str(IMAGES / "curate-placing-phone.png"))
