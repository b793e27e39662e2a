"""What the curator page's browser tests share: signing in with a curator's token."""

from __future__ import annotations


async def sign_in(page, server, token: str, scene: str | None = None) -> None:
    """Open the curator page on `scene` (None: the sign-in form is shown already) and sign in with `token`;
    back when the editor has the scene open."""
    if scene is not None:
        await page.goto(f"{server.http}/curate?scene={scene}")
    await page.fill("#token", token)
    await page.click("#signin button[type=submit]")
    await page.wait_for_function("window.curate.status === 'ready'", timeout=30000)
