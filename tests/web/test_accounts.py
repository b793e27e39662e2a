"""Accounts (docs/deploy.md, "Accounts and sign-in"): a revoked or removed user is out at once, on the next request and
on their open WebSocket; the session cookie is Secure when the browser came over HTTPS (also through a trusted
proxy); a write signed in by cookie must come from this site's own pages (Origin)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from tests.conftest import RunningServer, start_server
from tests.curate.conftest import add_users, fresh_data_dir
from thirdspace.client import ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.protocol.constants import CLOSE_KICKED
from thirdspace.web.keys import DB, ROOMS


@dataclass
class Site:
    server: RunningServer
    tokens: dict[str, str]
    http: aiohttp.ClientSession
    data_dir: object

    def bearer(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module")
async def site(server, scenes_dir, tmp_path_factory) -> AsyncIterator[Site]:
    """A server of its own, behind a (pretend) TLS proxy on 127.0.0.1."""
    data = fresh_data_dir(server, tmp_path_factory.mktemp("accounts"))
    tokens = add_users(data / "thirdspace.sqlite3")
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data, trusted_proxies="127.0.0.1")
    runner, running = await start_server(settings)
    running.app[ROOMS].session_recheck_s = 0.3  # other nodes (and the command line) are noticed this soon
    async with aiohttp.ClientSession() as http:
        yield Site(running, tokens, http, data)
    await runner.cleanup()


async def new_user(site: Site, name: str, role: str = "curator") -> tuple[int, str]:
    user, token = await site.server.app[DB].add_user(name, role)
    return user.id, token


async def status(site: Site, token: str) -> int:
    async with site.http.get(f"{site.server.http}/api/curate/scenes", headers={"Authorization": f"Bearer {token}"}) as reply:
        return reply.status


async def closed_as_signed_out(client: ThirdSpaceClient) -> None:
    await client.wait_for(lambda c: c.closed, timeout=10)
    assert client.close_code == CLOSE_KICKED


async def test_a_revoked_token_is_refused_at_once_and_its_websocket_closed(site: Site):
    user_id, token = await new_user(site, "Leaky Token")
    assert await status(site, token) == 200
    client = await ThirdSpaceClient.connect(site.server.ws, "gallery", "Leaky", token=token)
    bystander = await ThirdSpaceClient.connect(site.server.ws, "gallery", "Bystander", room=client.room)
    try:
        url = f"{site.server.http}/api/admin/users/{user_id}/revoke"
        async with site.http.post(url, json={}, headers=site.bearer("curator")) as reply:
            assert reply.status == 403  # admins only
        async with site.http.post(url, json={"new_token": True}, headers=site.bearer()) as reply:
            assert reply.status == 200, await reply.text()
            body = await reply.json()
        assert body["revoked"] is True and body["user"]["id"] == user_id
        await closed_as_signed_out(client)
        assert await status(site, token) == 401
        assert await status(site, body["token"]) == 200  # the new token works
        assert not bystander.closed
    finally:
        await client.close()
        await bystander.close()


async def test_a_removed_user_is_gone_with_their_sessions(site: Site):
    user_id, token = await new_user(site, "Former Curator")
    async with site.http.post(f"{site.server.http}/api/session", json={"token": token}) as reply:
        assert reply.status == 200
        session_cookie = reply.cookies["thirdspace_session"].value
    client = await ThirdSpaceClient.connect(site.server.ws, "gallery", "Former", token=token)
    try:
        async with site.http.delete(f"{site.server.http}/api/admin/users/{user_id}", headers=site.bearer()) as reply:
            assert reply.status == 204, await reply.text()
        await closed_as_signed_out(client)
        assert await status(site, token) == 401
        async with aiohttp.ClientSession(cookies={"thirdspace_session": session_cookie}) as cookie_http:
            async with cookie_http.get(f"{site.server.http}/api/session") as reply:
                assert (await reply.json())["user"] is None
        users = [
            u["id"] for u in (await (await site.http.get(f"{site.server.http}/api/admin/users", headers=site.bearer())).json())["users"]
        ]
        assert user_id not in users
        async with site.http.delete(f"{site.server.http}/api/admin/users/{user_id}", headers=site.bearer()) as reply:
            assert reply.status == 404 and (await reply.json())["field"] == "user_id"
    finally:
        await client.close()


async def test_revoking_from_the_command_line_closes_the_running_servers_websocket(site: Site):
    user_id, token = await new_user(site, "Revoked Elsewhere")
    client = await ThirdSpaceClient.connect(site.server.ws, "gallery", "Elsewhere", token=token)
    try:
        command = [sys.executable, "-m", "thirdspace", "user", "revoke", str(user_id), "--data-dir", str(site.data_dir)]
        result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert await status(site, token) == 401
        await closed_as_signed_out(client)  # noticed by the server's own check, as another node's revocation is
    finally:
        await client.close()


async def sign_in(site_url: str, http: aiohttp.ClientSession, token: str, headers: dict | None = None) -> aiohttp.ClientResponse:
    async with http.post(f"{site_url}/api/session", json={"token": token}, headers=headers or {}) as reply:
        assert reply.status == 200, await reply.text()
        return reply


async def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(site: Site, server: RunningServer):
    reply = await sign_in(site.server.http, site.http, site.tokens["curator"], {"X-Forwarded-Proto": "https"})
    assert "Secure" in reply.headers["Set-Cookie"] and "HttpOnly" in reply.headers["Set-Cookie"]
    reply = await sign_in(site.server.http, site.http, site.tokens["curator"])
    assert "Secure" not in reply.headers["Set-Cookie"]  # plain HTTP to the proxy... or straight to the node
    # A server that trusts no proxy does not believe the header.
    _, token = await server.app[DB].add_user("Cookie Tester", "curator")
    reply = await sign_in(server.http, site.http, token, {"X-Forwarded-Proto": "https"})
    assert "Secure" not in reply.headers["Set-Cookie"]


async def test_a_cookie_signed_write_must_come_from_this_sites_origin(site: Site):
    base = site.server.http
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(f"{base}/api/session", json={"token": site.tokens["admin"]}) as reply:
            csrf = (await reply.json())["csrf"]
        body = {"name": "Made By Cookie", "role": "visitor"}
        evil = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
        async with browser.post(f"{base}/api/admin/users", json=body, headers=evil) as reply:
            assert reply.status == 403, await reply.text()
            assert (await reply.json())["field"] == "Origin"
        referer = {"X-CSRF-Token": csrf, "Referer": "https://evil.example/page"}
        async with browser.post(f"{base}/api/admin/users", json=body, headers=referer) as reply:
            assert reply.status == 403 and (await reply.json())["field"] == "Origin"
        own = {"X-CSRF-Token": csrf, "Origin": base}
        async with browser.post(f"{base}/api/admin/users", json=body, headers=own) as reply:
            assert reply.status == 201, await reply.text()
        # Behind the proxy the browser's origin is the public one.
        proxied = {
            "X-CSRF-Token": csrf,
            "Origin": "https://gallery.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "gallery.example",
        }
        async with browser.post(f"{base}/api/admin/users", json={"name": "Via Proxy", "role": "visitor"}, headers=proxied) as reply:
            assert reply.status == 201, await reply.text()
    # A bearer token is not sent by a browser on its own: no Origin check.
    async with site.http.post(
        f"{base}/api/admin/users",
        json={"name": "Made By Token", "role": "visitor"},
        headers={**site.bearer(), "Origin": "https://evil.example"},
    ) as reply:
        assert reply.status == 201, await reply.text()
