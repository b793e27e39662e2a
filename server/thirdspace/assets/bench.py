"""Asset benchmarks: bytes per level for each scene, and how fast a browser shows a scene.

``thirdspace bench assets`` builds every demo asset in a fresh store (timing the
pipeline) and compares the bytes of the lowest levels with full detail.
``thirdspace bench scene-load`` opens a running server's page in headless Chromium
and times from the page asking for the manifest to the whole scene drawn at its
lowest level.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from thirdspace.assets.library import AssetLibrary
from thirdspace.assets.manifest import build_manifest
from thirdspace.assets.store import AssetStore
from thirdspace.config import Settings
from thirdspace.scenes.model import load_directory


def scene_bytes(settings: Settings) -> dict[str, Any]:
    scenes, _ = load_directory(settings.scenes_dir)
    with tempfile.TemporaryDirectory() as data:
        library = AssetLibrary(settings.assets_dir, AssetStore(Path(data)))
        out: dict[str, Any] = {"scenes": {}}
        started = time.perf_counter()
        for scene_id, scene in sorted(scenes.items()):
            manifest = build_manifest(scene.document, [library.resolve(asset_id) for asset_id in scene.asset_ids])
            entries = manifest["assets"]

            def total(pick, encoding=None, entries=entries) -> int:
                return sum(pick(e)["encoded"].get(encoding, pick(e)["size"]) if encoding else pick(e)["size"] for e in entries)

            full, lowest = (lambda e: e["levels"][0]), (lambda e: e["levels"][-1])
            out["scenes"][scene_id] = {
                "assets": len(entries),
                "full_bytes": total(full),
                "lowest_bytes": total(lowest),
                "lowest_over_full": round(total(lowest) / total(full), 3),
                "full_bytes_br": total(full, "br"),
                "lowest_bytes_br": total(lowest, "br"),
                "source_bytes": sum(library.resolve(e["id"]).size for e in entries),
                "levels": {
                    e["id"]: [
                        {"level": lv["level"], "triangles": lv["triangles"], "bytes": lv["size"], "br": lv["encoded"].get("br")}
                        for lv in e["levels"]
                    ]
                    for e in entries
                },
            }
        out["pipeline_seconds"] = round(time.perf_counter() - started, 2)
    return out


async def scene_load(url: str, scene: str, runs: int, chromium: str) -> dict[str, Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise RuntimeError("this benchmark needs Playwright: pip install -e '.[test]'") from None
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
    ]  # fmt: skip
    visible: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=flags, headless=True)
        try:
            for _ in range(runs):
                context = await browser.new_context(viewport={"width": 1280, "height": 720})  # an empty cache each run
                page = await context.new_page()
                await page.goto(f"{url}/?scene={scene}&name=Bench")
                await page.wait_for_selector("#lobby:not([hidden])")
                await page.click("#join")
                await page.wait_for_function("window.thirdspace.loadTimings || window.thirdspace.status === 'error'", timeout=60000)
                timings = await page.evaluate("window.thirdspace.loadTimings")
                if timings is None:
                    raise RuntimeError(await page.evaluate("window.thirdspace.error"))
                visible.append(timings["lowestVisibleMs"])
                await context.close()
        finally:
            await browser.close()
    visible.sort()
    return {
        "scene": scene,
        "runs": runs,
        "lowest_visible_ms_median": round(statistics.median(visible), 1),
        "lowest_visible_ms_max": round(visible[-1], 1),
        "lowest_visible_ms_min": round(visible[0], 1),
    }
