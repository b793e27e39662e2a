"""Voice through a real TURN server (coturn) in relay-only mode: two Chromium pages hear each other although
neither is ever given the other's address, with TURN credentials the server minted for each visitor."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser.voice_helpers import LOUD, SCENE, turn_voice_on, voice_server, voice_state, wait_hearing
from tests.turn_server import NEEDS_COTURN, start_turn
from thirdspace.client import ThirdSpaceClient


@pytest.fixture
def turn(tmp_path):
    if shutil.which("turnserver") is None:
        pytest.fail(NEEDS_COTURN, pytrace=False)
    running = start_turn(tmp_path)
    yield running
    running.stop()


async def test_relay_only_voice_goes_through_turn(visit, tmp_path, turn):
    environ = {
        "THIRDSPACE_ICE_SERVERS": turn.url,
        "THIRDSPACE_TURN_SECRET": turn.secret,
        "THIRDSPACE_VOICE_RELAY_ONLY": "true",
    }
    async with voice_server(tmp_path / "server", environ) as server:
        a, b = await visit(), await visit()
        me_a = await a.join(server.http, SCENE, "Amani")
        me_b = await b.join(server.http, SCENE, "Bruno", "ar")
        async with await ThirdSpaceClient.connect(server.ws, SCENE, "Probe") as probe:  # what every welcome says
            config = probe.welcome["voice"]
            assert config["ice_transport_policy"] == "relay"
            [ice] = config["ice_servers"]
            assert ice["urls"] == [turn.url] and ice["username"].endswith(f":{probe.room}-{probe.id}") and ice["credential"]
        await turn_voice_on(a.page)
        heard = await wait_hearing(b.page, me_a["id"], timeout=30000)
        assert heard > LOUD
        assert (await voice_state(b.page))["transport"] == "p2p"
        # coturn allocated relays for the two visitors' own credentials, and relayed their audio
        log = turn.log_text()
        users = set(re.findall(r"username=<\d+:([\w.-]+)>", log))
        assert {f"{me_a['room']}-{me_a['id']}", f"{me_b['room']}-{me_b['id']}"} <= users, log[-3000:]
        assert a.errors == [] and b.errors == []
