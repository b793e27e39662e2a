"""Real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from playwright.async_api import Page, async_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL on the CPU: without a GPU, Chromium renders WebGL with SwiftShader only when allowed to.
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run the README's test command (as root it installs Debian's chromium)")
    return path


@pytest.fixture(scope="session")
async def browser():
    async with async_playwright() as playwright:
        profile = tempfile.mkdtemp(prefix="thirdspace-chromium-")
        context = await playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 960, "height": 600},
        )
        yield context
        await context.close()
        shutil.rmtree(profile, ignore_errors=True)


class Visit:
    """A page with its console errors collected."""

    def __init__(self, page: Page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    async def join(self, base_url: str, scene: str, name: str, language: str = "en") -> dict:
        page = self.page
        await page.goto(f"{base_url}/?scene={scene}")
        await page.wait_for_selector("#lobby:not([hidden])")
        assert await page.input_value("#scene") == scene  # the deep link picked it
        await page.fill("#name", name)
        await page.select_option("#language", language)
        await page.click("#join")
        await page.wait_for_function("['ready', 'error'].includes(window.thirdspace.status)", timeout=30000)
        state = await page.evaluate(
            "({status: thirdspace.status, error: thirdspace.error, id: thirdspace.visitorId, room: thirdspace.room})"
        )
        assert state["status"] == "ready", state
        return state


@pytest.fixture
async def visit(browser):
    pages = []

    async def open_page(init_scripts: tuple = ()) -> Visit:
        page = await browser.new_page()
        for script in init_scripts:
            await page.add_init_script(**script)
        pages.append(page)
        return Visit(page)

    yield open_page
    for page in pages:
        await page.close()
