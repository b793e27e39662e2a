"""Drafted translations in the curator page, in real Chromium against a LibreTranslate-protocol server started here:
the curator drafts a language from the scene's own texts, the drafts appear in their fields and wait in the Review
tab grouped by language, each beside its source; approving one counts it as approved in the language report.
At a desktop size, a phone size, and a phone in Arabic (right to left, no control overlapping or off the page)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.browser.curate_helpers import sign_in
from tests.browser.test_curate_rtl import VIEWPORTS, arabic_everywhere, layout_ok
from tests.conftest import PROJECT_ROOT, RunningServer, start_server
from tests.curate.conftest import fresh_data_dir
from tests.curate.test_drafted_translations import Backend
from thirdspace.config import Settings
from thirdspace.scenes.editing import text_paths
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"
CASES = {"desktop": ("desktop", "en"), "phone": ("phone", "en"), "phone-arabic": ("phone", "ar")}


@pytest.fixture(scope="module")
async def translating(server, scenes_dir, tmp_path_factory) -> AsyncIterator[RunningServer]:
    backend = Backend()
    url = await backend.start()
    data = fresh_data_dir(server, tmp_path_factory.mktemp("translating-page"))
    environ = {"THIRDSPACE_TRANSLATOR": "libretranslate", "THIRDSPACE_TRANSLATOR_URL": url}
    runner, running = await start_server(Settings.load(environ=environ, scenes_dir=scenes_dir, data_dir=data))
    yield running
    await runner.cleanup()
    await backend.runner.cleanup()


@pytest.mark.parametrize("case", CASES)
async def test_a_curator_drafts_swahili_and_reviews_it_beside_the_english(translating, visit, case):
    device, language = CASES[case]
    server = translating
    _, token = await server.app[DB].add_user(f"Amani Njoroge ({case})", "curator")
    scene = f"drafted-{case}"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "caravanserai", "id": scene}) as response:
            assert response.status == 201
            english = {path: texts["en"] for path, texts in text_paths((await response.json())["document"]) if "en" in texts}
    curator = await visit(**VIEWPORTS[device])
    page = curator.page
    width = VIEWPORTS[device]["viewport"]["width"]
    await page.goto(f"{server.http}/curate?scene={scene}&lang={language}")
    await sign_in(page, server, token)

    # The scene's own texts end with the drafter: a tag that is not one is refused there, and nothing is saved.
    drafter = page.locator("#texts .drafter")
    await drafter.locator("input").fill("swahili!")
    await drafter.locator("button").click()
    assert "[A-Za-z]" not in await drafter.locator(".missing").text_content()  # the rule, in words
    assert await page.evaluate("window.curate.saves") == 0
    await drafter.locator("input").fill("sw")
    await drafter.locator("button").click()
    await page.wait_for_function("window.curate.saves >= 1", timeout=30000)
    for path in ("title", "description"):
        field = page.locator(f"#texts [data-path='{path}'][data-language='sw']")
        assert await field.input_value() == f"<sw> {english[path]}"
    status = await page.locator("#save-status").text_content()
    assert str(len(english)) in status and "sw" in status
    box = await drafter.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1

    # Review: one group for the scene's Swahili, every draft beside its English source.
    await page.click("#tabs button[data-tab='review']")
    group = page.locator(f"#reviews li.group[data-group='{scene} sw']")
    await group.wait_for(timeout=10000)
    assert str(len(english)) in await group.text_content()
    pairs = page.locator(f"#reviews li[data-scene='{scene}'] .side-by-side")
    assert await pairs.count() == len(english)
    first = pairs.first
    assert await first.locator("blockquote[lang='en']").count() == 1 and await first.locator("blockquote[lang='sw']").count() == 1
    for i in range(await pairs.count()):
        pair = await pairs.nth(i).bounding_box()
        assert pair is not None and pair["x"] >= 0 and pair["x"] + pair["width"] <= width + 1
    if case == "desktop":
        await page.screenshot(path=str(IMAGES / "curate-drafted-translations.png"))
    if language == "ar":
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        await arabic_everywhere(page, ["#reviews li.group", "#reviews button"])
        await layout_ok(page, "review with drafted translations", root="#side")
        if device == "phone":
            await page.screenshot(path=str(IMAGES / "curate-drafted-translations-ar-phone.png"))

    # Approve the first: the queue shrinks, and the language report counts it.
    await page.locator(f"#reviews li[data-scene='{scene}'] button").first.click()
    await page.wait_for_function(
        f"document.querySelectorAll(\"#reviews li[data-scene='{scene}'] .side-by-side\").length === {len(english) - 1}", timeout=10000
    )
    await page.click("#tabs button[data-tab='history']")
    counts = f"human:0 machine_approved:1 machine_pending:{len(english) - 1} machine_rejected:0 missing:0"
    await page.wait_for_selector(f"#languages li[data-language='sw'] .text-counts[data-counts='{counts}']", timeout=10000)
    assert curator.errors == []
