"""The page streams a scene's assets lowest level first and labels generated objects."""

from __future__ import annotations

import aiohttp


async def test_lowest_levels_arrive_first_then_nearby_assets_refine(server, visit):
    async with aiohttp.ClientSession() as http, http.get(f"{server.http}/api/scenes/caravanserai/manifest") as response:
        manifest = await response.json()
    lowest = {entry["id"]: len(entry["levels"]) - 1 for entry in manifest["assets"]}
    visitor = await visit()
    page = visitor.page
    await visitor.join(server.http, "caravanserai", "Streamer")
    # Nearby assets with finer levels get them within a few seconds.
    await page.wait_for_function("thirdspace.assets().filter(a => a.levels > 1 && a.level === 0).length >= 3", timeout=20000)
    events = await page.evaluate("thirdspace.assetEvents()")
    first = events[: len(lowest)]
    assert {e["asset"]: e["level"] for e in first} == lowest  # every asset's lowest level came first
    assert all(e["level"] < lowest[e["asset"]] for e in events[len(lowest) :])  # then only refinements
    assert len(events) > len(lowest)
    progress = await page.evaluate("thirdspace.loadBytes")
    assert progress["total"] == manifest["bytes"]["lowest"] and progress["loaded"] == progress["total"]
    timings = await page.evaluate("thirdspace.loadTimings")
    assert timings["lowestVisibleMs"] > 0
    assert visitor.errors == []


async def test_generated_objects_are_labelled_and_explain_themselves(server, visit):
    visitor = await visit()
    page = visitor.page
    await visitor.join(server.http, "gallery", "Reader")
    label = page.locator(".generated-label").first
    await label.wait_for(state="visible", timeout=10000)
    assert await label.text_content() == "generated"
    assert len(await page.evaluate("thirdspace.labels()")) >= 3
    await label.click()
    panel = page.locator("#asset-info")
    await panel.wait_for(state="visible")
    text = await panel.text_content()
    assert "algorithmicMedia" in text and "Recipe" in text and "Seed" in text and "Third Space demo scenes" in text
    await page.click("#asset-info .close")
    await panel.wait_for(state="hidden")
    # The badge lists everything generated, set pieces included.
    badge = page.locator("#generated-badge")
    assert (await badge.text_content()).startswith("generated: ")
    await badge.click()
    await panel.wait_for(state="visible")
    assert "hall" in await panel.text_content()
    assert visitor.errors == []
