"""Real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import shutil

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
    # Voice: a fake microphone (it beeps) granted without asking, and audio that plays without a gesture.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run the README's test command (as root it installs Debian's chromium)")
    return path


@pytest.fixture(scope="session")
async def browser():
    """One Chromium for the session; Playwright gives it a fresh, empty user-data dir."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        await chromium.close()


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
    """Open pages, each in its own context (a separate visitor with its own storage)."""
    contexts = []

    async def open_page(init_scripts: tuple = (), **context_options) -> Visit:
        context = await browser.new_context(**{"viewport": {"width": 960, "height": 600}, **context_options})
        contexts.append(context)
        page = await context.new_page()
        for script in init_scripts:
            await page.add_init_script(**script)
        return Visit(page)

    yield open_page
    for context in contexts:
        await context.close()
