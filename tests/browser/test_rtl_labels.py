"""The "generated" labels sit at their objects in a right-to-left page exactly as in a left-to-right one: each label
is drawn within a few pixels of where its object's top projects with the camera of the frame."""

from __future__ import annotations

import math

import pytest

TOLERANCE_PX = 40

# Each label showing: its drawn centre and its anchor's projection in page pixels (the canvas fills the window).
LABEL_OFFSETS = """() => {
  const view = document.querySelector('#view').getBoundingClientRect();
  return thirdspace.labelPlaces().map(({node, anchor: [x, y, z], box}) => ({
    node, z,
    anchor: [view.left + (x + 1) / 2 * view.width, view.top + (1 - y) / 2 * view.height],
    shown: [box.left + box.width / 2, box.top + box.height / 2],
  }));
}"""


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("size", [(1280, 720), (390, 844)])
async def test_generated_labels_are_drawn_at_their_objects(server, visit, language, size):
    width, height = size
    v = await visit(viewport={"width": width, "height": height})
    page = v.page
    await v.join(server.http, "gallery", "Reader", language)
    assert await page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    await page.wait_for_function("thirdspace.labelPlaces().length >= 3", timeout=15000)
    await page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    places = [p for p in await page.evaluate(LABEL_OFFSETS) if -1 < p["z"] < 1]  # in front of the camera
    assert len(places) >= 3, places
    for place in places:
        off = math.dist(place["anchor"], place["shown"])
        assert off < TOLERANCE_PX, place
    # and on the screen, where the visitor can press them
    on_screen = [p for p in places if 0 <= p["shown"][0] <= width and 0 <= p["shown"][1] <= height]
    assert on_screen, places
    assert await page.locator(".generated-label").first.text_content() == ("مُولَّد" if language == "ar" else "generated")
    assert v.errors == []
