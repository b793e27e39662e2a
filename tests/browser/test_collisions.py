"""Walkable space in the page: walking stops at walls and at the fountain's rim, a click on a plinth's top or on
the fountain's water sends nobody there, and a headset's thumbstick walks through the same walk map."""

import math

import aiohttp
import pytest

from tests.conftest import NODE_MODULES
from thirdspace.scenes.walk import WalkGrid

LOOK_PER_PIXEL = 0.004  # controls.js: radians of turn per pixel of drag
BODY_RADIUS_M = 0.25  # walk.js: the feet keep this far from anything nobody may stand on
FOUNTAIN_RIM_M = 2.4  # the caravanserai's fountain: the basin's outer radius, centred on the origin
TIMEOUT_MS = 60000  # a slow software-rendered frame rate walks slowly


async def walk_grid(base_url: str, scene: str) -> WalkGrid:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/api/scenes/{scene}/walk") as response:
        assert response.status == 200
        return WalkGrid.from_bytes(await response.read())


def edge_east_of(grid: WalkGrid, x: float, z: float) -> float:
    """Where the floor a visitor may stand on ends, going east (+X) from (x, z): the wall's edge in the grid."""
    while grid.floor_at(x, z) is not None:
        x += 0.01
    return x


async def walker(page) -> dict:
    return await page.evaluate("thirdspace.walker()")


async def frames_later(page, frames: int = 30) -> None:
    drawn = await page.evaluate("thirdspace.framesRendered")
    await page.wait_for_function(f"thirdspace.framesRendered > {drawn + frames}", timeout=TIMEOUT_MS)


DRAGS = {"count": 0}


async def drag(page, dx: float, dy: float) -> None:
    """A drag on the canvas from a point a little away from the last one's (Chromium would count presses at one
    place in quick succession as a multiple click)."""
    DRAGS["count"] += 1
    y = 200 + 40 * (DRAGS["count"] % 5)
    await page.mouse.move(480, y)
    await page.mouse.down()
    await page.mouse.move(480 + dx, y + dy, steps=8)
    await page.mouse.up()


async def face(page, yaw: float, pitch_pixels: int = 0) -> None:
    """Turn the desktop view to `yaw` (radians; 0 faces -Z, positive turns left) by dragging on the canvas, and
    look down by `pitch_pixels` of drag. Every drag is long enough not to count as a click."""
    now = (await walker(page))["yaw"]
    turn = (yaw - now + math.pi) % (2 * math.pi) - math.pi
    dx = round(-turn / LOOK_PER_PIXEL)
    moves = [dx + 100, -100] if abs(dx + 100) > 20 else [dx - 100, 100]
    for move in moves:
        while abs(move) > 0:
            part = max(-300, min(300, move))
            await drag(page, part, pitch_pixels)
            pitch_pixels = 0
            move -= part
    await frames_later(page, 3)
    assert abs((await walker(page))["yaw"] - (now - dx * LOOK_PER_PIXEL)) < 1e-3


async def hold(page, key: str, until: str) -> None:
    """Run with `key` held until the page's walker satisfies `until` (a JS expression over `w`), and on a while."""
    await page.keyboard.down("ShiftLeft")
    await page.keyboard.down(key)
    await page.wait_for_function(f"(w => {until})(thirdspace.walker())", timeout=TIMEOUT_MS)
    await frames_later(page, 40)  # keep pushing at what stopped the walk
    await page.keyboard.up(key)
    await page.keyboard.up("ShiftLeft")
    await frames_later(page, 3)


async def on_screen(page, point: list[float]) -> list[float]:
    where = await page.evaluate(f"thirdspace.screenPoint({point})")
    assert where is not None and 20 < where[0] < 940 and 20 < where[1] < 580, (point, where)
    return where


async def test_walking_into_the_gallery_wall_stops_at_its_edge(server, visit):
    v = await visit()
    await v.join(server.http, "gallery", "Wall walker")
    page = v.page
    await page.wait_for_function("thirdspace.walker() && thirdspace.framesRendered > 5")
    start = await walker(page)
    edge = edge_east_of(await walk_grid(server.http, "gallery"), start["rig"][0], start["rig"][2])
    assert 6.5 < edge < 7.0  # the hall's east wall (14 m wide, centred on x = 0)
    await face(page, -math.pi / 2)  # towards the east wall (+X), along the open floor by the door
    await hold(page, "KeyW", f"w.rig[0] > {edge - 1}")
    stopped = await walker(page)
    await frames_later(page, 20)
    assert (await walker(page))["rig"] == stopped["rig"]  # at rest
    x = stopped["rig"][0]
    # The feet end where the body touches the wall, inside the room: the body never reaches past the wall's
    # edge, and stops within ~0.6 m of it.
    assert edge - 0.6 < x < edge - BODY_RADIUS_M, (edge, stopped)
    assert abs(stopped["rig"][2] - start["rig"][2]) < 0.1  # straight along the wall's normal, no slide
    assert abs(stopped["rig"][1]) < 0.05  # feet on the floor
    assert v.errors == []


async def test_a_click_on_a_plinth_top_goes_nowhere_a_click_on_the_floor_does(server, visit):
    v = await visit()
    await v.join(server.http, "gallery", "Clicker")
    page = v.page
    await page.wait_for_function("thirdspace.walker() && thirdspace.framesRendered > 5")
    nodes = await page.evaluate("thirdspace.nodes()")
    plinths = [n["position"] for n in nodes.values() if n["asset"] == "plinth"]
    here = (await walker(page))["rig"]
    plinth = min(plinths, key=lambda p: math.hypot(p[0] - here[0], p[2] - here[2]))
    away = (here[0] - plinth[0], here[2] - plinth[2])
    away = (away[0] / math.hypot(*away), away[1] / math.hypot(*away))
    heading = math.atan2(away[0], away[1])  # facing the plinth
    # Walk up to the plinth with a click on the floor in front of it.
    await face(page, heading, pitch_pixels=40)
    floor = [plinth[0] + 1.2 * away[0], 0.0, plinth[2] + 1.2 * away[1]]
    await page.mouse.click(*await on_screen(page, floor))
    await page.wait_for_function(
        f"(w => Math.hypot(w.rig[0] - {floor[0]}, w.rig[2] - {floor[2]}) < 0.1)(thirdspace.walker())", timeout=TIMEOUT_MS
    )
    await frames_later(page, 10)
    # Look down at the plinth's top, near its front edge (what stands on it stands in the middle), and click.
    await face(page, heading, pitch_pixels=60)
    top = [plinth[0] + 0.27 * away[0], 1.0, plinth[2] + 0.27 * away[1]]
    before = await walker(page)
    await page.mouse.click(*await on_screen(page, top))
    await frames_later(page, 60)
    assert (await walker(page))["rig"] == before["rig"]  # nobody walks onto a plinth
    assert v.errors == []


async def test_walking_into_the_fountain_stops_at_its_rim_and_its_water_is_no_place_to_click(server, visit):
    v = await visit()
    await v.join(server.http, "caravanserai", "Fountain walker")
    page = v.page
    await page.wait_for_function("thirdspace.walker() && thirdspace.framesRendered > 5")
    here = (await walker(page))["rig"]
    assert math.hypot(here[0], here[2]) > 4  # every spawn point is away from the fountain
    heading = math.atan2(here[0], here[2])  # straight at the fountain's centre
    await face(page, heading)
    await hold(page, "KeyW", f"Math.hypot(w.rig[0], w.rig[2]) < {FOUNTAIN_RIM_M + 0.8}")
    stopped = (await walker(page))["rig"]
    r = math.hypot(stopped[0], stopped[2])
    assert FOUNTAIN_RIM_M + BODY_RADIUS_M - 0.05 < r < FOUNTAIN_RIM_M + 0.6, stopped  # at the rim, not in the basin
    assert abs(stopped[1]) < 0.1  # feet on the paving
    # Look down into the basin and click its water (its surface is 0.4 m up), between the rim and the column.
    await face(page, heading, pitch_pixels=120)
    water = [stopped[0] * 1.2 / r, 0.4, stopped[2] * 1.2 / r]
    await page.mouse.click(*await on_screen(page, water))
    await frames_later(page, 60)
    assert (await walker(page))["rig"] == stopped  # nobody walks into the water
    assert v.errors == []


INSTALL_EMULATED_HEADSET = """
window.__xrDevice = new IWER.XRDevice(IWER.metaQuest3);
window.__xrDevice.installRuntime({ forceInstall: true });
window.__xrDevice.position.set(0.3, 1.7, 0.2);
"""
# Turn the head (not the rig) so that it faces east (+X) in the scene, whatever the rig's heading.
FACE_EAST = """
const a = -Math.PI / 2 - thirdspace.walker().yaw;
__xrDevice.quaternion.set(0, Math.sin(a / 2), 0, Math.cos(a / 2));
"""


async def test_the_left_thumbstick_walks_where_the_head_faces_and_stops_at_the_wall(server, visit):
    iwer = NODE_MODULES / "iwer" / "build" / "iwer.min.js"
    if not iwer.is_file():
        pytest.fail("iwer is not installed: run the README's test command (it runs npm ci in web_client/)")
    v = await visit(init_scripts=({"path": str(iwer)}, {"script": INSTALL_EMULATED_HEADSET}))
    await v.join(server.http, "gallery", "Stick walker")
    page = v.page
    await page.locator("#xr button").filter(has_text="ENTER VR").click()
    await page.wait_for_function("thirdspace.xrPresenting() && Math.abs(thirdspace.walker().head[1] - 1.7) < 0.05")
    await page.evaluate(FACE_EAST)
    await frames_later(page, 5)
    start = await walker(page)
    edge = edge_east_of(await walk_grid(server.http, "gallery"), start["head"][0], start["head"][2])
    await page.evaluate("__xrDevice.controllers.left.updateAxes('thumbstick', 0, -1)")  # pushed forward
    walked = await page.wait_for_function(f"(w => w.head[0] > {start['head'][0] + 1} && w)(thirdspace.walker())", timeout=TIMEOUT_MS)
    walked = await walked.json_value()
    assert abs(walked["head"][2] - start["head"][2]) < 0.1  # where the head faces, not the rig
    assert abs(walked["head"][1] - 1.7) < 0.05  # on the floor, at the wearer's height
    # Keep pushing: the walk ends at the wall.
    await page.wait_for_function(f"thirdspace.walker().head[0] > {edge - 1}", timeout=TIMEOUT_MS)
    await frames_later(page, 60)
    head = (await walker(page))["head"]
    assert edge - 0.6 < head[0] < edge - BODY_RADIUS_M, (edge, head)
    await page.evaluate("__xrDevice.controllers.left.updateAxes('thumbstick', 0, 0)")
    await frames_later(page, 10)
    rested = await walker(page)
    await frames_later(page, 20)
    assert (await walker(page))["rig"] == rested["rig"]  # the stick let go: standing still
    # A push of the right stick sideways turns the rig by a fixed step, once, around the head.
    await page.evaluate("__xrDevice.controllers.right.updateAxes('thumbstick', 1, 0)")
    await frames_later(page, 20)
    await page.evaluate("__xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    await frames_later(page, 5)
    turned = await walker(page)
    assert abs(turned["yaw"] - (rested["yaw"] - math.pi / 6)) < 1e-3, turned
    assert math.hypot(turned["head"][0] - rested["head"][0], turned["head"][2] - rested["head"][2]) < 0.01
    assert v.errors == []
