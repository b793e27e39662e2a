"""A server of its own for the curation tests (they change scenes), with an admin, a curator and a visitor."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import RunningServer, start_server
from thirdspace.config import Settings
from thirdspace.store import Database
from thirdspace.web.keys import DB


def fresh_data_dir(server: RunningServer, path: Path) -> Path:
    """A new data directory holding a copy of the session server's built assets (so nothing is rebuilt)."""
    shutil.copytree(server.app[DB].path.parent / "assets", path / "assets")
    return path


def add_users(db_path: Path) -> dict[str, str]:
    db = Database(db_path)
    try:
        return {role: db.add_user(f"{role.title()} Example", role)[1] for role in ("visitor", "curator", "admin")}
    finally:
        db.close()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any = field(default_factory=dict)  # case-insensitive (a CIMultiDict)

    @property
    def etag(self) -> str:
        return self.headers["ETag"]


class Api:
    """A JSON client for one identity (a role's bearer token, or anonymous)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str | None):
        self.http = http
        self.base = base
        self.token = token

    async def request(self, method: str, path: str, body: Any = None, headers: dict | None = None, data: bytes | None = None) -> Reply:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            data = orjson.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        async with self.http.request(method, self.base + path, data=data, headers=headers) as response:
            raw = await response.read()
            parsed = orjson.loads(raw) if raw and response.content_type == "application/json" else raw
            return Reply(response.status, parsed, response.headers.copy())

    async def get(self, path: str, **kw) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw) -> Reply:
        return await self.request("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw) -> Reply:
        return await self.request("PUT", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw) -> Reply:
        return await self.request("PATCH", path, body, **kw)

    async def delete(self, path: str, **kw) -> Reply:
        return await self.request("DELETE", path, **kw)


@dataclass
class Curated:
    server: RunningServer
    tokens: dict[str, str]
    apis: dict[str, Api]

    def __getattr__(self, role: str) -> Api:
        try:
            return self.apis[role]
        except KeyError:
            raise AttributeError(role) from None


@pytest.fixture(scope="module")
async def curated(server, scenes_dir, tmp_path_factory) -> AsyncIterator[Curated]:
    data = fresh_data_dir(server, tmp_path_factory.mktemp("curated"))
    tokens = add_users(data / "thirdspace.sqlite3")
    runner, running = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data))
    async with aiohttp.ClientSession() as http:
        apis = {role: Api(http, running.http, token) for role, token in tokens.items()}
        apis["anonymous"] = Api(http, running.http, None)
        yield Curated(running, tokens, apis)
    await runner.cleanup()


async def draft(api: Api, scene: str) -> Reply:
    reply = await api.get(f"/api/curate/scenes/{scene}")
    assert reply.status == 200, reply.body
    return reply
