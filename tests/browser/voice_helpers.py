"""Shared by the browser voice tests (peer to peer and Janus): a small voice hall, pages that join it, and
reading what each page hears through window.thirdspace.voice (docs/voice.md)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from playwright.async_api import Page

from tests.conftest import RunningServer, demo_scene, start_server
from thirdspace.config import Settings

SCENE = "voicehall"
HEARING_RADIUS_M = 4.0  # the hall's: small, so that "far" fits inside the gallery's walls
# Where the first three visitors of a fresh server stand (spawn points go by visitor id): A speaks at (-3, 3.5);
# B stands 2 m to A's right, facing -z, so A is on B's left; C stands 7 m from A, facing A (-x).
SPAWNS = [
    {"position": [-3, 0, 3.5], "yaw_deg": 0},
    {"position": [-1, 0, 3.5], "yaw_deg": 0},
    {"position": [4, 0, 3.5], "yaw_deg": 90},
]
KEEP_M = HEARING_RADIUS_M * 1.4  # voice pairs hold until this far apart (hysteresis)
LOUD = 0.01  # a received voice's rms (its loudest moment over a second) clearly above silence
SILENT = 0.002  # nothing arrives: a disabled track sends silence


def voice_scene() -> dict:
    """The demo gallery (its tour too) with the voice hall's spawn points and hearing radius."""
    scene = copy.deepcopy(demo_scene("gallery"))
    scene["id"] = SCENE
    scene["spawn_points"] = SPAWNS
    scene["voice"] = {"hearing_radius_m": HEARING_RADIUS_M}
    return scene


@asynccontextmanager
async def voice_server(directory: Path, environ: dict[str, str] | None = None) -> AsyncIterator[RunningServer]:
    """A fresh server (visitor ids from 1, so the spawn points above apply) with the voice hall and the demo scenes.

    `environ` adds THIRDSPACE_* settings, e.g. {"THIRDSPACE_VOICE": "janus", "THIRDSPACE_JANUS_URL": ...}."""
    scenes = directory / "scenes"
    scenes.mkdir(parents=True, exist_ok=True)
    (scenes / f"{SCENE}.json").write_text(json.dumps(voice_scene()), "utf-8")
    for name in ("gallery",):
        (scenes / f"{name}.json").write_text(json.dumps(demo_scene(name)), "utf-8")
    data = directory / "data"
    data.mkdir(exist_ok=True)
    settings = Settings.load(environ=dict(environ or {}), scenes_dir=scenes, data_dir=data)
    runner, running = await start_server(settings)
    try:
        yield running
    finally:
        await runner.cleanup()


async def head(page: Page) -> list[float]:
    return (await page.evaluate("thirdspace.walker()"))["head"]


def apart(a: list[float], b: list[float]) -> float:
    """How far apart two heads stand on the floor (x, z)."""
    return math.hypot(a[0] - b[0], a[2] - b[2])


async def moderate(http: aiohttp.ClientSession, server: RunningServer, room: str, action: str, body: dict) -> None:
    """A moderator's room action (mute, kick) through the admin API, with ``http`` signed in as a curator."""
    async with http.post(f"{server.http}/api/admin/rooms/{room}/{action}", json=body) as response:
        assert response.status == 200, await response.text()


async def voice_state(page: Page) -> dict:
    return await page.evaluate("thirdspace.voice.state")


async def turn_voice_on(page: Page) -> None:
    """Click "Turn my voice on" (the fake microphone answers at once) and wait until it sends."""
    await page.locator("#voice-toggle").click()
    await page.wait_for_function("thirdspace.voice.state.on", timeout=10000)


async def peers(page: Page) -> list[int]:
    return await page.evaluate("thirdspace.voice.peers()")


async def level(page: Page, peer: int) -> float:
    return await page.evaluate(f"thirdspace.voice.level({peer})")


async def balance(page: Page, peer: int) -> float:
    return await page.evaluate(f"thirdspace.voice.balance({peer})")


async def wait_hearing(page: Page, peer: int, timeout: float = 15000) -> float:
    """Wait until `page` is connected to `peer` and hears them clearly; the level heard."""
    await page.wait_for_function(f"thirdspace.voice.peers().includes({peer}) && thirdspace.voice.level({peer}) > {LOUD}", timeout=timeout)
    return await level(page, peer)


async def wait_silent(page: Page, peer: int, timeout: float = 10000) -> None:
    """Wait until nothing of `peer`'s voice has arrived for a second (or the connection is gone)."""
    await page.wait_for_function(f"thirdspace.voice.level({peer}) < {SILENT}", timeout=timeout)


async def stays_silent(page: Page, peer: int, samples: int = 8, every_ms: int = 250) -> list[float]:
    """The levels of `peer` heard over a couple of seconds, sampled: all must be silence."""
    heard = []
    for _ in range(samples):
        heard.append(await level(page, peer))
        await page.wait_for_timeout(every_ms)
    return heard


async def walk(page: Page, until_js: str, keys: tuple[str, ...] = ("KeyW",), timeout: float = 20000) -> None:
    """Hold keys down (the page's own walking) until `until_js` holds, then let go."""
    for key in keys:
        await page.keyboard.down(key)
    try:
        await page.wait_for_function(until_js, timeout=timeout, polling=50)
    finally:
        for key in reversed(keys):
            await page.keyboard.up(key)


async def turn_around(page: Page) -> None:
    """Drag across the view until the visitor faces the other way (about 180 degrees)."""
    before = (await page.evaluate("thirdspace.walker()"))["yaw"]
    box = await page.locator("#view").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.45
    for _ in range(2):  # 0.004 rad a pixel: two drags of 393 px
        await page.mouse.move(box["x"] + box["width"] * 0.5 - 196, y)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] * 0.5 + 197, y, steps=12)
        await page.mouse.up()
    await page.wait_for_function(f"Math.abs(Math.abs(thirdspace.walker().yaw - ({before})) - Math.PI) < 0.3")
