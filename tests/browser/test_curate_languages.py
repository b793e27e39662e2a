"""Every language of the scene in the curator's node panel: a Japanese name that exists on one node only is
shown and edited there, every other node shows the Japanese field as missing, and a language added to the
scene gives every text an empty field in it, kept across a reload. Desktop and phone widths."""

from __future__ import annotations

import aiohttp

from tests.browser.curate_helpers import sign_in
from tests.conftest import PROJECT_ROOT
from thirdspace.web.keys import DB

IMAGES = PROJECT_ROOT / "docs" / "images"


def field(node: str | None, key: str, language: str) -> str:
    path = f"nodes.{node}.{key}" if node else key
    return f"#texts [data-path='{path}'][data-language='{language}']"


async def test_every_language_of_the_scene_is_shown_missing_marked_and_a_new_one_reaches_every_text(server, visit):
    _, token = await server.app[DB].add_user("Haruto Sato", "curator")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.http}/api/curate/scenes", json={"copy_from": "gallery", "id": "languages-demo"}) as response:
            assert response.status == 201
            document = (await response.json())["document"]
    assert document["title"].keys() == {"en", "fr", "ar", "zh", "sw"}  # no Japanese title: only the pagoda's name is Japanese
    assert [n["id"] for n in document["nodes"] if "ja" in n.get("name", {})] == ["pagoda-model"]

    curator = await visit(viewport={"width": 1400, "height": 820})
    page = curator.page
    await sign_in(page, server, token, "languages-demo")

    # the scene's texts already have a Japanese field, because a node's name is Japanese
    assert await page.locator(field(None, "title", "ja")).count() == 1
    # the one node with a Japanese name shows it, and it can be edited
    await page.click("#tree button[data-node='pagoda-model']")
    japanese = page.locator(field("pagoda-model", "name", "ja"))
    assert await japanese.input_value() == document["nodes"][[n["id"] for n in document["nodes"]].index("pagoda-model")]["name"]["ja"]
    await japanese.fill("五重塔の模型")
    await japanese.dispatch_event("change")
    await page.wait_for_function("window.curate.saves >= 1", timeout=10000)
    # another node has the Japanese field too, empty and marked missing
    await page.click("#tree button[data-node='celadon-vase']")
    assert await page.locator(field("celadon-vase", "name", "ja")).input_value() == ""
    assert "No name in ja yet." in await page.locator("#texts").text_content()
    assert await page.locator(field("celadon-vase", "name", "ar")).get_attribute("dir") == "rtl"

    # back to the scene: add Korean; a malformed tag is refused at the field, nothing saved
    await page.click("#tree button[data-node='']")
    await page.fill("#add-language", "korean!")
    await page.click("#add-language-button")
    assert "A language tag is" in await page.locator("#texts .add-language .missing").text_content()
    saves = await page.evaluate("window.curate.saves")
    await page.fill("#add-language", "ko")
    await page.click("#add-language-button")
    await page.wait_for_function(f"window.curate.saves > {saves}", timeout=10000)
    await page.wait_for_selector(field(None, "title", "ko"))
    await page.click("#tree button[data-node='stele']")
    assert await page.locator(field("stele", "name", "ko")).input_value() == ""
    await page.evaluate("document.querySelector('#side').scrollTop = 0")
    await page.screenshot(path=str(IMAGES / "curate-languages.png"))

    # kept in the draft, so it is still there after a reload
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.http}/api/curate/scenes/languages-demo") as response:
            stored = (await response.json())["document"]
    assert stored["languages"] == ["ko"]
    assert next(n for n in stored["nodes"] if n["id"] == "pagoda-model")["name"]["ja"] == "五重塔の模型"
    await page.reload()
    await page.wait_for_function("window.curate.status === 'ready'", timeout=30000)
    await page.click("#tree button[data-node='case']")
    assert await page.locator(field("case", "name", "ko")).count() == 1

    # a phone-width window: the language fields and the adder stay inside the screen
    phone = await visit(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    await sign_in(phone.page, server, token, "languages-demo")
    adder = await phone.page.locator("#add-language").bounding_box()
    assert adder is not None and adder["x"] >= 0 and adder["x"] + adder["width"] <= 390
