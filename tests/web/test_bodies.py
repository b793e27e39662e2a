"""Request bodies (docs/deploy.md "Limits"): who may send one is settled before it is read, and its size while it is read.

Against ``thirdspace serve`` in a process of its own, so that its memory can be read from /proc."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.curate.conftest import add_users
from tests.processes import Node, start_node, stop

MIB = 1024 * 1024
UPLOAD_LIMIT = 32 * MIB  # import_max_file_mb's default
JSON_LIMIT = 4096 * 1024  # json_body_max_kb's default
ANONYMOUS_LIMIT = 64 * 1024  # anonymous_body_kb's default


@pytest.fixture(scope="module")
def node(scenes_dir, tmp_path_factory) -> Iterator[tuple[Node, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("bodies")
    data = tmp / "data"
    data.mkdir()
    tokens = add_users(data / "thirdspace.sqlite3")
    running = start_node("bodies", "", data, scenes_dir, tmp)
    yield running, tokens
    stop(running)
    shutil.rmtree(data, ignore_errors=True)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in kB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


async def send(
    port: int, method: str, path: str, size: int, headers: dict[str, str] | None = None, chunked: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Send a body of ``size`` bytes whatever the server says meanwhile (as an attacker would), then read the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    writer.write(head.encode())
    piece = b" " * MIB
    try:
        sent = 0
        while sent < size:
            part = piece[: min(MIB, size - sent)]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            sent += len(part)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server answered and closed before all of it was sent: the answer is still there to read
    try:
        status_line = await asyncio.wait_for(reader.readline(), 30)
        status = int(status_line.split()[1])
        reply_headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            reply_headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(reply_headers.get("content-length", "0")))
        return status, reply_headers, body
    finally:
        writer.close()


async def test_anonymous_big_bodies_do_not_raise_the_servers_memory(node) -> None:
    """R3: 16 anonymous 31 MiB POSTs at once, to the sign-in and to curation routes: refused before being read."""
    running, _ = node
    before = memory_kb(running.process.pid)
    routes = (("POST", "/api/session", 413), ("POST", "/api/curate/assets?id=big", 401), ("PUT", "/api/curate/scenes/gallery", 401))
    answers = [await asyncio.gather(*(send(running.port, method, path, 31 * MIB) for _ in range(16))) for method, path, _ in routes]
    after = memory_kb(running.process.pid)
    assert after["VmRSS"] - before["VmRSS"] < 100 * 1024, (before, after)
    assert after["VmHWM"] - before["VmHWM"] < 100 * 1024, (before, after)
    for (_, path, expected), replies in zip(routes, answers, strict=True):
        for status, headers, body in replies:
            assert status == expected, (path, status, body[:200])
            assert headers["content-type"].startswith("application/json")
            if expected == 413:
                assert orjson.loads(body) == {
                    "error": f"the body is larger than the limit of {ANONYMOUS_LIMIT} bytes",
                    "field": "body",
                    "limit_bytes": ANONYMOUS_LIMIT,
                }


async def test_a_visitor_token_is_refused_before_the_body_is_read(node) -> None:
    running, tokens = node
    status, _, body = await send(
        running.port, "POST", "/api/curate/assets?id=big", 8 * MIB, {"Authorization": f"Bearer {tokens['visitor']}"}
    )
    assert status == 403 and orjson.loads(body)["field"] == "role"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_upload_past_the_limit_is_a_json_413_naming_it(node, chunked: bool) -> None:
    """R12: past import_max_file_mb, with or without Content-Length: 413 with JSON saying the limit, never aiohttp's text page."""
    running, tokens = node
    auth = {"Authorization": f"Bearer {tokens['curator']}"}
    status, headers, body = await send(running.port, "POST", "/api/curate/assets?id=too-big", UPLOAD_LIMIT + MIB, auth, chunked)
    assert status == 413 and headers["content-type"].startswith("application/json")
    reply = orjson.loads(body)
    assert reply["error"].endswith(f"is larger than the limit of {UPLOAD_LIMIT} bytes")
    assert (reply["field"], reply["limit_bytes"]) == ("body", UPLOAD_LIMIT)
    assert not list((running_data(running) / "uploads").glob("*")), "the spooled part is removed"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_json_body_past_its_limit_is_a_json_413(node, chunked: bool) -> None:
    """R12: a scene document past json_body_max_kb: JSON 413 naming the limit (was aiohttp's text page)."""
    running, tokens = node
    auth = {"Authorization": f"Bearer {tokens['curator']}"}
    status, headers, body = await send(running.port, "PUT", "/api/curate/scenes/gallery", JSON_LIMIT + MIB, auth, chunked)
    assert status == 413 and headers["content-type"].startswith("application/json")
    assert orjson.loads(body) == {
        "error": f"the body is larger than the limit of {JSON_LIMIT} bytes",
        "field": "body",
        "limit_bytes": JSON_LIMIT,
    }


def running_data(running: Node) -> Path:
    return running.log.parent / "data"
