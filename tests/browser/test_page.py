"""The web client in real headless Chromium against a real server."""

import asyncio
import io

import numpy as np
from PIL import Image

from thirdspace.client import ThirdSpaceClient

AVATAR = "thirdspace.avatars().find(a => a.id === {id})"


async def test_page_renders_the_scene_without_console_errors(server, visit):
    v = await visit()
    await v.join(server.http, "caravanserai", "Ama")
    await v.page.wait_for_function("thirdspace.framesRendered > 10")
    png = await v.page.locator("#view").screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB").resize((240, 150))
    colours = image.getcolors(maxcolors=240 * 150)
    most_common = max(count for count, _ in colours)
    assert len(colours) > 200, "the canvas looks blank"
    assert most_common < 0.5 * 240 * 150, "one colour fills most of the canvas"
    assert await v.page.text_content("#title") == "Caravanserai courtyard"
    assert v.errors == []


async def test_python_visitor_appears_as_an_avatar_and_moves(server, visit):
    v = await visit()
    me = await v.join(server.http, "gallery", "Browser")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Py", "fr", "#22aa66") as py:
        assert py.room == me["room"]
        for step in range(30):
            await py.send_pose((-1.0 + 0.05 * step, 1.6, 1.0))
            await asyncio.sleep(0.05)
        avatar = await v.page.wait_for_function(
            f"(() => {{ const a = {AVATAR.format(id=py.id)}; return a && a.visible && Math.abs(a.position[0] - 0.45) < 0.01 && a; }})()"
        )
        avatar = await avatar.json_value()
        assert avatar["name"] == "Py"
        assert abs(avatar["position"][1] - 1.6) < 1e-3 and abs(avatar["position"][2] - 1.0) < 1e-3
        assert await v.page.text_content("#count") == "2"
    await v.page.wait_for_function(f"!{AVATAR.format(id=py.id)}")  # gone when they leave
    assert v.errors == []


async def test_chat_between_page_and_python_client_is_text_never_html(server, visit):
    v = await visit()
    me = await v.join(server.http, "gallery", "Ama", "sw")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Py") as py:
        await v.page.fill("#chat-input", "Karibu sana!")
        await v.page.press("#chat-input", "Enter")
        line = await py.wait_for(lambda c: [m for m in c.chat if m["text"] == "Karibu sana!"])
        assert line[0]["from"] == me["id"] and line[0]["name"] == "Ama" and line[0]["language"] == "sw"

        hostile = '<img src=x onerror="window.pwned=1"><b>bold</b>'
        await py.send_chat(hostile)
        last = v.page.locator("#chat-log li").last
        await last.locator(".text").wait_for()
        await v.page.wait_for_function("document.querySelector('#chat-log li:last-child .text').textContent.includes('bold')")
        assert await last.locator(".text").text_content() == hostile
        assert await v.page.locator("#chat-log img, #chat-log b").count() == 0
        assert await v.page.evaluate("window.pwned === undefined")
    assert v.errors == []


async def test_two_tabs_see_each_other_walk(server, visit):
    a, b = await visit(), await visit()
    a_state = await a.join(server.http, "caravanserai", "Tab A")
    await b.join(server.http, "caravanserai", "Tab B")
    await b.page.wait_for_function(f"(() => {{ const x = {AVATAR.format(id=a_state['id'])}; return x && x.visible; }})()")
    start = await b.page.evaluate(f"{AVATAR.format(id=a_state['id'])}.position")
    await a.page.bring_to_front()  # a background tab pauses its animation loop, as browsers do
    # W is held until B sees A walk: how far a second of walking goes depends on the frame rate, which on a
    # machine without a GPU can be a few frames a second while a scene loads.
    await a.page.keyboard.down("KeyW")
    avatar_a = AVATAR.format(id=a_state["id"])
    walked = f"Math.hypot({avatar_a}.position[0] - {start[0]}, {avatar_a}.position[2] - {start[2]})"
    moved = await b.page.wait_for_function(f"{walked} > 0.8 && {avatar_a}.position")
    await a.page.keyboard.up("KeyW")
    assert await moved.json_value()
    assert a.errors == [] and b.errors == []


async def watch_page_visitor(client: ThirdSpaceClient, visitor_id: int) -> np.ndarray:
    parts = await client.wait_for(lambda c: c.poses.get(visitor_id))
    return parts[0, :3].copy()


async def test_click_on_the_floor_walks_there(server, visit):
    v = await visit()
    me = await v.join(server.http, "gallery", "Clicker")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Watcher") as watcher:
        start = await watch_page_visitor(watcher, me["id"])
        box = await v.page.locator("#view").bounding_box()
        await v.page.mouse.click(box["width"] * 0.5, box["height"] * 0.8)  # the floor ahead
        moved = await watcher.wait_for(lambda c: np.linalg.norm(c.poses[me["id"]][0, [0, 2]] - start[[0, 2]]) > 0.5)
        assert moved
        end = watcher.poses[me["id"]][0, :3]
        assert end[2] < start[2]  # walked forward (towards -Z from the spawn point)
        assert abs(end[1] - start[1]) < 1e-3  # feet stay on the floor
    assert v.errors == []


async def test_touch_joystick_walks_and_drag_looks(server, visit):
    v = await visit(has_touch=True, is_mobile=True)
    me = await v.join(server.http, "gallery", "Phone")
    joystick = v.page.locator("#joystick")
    assert await joystick.is_visible()  # coarse pointer: the joystick is shown
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Watcher") as watcher:
        start = await watch_page_visitor(watcher, me["id"])
        box = await joystick.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        await v.page.mouse.move(cx, cy)
        await v.page.mouse.down()
        await v.page.mouse.move(cx, cy - 45, steps=5)  # push the stick forward
        await v.page.wait_for_timeout(1000)
        await v.page.mouse.up()
        moved = await watcher.wait_for(lambda c: start[2] - c.poses[me["id"]][0, 2] > 0.7)
        assert moved
        heading_before = watcher.poses[me["id"]][0, 3:7].copy()
        await v.page.mouse.move(480, 300)
        await v.page.mouse.down()
        await v.page.mouse.move(300, 300, steps=6)  # drag to look
        await v.page.mouse.up()
        turned = await watcher.wait_for(lambda c: abs(float(np.dot(c.poses[me["id"]][0, 3:7], heading_before))) < 0.95)
        assert turned
    assert v.errors == []
