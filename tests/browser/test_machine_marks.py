"""Visitors see which curated texts a machine translated: the scene title in the HUD, an overlay panel, a tour
stop's narration (in the page and on the headset menu), in a desktop and a phone viewport, left to right and
right to left. A machine translation still waiting for a person is not shown at all, and texts a person wrote
carry no mark. The screenshots in docs/assistance.md are taken here."""

from __future__ import annotations

import itertools

import aiohttp

from tests.browser.test_xr_menu import IMAGES, choose, enter_vr, headset, menu, open_with_button
from tests.curate.conftest import Api
from tests.curate.test_authoring import copy_scene
from thirdspace.web.keys import DB

STOP = "tours.travelling-objects.stops.welcome"
MACHINE = {  # (path, language) -> the machine's text; approved before publishing
    ("title", "sw"): "Jumba la vitu vya pamoja duniani",
    ("overlays.welcome.text", "sw"): "Karibu. Vitu hivi vilisafiri mbali kabla ya kufika hapa.",
    (f"{STOP}.narration", "sw"): "Karibu kwenye ziara ya vitu vilivyosafiri.",
    (f"{STOP}.narration", "ar"): "مرحبًا بكم في جولة الأشياء المسافرة، من الصين إلى البحر المتوسط.",
}
_curators = itertools.count(1)
PENDING = {("overlays.vase-label.text", "sw"): "Chombo cha seladoni"}  # never approved


async def machine_translated_copy(server) -> str:
    """A published copy of the gallery with MACHINE approved and PENDING still in the queue."""
    _, token = await server.app[DB].add_user(f"Curator Wanjiru {next(_curators)}", "curator")
    async with aiohttp.ClientSession() as http:
        api = Api(http, server.http, token)
        scene, etag = await copy_scene(api, "gallery")
        for (path, language), text in {**MACHINE, **PENDING}.items():
            reply = await api.put(
                f"/api/curate/scenes/{scene}/texts",
                {"path": path, "language": language, "text": text, "machine_translated": True},
                headers={"If-Match": etag},
            )
            assert reply.status == 200, reply.body
            etag = reply.etag
        reviews = (await api.get("/api/curate/reviews?status=pending")).body["reviews"]
        mine = [r for r in reviews if r["scene_id"] == scene]
        assert len(mine) == len(MACHINE) + len(PENDING)
        for review in mine:
            if (review["detail"]["path"], review["detail"]["language"]) in MACHINE:
                decided = await api.post(f"/api/curate/reviews/{review['id']}", {"decision": "approve", "note": ""})
                assert decided.status == 200, decided.body
        published = await api.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": etag})
        assert published.status == 200, published.body
    return scene


async def start_tour(page) -> None:
    await page.locator("#tour").wait_for(state="visible")
    await page.click("#tour .tour-body > button")
    await page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")


async def inside_viewport(page, selector: str) -> bool:
    return await page.eval_on_selector(
        selector,
        "(e) => { const r = e.getBoundingClientRect();"
        " return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight; }",
    )


async def test_machine_translations_are_marked_for_visitors_on_a_desktop_and_a_phone(server, visit):
    scene = await machine_translated_copy(server)

    # Swahili on a desktop. The lobby says how much of the scene a machine made (the 4 approved texts).
    v = await visit()
    page = v.page
    await page.goto(f"{server.http}/?scene={scene}&lang=sw")
    made = page.locator("#scene-made")
    await made.wait_for(state="visible")
    listed = await (await page.request.get(f"{server.http}/api/scenes")).json()
    share = next(s["made"] for s in listed["scenes"] if s["id"] == scene)
    assert share["machine_texts"] == len(MACHINE) and share["generated_objects"] >= 1
    objects, texts = f"vitu {share['generated_objects']} kati ya {share['objects']}", f"maandishi 4 kati ya {share['texts']}"
    expected = f"Imetengenezwa na mashine: {objects}, {texts}"
    assert await made.text_content() == expected
    await v.join(server.http, scene, "Amani", "sw")
    title = page.locator("#title")
    assert await title.text_content() == MACHINE[("title", "sw")]
    assert await title.get_attribute("data-machine") == "tafsiri ya mashine"
    await start_tour(page)
    # The first stop's panel: its element says so, whether or not the camera faces it now.
    assert (await page.evaluate("thirdspace.tour().marked")) == {"welcome": "tafsiri ya mashine"}
    tour = page.locator("#tour")
    assert MACHINE[(f"{STOP}.narration", "sw")] in await tour.text_content()
    assert await tour.locator("h2 ~ .machine-mark").count() == 1  # the stop's own mark
    assert await tour.locator("ul.stop-overlays .machine-mark").count() == 1  # and the panel's, in the list
    await page.screenshot(path=str(IMAGES / "visitor-machine-translation.png"))
    await page.click("#tour .row button >> nth=1")  # the next stop: English, a fallback, no machine mark
    await page.wait_for_function("thirdspace.tour().tour.index === 1")
    assert await tour.locator(".fallback").count() >= 1 and await tour.locator(".machine-mark").count() == 0
    # The vase's Swahili label still waits for a person: not shown, and so not marked either.
    assert PENDING[("overlays.vase-label.text", "sw")] not in await tour.text_content()
    assert "celadon" in (await tour.locator("ul.stop-overlays").text_content()).lower()
    assert v.errors == []

    # Arabic on a phone: right to left, the narration marked in Arabic, the title (a person's) not.
    phone = await visit(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.page
    await phone.join(server.http, scene, "Layla", "ar")
    assert await page.get_attribute("#title", "data-machine") is None
    await start_tour(page)
    mark = page.locator("#tour .machine-mark")
    assert await mark.text_content() == "ترجمة آلية"
    assert await page.evaluate("getComputedStyle(document.querySelector('#tour')).direction") == "rtl"
    await mark.scroll_into_view_if_needed()  # the phone's tour panel scrolls
    assert await inside_viewport(page, "#tour .machine-mark")
    await page.screenshot(path=str(IMAGES / "visitor-machine-translation-ar-phone.png"))
    assert phone.errors == []


async def test_in_a_headset_the_tour_menu_marks_a_machine_translated_stop(server, visit):
    scene = await machine_translated_copy(server)
    v = await visit(init_scripts=headset())
    page = v.page
    await v.join(server.http, scene, "Baraka", "sw")
    await enter_vr(page)
    await open_with_button(page)
    await choose(page, "tab:tour")
    start = next(e for e in (await menu(page))["elements"] if e.startswith("tour:start:"))
    await choose(page, start)
    await page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")
    await page.wait_for_function("thirdspace.xrMenu().labels.some((l) => l.id === 'tour:machine' && l.text === 'tafsiri ya mashine')")
    await choose(page, "tour:next")
    await page.wait_for_function("thirdspace.tour().tour.index === 1")
    await page.wait_for_function("!thirdspace.xrMenu().labels.some((l) => l.id === 'tour:machine')")
    assert v.errors == []
