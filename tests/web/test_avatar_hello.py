"""The hello's avatar style against a real server: carried to the others, defaulted, refused when malformed."""

import json
import shutil
import subprocess

import orjson
import pytest
import websockets

from thirdspace.client import ThirdSpaceClient
from thirdspace.config import PROJECT_ROOT
from thirdspace.protocol.constants import AVATAR_STYLES, DEFAULT_AVATAR, MAX_NAME_CHARS, PROTOCOL_VERSION


async def test_a_chosen_style_reaches_the_welcome_and_the_join_of_the_others(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", avatar="kente") as ama:
        assert ama.visitors[ama.id]["avatar"] == "kente"
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo", avatar="kimono") as bo:
            assert bo.visitors[ama.id]["avatar"] == "kente"  # the welcome's visitors list
            await ama.wait_for(lambda c: bo.id in c.visitors)
            assert ama.visitors[bo.id]["avatar"] == "kimono"  # the join message


@pytest.mark.parametrize("hello", [{}, {"avatar": None}, {"avatar": ""}, {"avatar": "a-style-from-a-newer-client"}])
async def test_a_missing_or_unknown_style_is_the_default(server, hello):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", **hello) as ama:
        assert ama.visitors[ama.id]["avatar"] == DEFAULT_AVATAR


@pytest.mark.parametrize("avatar", [7, ["kente"], {"style": "kente"}, "Kente", "kente!", "x" * 33, "<b>"])
async def test_a_malformed_style_is_an_error_naming_the_field_and_the_hello_can_be_sent_again(server, avatar):
    async with websockets.connect(server.ws) as ws:
        hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": "gallery", "name": "Ama", "avatar": avatar}
        await ws.send(orjson.dumps(hello).decode())
        error = orjson.loads(await ws.recv())
        assert error["type"] == "error" and error["code"] == "bad_request" and error["field"] == "avatar"
        assert "kente" in error["message"]  # it says what would do
        await ws.send(orjson.dumps(hello | {"avatar": "poncho"}).decode())
        welcome = orjson.loads(await ws.recv())
        assert welcome["type"] == "welcome"
        assert [v["avatar"] for v in welcome["visitors"] if v["id"] == welcome["id"]] == ["poncho"]


async def test_a_long_name_up_to_the_limit_is_accepted(server):
    name = "Maria Fernanda dos Santos Oliveira Cruz"  # 39 characters, as real names can be
    async with await ThirdSpaceClient.connect(server.ws, "gallery", name) as ama:
        assert ama.visitors[ama.id]["name"] == name
    assert MAX_NAME_CHARS >= 40


def test_the_page_draws_every_style_the_server_accepts():
    script = "import('./web_client/src/avatars.js').then(m => console.log(JSON.stringify(m.AVATAR_STYLES.map(s => s.id))))"
    result = subprocess.run([shutil.which("node"), "-e", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == list(AVATAR_STYLES)
