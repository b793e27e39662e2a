"""Translation (services/translation.py) through a LibreTranslate-compatible server written here, fan-out and caching."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import web

from tests.conftest import demo_scene, start_server
from thirdspace.chat.glossary import Term
from thirdspace.client import ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.services.translation import ChatTranslations, LibreTranslate, make_translator


class FakeLibreTranslate:
    """Speaks the LibreTranslate API: POST /translate {q, source, target, format, api_key}, GET /languages."""

    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        app = web.Application()
        app.router.add_post("/translate", self.translate)
        app.router.add_get("/languages", self.languages)
        self.runner = web.AppRunner(app)

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def translate(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "slow":
            await asyncio.sleep(3)
        if self.mode == "400":
            return web.json_response({"error": "target language not supported"}, status=400)
        if self.mode == "500":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "malformed":
            return web.Response(text="{not json", content_type="application/json")
        text = body["q"]
        if self.mode == "lose_token":
            text = re.sub(r"\[\[\d+\]\]", "", text)
        return web.json_response({"translatedText": f"<{body['target']}> {text}"})

    async def languages(self, request: web.Request) -> web.Response:
        return web.json_response([{"code": c, "name": c, "targets": ["en", "fr", "ar"]} for c in ("en", "fr", "ar", "zh", "sw", "hi")])


@pytest.fixture
async def libre():
    fake = FakeLibreTranslate()
    url = await fake.start()
    yield fake, url
    await fake.runner.cleanup()


GLOSSARY = [Term({"en": "caravanserai", "fr": "caravansérail", "ar": "خان"})]


async def test_libretranslate_success_and_failures_are_clear(libre):
    fake, url = libre
    translator = LibreTranslate(url, api_key="key-123", timeout_s=1)
    service = ChatTranslations(translator, timeout_s=1)
    try:
        assert await translator.languages() >= {"en", "fr", "ar"}
        text, status = await service.translate("Meet me at the caravanserai", "en", "fr", GLOSSARY)
        assert (text, status) == ("<fr> Meet me at the caravansérail", "machine")
        assert fake.requests[-1] == {"q": "Meet me at the [[0]]", "source": "en", "target": "fr", "format": "text", "api_key": "key-123"}
        for mode, expected in (
            ("400", "failed"),
            ("500", "failed"),
            ("malformed", "failed"),
            ("slow", "failed"),
            ("lose_token", "glossary"),
        ):
            fake.mode = mode
            text, status = await service.translate(f"a new line for {mode} at the caravanserai", "en", "ar", GLOSSARY)
            assert (text, status) == (None, expected), mode
    finally:
        await translator.close()


async def test_each_line_is_translated_once_per_language_never_per_listener(libre):
    fake, url = libre
    translator = LibreTranslate(url, timeout_s=2)
    service = ChatTranslations(translator, timeout_s=2, concurrency=2)
    languages = ["fr", "ar", "zh", "sw", "hi"]
    listeners = {i: languages[i % 5] for i in range(1, 201)}  # 200 listeners, 5 languages
    listeners[999] = "en"  # the speaker
    received: dict[int, dict] = {}
    try:
        for line_id, text in enumerate(["Welcome to the courtyard", "The fountain is to the north"], start=1):
            fake.requests.clear()
            message = {"type": "chat", "id": line_id, "from": 999, "language": "en", "text": text}
            await service.fan_out(message, listeners, [], lambda visitors, update: received.update(dict.fromkeys(visitors, update)))
            assert len(fake.requests) == 5
            assert sorted(r["target"] for r in fake.requests) == sorted(languages)
            assert len(received) == 200 and all(u["id"] == line_id and u["machine"] for u in received.values())
            assert received[3]["text"] == f"<{listeners[3]}> {text}"
        # The same line again is served from the cache.
        fake.requests.clear()
        await service.fan_out(
            {"type": "chat", "id": 3, "from": 999, "language": "en", "text": "Welcome to the courtyard"}, listeners, [], lambda v, u: None
        )
        assert fake.requests == []
    finally:
        await translator.close()


def test_backends_are_chosen_by_setting():
    assert make_translator("none").name == "none"
    assert make_translator("libretranslate", "http://127.0.0.1:5000").name == "libretranslate"
    with pytest.raises(ValueError, match="translator_url"):
        make_translator("libretranslate")
    with pytest.raises(ValueError, match="argos"):
        make_translator("argos")  # Argos Translate is not installed here; the error says how to get it
    with pytest.raises(ValueError, match="deepl"):
        make_translator("deepl")


async def test_rooms_get_translations_after_the_original_and_keep_working_when_the_engine_fails(libre, server, scenes_dir, tmp_path):
    from tests.curate.conftest import fresh_data_dir

    fake, url = libre
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=fresh_data_dir(server, tmp_path), translator="libretranslate",
                             translator_url=url, translator_timeout_s=1)  # fmt: skip
    runner, running = await start_server(settings)
    try:
        async with (
            await ThirdSpaceClient.connect(running.ws, "caravanserai", "Ama", "en") as ama,
            await ThirdSpaceClient.connect(running.ws, "caravanserai", "Basma", "ar") as basma,
            await ThirdSpaceClient.connect(running.ws, "caravanserai", "Chloé", "fr") as chloe,
        ):
            await ama.send_chat("Meet me at the caravanserai gate")
            line = await basma.wait_for(lambda c: next((m for m in c.chat if m["from"] == ama.id), None))
            assert line["text"] == "Meet me at the caravanserai gate" and line["language"] == "en"  # the original, at once
            update = await basma.wait_for(lambda c: next((m for m in c.messages if m["type"] == "chat_translation"), None))
            assert update == {"type": "chat_translation", "id": line["id"], "language": "ar", "status": "machine", "machine": True,
                              "text": "<ar> Meet me at the خان gate"}  # fmt: skip
            await chloe.wait_for(lambda c: any(m["type"] == "chat_translation" and m["language"] == "fr" for m in c.messages))
            await asyncio.sleep(0.2)
            assert not any(m["type"] == "chat_translation" for m in ama.messages)  # the speaker reads their own line

            fake.mode = "slow"
            await ama.send_chat("Is the engine still there?")
            await basma.wait_for(lambda c: any(m["text"] == "Is the engine still there?" for m in c.chat), timeout=1)  # not held up
            await chloe.send_chat("Oui, je vous entends")
            await ama.wait_for(lambda c: any(m["text"] == "Oui, je vous entends" for m in c.chat), timeout=1)  # the room carries on
            failed = await basma.wait_for(
                lambda c: next((m for m in c.messages if m["type"] == "chat_translation" and m["status"] == "failed"), None), timeout=5
            )
            assert "text" not in failed
    finally:
        await runner.cleanup()


async def test_quick_chat_is_sent_by_id_and_checked(server):
    async with (
        await ThirdSpaceClient.connect(server.ws, "gallery", "Ama", "sw") as ama,
        await ThirdSpaceClient.connect(server.ws, "gallery", "Bo", "zh") as bo,
    ):
        await ama.send({"type": "quick", "phrase": "where_is", "thing": "astrolabe"})
        # Ama's own line, not a quick line from the room's history
        line = await bo.wait_for(lambda c: next((m for m in c.chat if m.get("quick") and m["from"] == ama.id), None))
        assert line["quick"] == {"phrase": "where_is", "thing": "astrolabe"}
        assert line["text"] == "Astrolabu iko wapi?"  # in the speaker's language; listeners render their own
        await ama.send({"type": "quick", "phrase": "dance", "thing": None})
        await ama.send({"type": "quick", "phrase": "where_is", "thing": "nowhere"})
        await ama.send({"type": "quick", "phrase": "thank_you", "thing": "astrolabe"})
        errors = await ama.wait_for(lambda c: c.errors if len(c.errors) >= 3 else None)
        assert [e["field"] for e in errors] == ["phrase", "thing", "thing"]


async def test_visitors_can_report_a_line(server):
    from thirdspace.web.keys import DB

    async with (
        await ThirdSpaceClient.connect(server.ws, "market", "Rude", "en") as rude,
        await ThirdSpaceClient.connect(server.ws, "market", "Reporter", "fr") as reporter,
    ):
        await rude.send_chat("something unkind")
        line = await reporter.wait_for(lambda c: next((m for m in c.chat if m["from"] == rude.id), None))
        await reporter.send({"type": "report", "message": line["id"], "reason": "insulting"})
        await reporter.wait_for(lambda c: any(m["type"] == "reported" for m in c.messages))
        (report, *_) = await server.app[DB].reports()
        assert (
            report["line"]["text"] == "something unkind"
            and report["reason"] == "insulting"
            and report["reported_by"].startswith("Reporter")
        )


def test_a_line_in_another_room_language_is_flagged():
    from thirdspace.chat.languages import mismatch
    from thirdspace.rooms.room import Room
    from thirdspace.scenes.model import validate

    assert mismatch("Habari za asubuhi, karibuni nyote kwenye ukumbi huu", "en", {"en", "sw"}) == "sw"  # narrows the identifier
    room = Room("gallery-1", validate(demo_scene("gallery")))
    ama, _ = room.join("Ama", "en", "#000000", now=0)
    room.join("Chloé", "fr", "#000000", now=0)
    flagged = room.chat(ama.id, "Bonjour à tous, je suis très contente de vous voir ici", now=0)[0].message
    assert flagged["detected"] == "fr" and flagged["language"] == "en"
    plain = room.chat(ama.id, "Hello everyone, I am very happy to see you all here", now=1)[0].message
    assert "detected" not in plain
    short = room.chat(ama.id, "Merci !", now=2)[0].message
    assert "detected" not in short


async def test_the_server_says_which_backend_and_languages_it_has(libre, server, scenes_dir, tmp_path):
    import aiohttp

    from tests.curate.conftest import fresh_data_dir

    async with aiohttp.ClientSession() as http, http.get(f"{server.http}/api/chat/languages") as response:
        assert await response.json() == {"backend": "none", "languages": []}
    fake, url = libre
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=fresh_data_dir(server, tmp_path), translator="libretranslate",
                             translator_url=url)  # fmt: skip
    runner, running = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{running.http}/api/chat/languages") as response:
            body = await response.json()
        assert body["backend"] == "libretranslate" and {"en", "fr", "ar"} <= set(body["languages"])
    finally:
        await runner.cleanup()
