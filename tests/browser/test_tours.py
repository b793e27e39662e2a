"""Tours in the page: self-guided with resume and language fallback; a guide leading a visitor."""

from __future__ import annotations

from thirdspace.web.keys import DB


async def test_a_self_guided_tour_resumes_and_falls_back_to_the_scene_language(server, visit):
    visitor = await visit()
    page = visitor.page
    await visitor.join(server.http, "gallery", "Amani", "sw")
    panel = page.locator("#tour")
    await panel.wait_for(state="visible")
    await page.click("#tour .tour-body > button")  # the tour
    await page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.index === 0")
    assert "Welcome" in await panel.text_content()  # no Swahili texts yet: English, with a note
    assert await panel.locator(".fallback").count() >= 1
    await page.click("#tour .row button >> nth=1")  # next
    await page.click("#tour .row button >> nth=1")
    await page.wait_for_function("thirdspace.tour().tour.index === 2")
    assert "lustreware" in (await panel.text_content()).lower()
    assert "jar-label" in await page.evaluate("thirdspace.tour().shown")
    # The list of the stop's overlays is in the page, for screen readers.
    assert await page.locator("#tour ul.stop-overlays li").count() >= 1
    await page.click("#tour .row button >> nth=1")
    await page.wait_for_function("thirdspace.tour().shown.includes('astrolabe-model')")  # a turning reconstruction
    await page.click("#tour .row button >> nth=0")  # back to stop 3
    # Coming back later resumes where the visitor left off.
    await visitor.join(server.http, "gallery", "Amani", "sw")
    await page.click("#tour .tour-body > button")
    await page.wait_for_function("thirdspace.tour().tour.index === 2")
    assert visitor.errors == []


async def test_a_guide_leads_a_visitor_from_stop_to_stop(server, visit):
    _, token = await server.app[DB].add_user("Guide Nadia", "guide")
    guide = await visit()
    response = await guide.page.request.post(f"{server.http}/api/session", data={"token": token})
    assert response.ok  # the page's WebSocket now carries the guide's session cookie
    await guide.join(server.http, "gallery", "Nadia", "en")
    member = await visit()
    await member.join(server.http, "gallery", "Tomás", "es")

    await guide.page.click("#tour button.quiet >> nth=0")  # lead as guide
    await guide.page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.leading")
    join = member.page.locator("#tour button", has_text="Nadia")
    await join.click()
    await member.page.wait_for_function("thirdspace.tour().tour && thirdspace.tour().tour.guided && thirdspace.tour().tour.index === 0")
    assert await member.page.locator("#tour .row button >> nth=1").is_disabled()  # members follow, the guide moves
    await guide.page.click("#tour .row button >> nth=1")
    await member.page.wait_for_function("thirdspace.tour().tour.index === 1", timeout=5000)
    await member.page.wait_for_function("thirdspace.tour().way")  # the way to where the stop is seen from
    assert "celadon" in (await member.page.text_content("#tour h2")).lower()  # no Spanish yet: the scene language
    # The guide hands the lead on; the member now moves the group.
    await guide.page.click("#tour button:has-text('Hand the lead to')")
    await member.page.wait_for_function("thirdspace.tour().tour.leading", timeout=5000)
    await member.page.click("#tour .row button >> nth=1")
    await guide.page.wait_for_function("thirdspace.tour().tour.index === 2", timeout=5000)
    assert guide.errors == [] and member.errors == []


async def test_a_tour_led_in_another_room_takes_the_visitor_there(server, visit):
    """The small scene's first room is full; a guide leads in the second: a visitor in the first is offered the
    tour, and joining it moves the page into the guide's room."""
    from thirdspace.client import ThirdSpaceClient

    _, token = await server.app[DB].add_user("Guide Idris", "guide")
    async with await ThirdSpaceClient.connect(server.ws, "tiny", "Ama") as ama:
        member = await visit()
        me = await member.join(server.http, "tiny", "Bo", "en")
        assert me["room"] == ama.room  # the two seats of the first room
        async with await ThirdSpaceClient.connect(server.ws, "tiny", "Idris", token=token) as guide:
            assert guide.room != me["room"]
            await guide.send({"type": "tour", "action": "start", "tour": "travelling-objects"})
            offer = await ama.wait_for(lambda c: [m for m in c.messages if m.get("type") == "tour_available"])
            assert offer[0]["room"] == guide.room and offer[0]["name"] == "Idris"
            await member.page.click("#tour button:has-text('Idris')")
            await member.page.wait_for_function(
                f"thirdspace.room === '{guide.room}' && thirdspace.tour().tour && thirdspace.tour().tour.guided"
            )
            joined = await guide.wait_for(lambda c: [m for m in c.messages if m.get("type") == "tour_state" and m["members"]])
            assert joined[-1]["members"] == [await member.page.evaluate("thirdspace.visitorId")]
            await ama.wait_for(lambda c: [m for m in c.messages if m.get("type") == "leave"])  # Bo left the first room
    assert member.errors == []
