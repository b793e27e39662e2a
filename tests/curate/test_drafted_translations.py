"""Drafted translations: a curator asks for a scene in a language, a LibreTranslate-protocol server (started
here) translates every missing text with the glossary's terms kept, the drafts wait for review, and visitors
see them only once a person has approved them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from tests.chat.test_translation import FakeLibreTranslate
from tests.conftest import start_server
from tests.curate.conftest import Api, Curated, add_users, draft, fresh_data_dir
from tests.curate.test_authoring import copy_scene, node
from thirdspace.chat.glossary import mask, parse
from thirdspace.config import Settings
from thirdspace.scenes.editing import text_paths


class Backend(FakeLibreTranslate):
    """The protocol's server, also able to answer with a bidi override (hostile or broken output)."""

    async def translate(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "bidi":
            body = await request.json()
            self.requests.append(body)
            return web.json_response({"translatedText": f"\u202e{body['q']}"})
        return await super().translate(request)


@pytest.fixture(scope="module")
async def translating(server, scenes_dir, tmp_path_factory) -> AsyncIterator[tuple[Api, Api, Backend]]:
    backend = Backend()
    url = await backend.start()
    data = fresh_data_dir(server, tmp_path_factory.mktemp("translating"))
    tokens = add_users(data / "thirdspace.sqlite3")
    environ = {"THIRDSPACE_TRANSLATOR": "libretranslate", "THIRDSPACE_TRANSLATOR_URL": url}
    runner, running = await start_server(Settings.load(environ=environ, scenes_dir=scenes_dir, data_dir=data))
    async with aiohttp.ClientSession() as http:
        yield Api(http, running.http, tokens["curator"]), Api(http, running.http, None), backend
    await runner.cleanup()
    await backend.runner.cleanup()


def texts_in(document: dict, language: str) -> dict[str, str]:
    return {path: texts[language] for path, texts in text_paths(document) if language in texts}


async def pending_for(api: Api, scene: str, language: str) -> list[dict]:
    reviews = (await api.get("/api/curate/reviews?status=pending")).body["reviews"]
    return [r for r in reviews if r["scene_id"] == scene and r["kind"] == "text" and r["detail"]["language"] == language]


async def test_a_scene_drafted_into_swahili_waits_for_review_then_visitors_see_it(translating):
    api, anonymous, backend = translating
    backend.mode = "ok"
    scene, etag = await copy_scene(api, "caravanserai", publish=True)
    before = (await draft(api, scene)).body["document"]
    english = texts_in(before, "en")
    assert english and not texts_in(before, "sw")

    reply = await api.post(f"/api/curate/scenes/{scene}/translations", {"language": "sw"}, headers={"If-Match": etag})
    assert reply.status == 200, reply.body
    assert reply.body["revision"] == 2 and reply.etag == '"r2"'
    result = reply.body["translation"]
    assert (result["language"], result["source"], result["skipped"]) == ("sw", "en", [])
    assert {d["path"] for d in result["drafted"]} == set(english)
    # Each went through the backend with its glossary terms masked, and came back with them as the curators wrote them.
    terms = parse(before["chat"]["glossary"])
    swahili = texts_in(reply.body["document"], "sw")
    for path, text in english.items():
        assert swahili[path] == f"<sw> {text}"
    masked_requests = [r["q"] for r in backend.requests if r["target"] == "sw"]
    assert any("[[0]]" in q for q in masked_requests) and not any("caravanserai" in q.lower() for q in masked_requests)
    assert any(mask(text, terms, "en").found for text in english.values())

    # Pending, side by side with the source, and invisible to visitors even after a publish.
    queue = await pending_for(api, scene, "sw")
    assert {r["detail"]["path"] for r in queue} == set(english)
    for review in queue:
        detail = review["detail"]
        assert detail["machine"] is True and detail["source_language"] == "en" and detail["source_text"] == english[detail["path"]]
    counts = (await api.get(f"/api/curate/scenes/{scene}/languages")).body["languages"]["sw"]["texts"]
    assert counts == {"human": 0, "machine_approved": 0, "machine_pending": len(english), "machine_rejected": 0, "missing": 0}
    published = await api.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": reply.etag})
    assert published.status == 200, published.body
    visible = (await anonymous.get(f"/api/scenes/{scene}")).body["scene"]
    assert texts_in(visible, "sw") == {} and "machine_translated" not in visible

    # Approved: visitors get them; one rejected stays hidden.
    rejected = next(r for r in queue if r["detail"]["path"] == "nodes.arcade.name")
    for review in queue:
        decision = "reject" if review is rejected else "approve"
        decided = await api.post(f"/api/curate/reviews/{review['id']}", {"decision": decision, "note": "read by a speaker"})
        assert decided.status == 200, decided.body
    visible = (await anonymous.get(f"/api/scenes/{scene}")).body["scene"]
    assert texts_in(visible, "sw") == {p: t for p, t in swahili.items() if p != "nodes.arcade.name"}
    # ... each marked as a machine translation, and only in Swahili: the English a person wrote is not.
    assert visible["machine_translated"] == {p: ["sw"] for p in swahili if p != "nodes.arcade.name"}
    listed = next(s for s in (await anonymous.get("/api/scenes")).body["scenes"] if s["id"] == scene)
    shown = sum(len(texts) for _, texts in text_paths(visible))
    assert listed["made"]["machine_texts"] == len(swahili) - 1 and listed["made"]["texts"] == shown
    assert listed["made"]["objects"] == sum(1 for n in visible["nodes"] if "asset" in n)

    # A person's edit of a drafted text makes it theirs: no longer counted as machine-made.
    edited = await api.put(
        f"/api/curate/scenes/{scene}/texts",
        {"path": "nodes.fountain.name", "language": "sw", "text": "Chemchemi"},
        headers={"If-Match": published.etag},
    )
    assert edited.status == 200, edited.body
    assert node(edited.body["document"], "fountain")["name"]["sw"] == "Chemchemi"
    assert "machine_translated" not in edited.body["document"]  # the curators' draft does not carry the marks
    republished = await api.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": edited.etag})
    assert republished.status == 200, republished.body
    visible = (await anonymous.get(f"/api/scenes/{scene}")).body["scene"]
    assert "nodes.fountain.name" not in visible["machine_translated"] and "title" in visible["machine_translated"]
    counts = (await api.get(f"/api/curate/scenes/{scene}/languages")).body["languages"]["sw"]["texts"]
    assert counts == {"human": 1, "machine_approved": len(english) - 2, "machine_pending": 0, "machine_rejected": 1, "missing": 0}

    # Asked again, nothing is missing: no new revision.
    again = await api.post(f"/api/curate/scenes/{scene}/translations", {"language": "sw"}, headers={"If-Match": republished.etag})
    assert again.status == 200 and again.etag == republished.etag and again.body["translation"]["drafted"] == []


async def test_a_failing_backend_changes_nothing_and_says_why(translating):
    api, _, backend = translating
    scene, etag = await copy_scene(api, "caravanserai")
    for mode in ("500", "400", "malformed"):
        backend.mode = mode
        reply = await api.post(f"/api/curate/scenes/{scene}/translations", {"language": "hi"}, headers={"If-Match": etag})
        assert reply.status == 502, (mode, reply.body)
        assert reply.body["field"] == "translator" and "nothing was changed" in reply.body["error"], reply.body
    current = await draft(api, scene)
    assert current.etag == etag and texts_in(current.body["document"], "hi") == {}
    assert await pending_for(api, scene, "hi") == []


async def test_texts_whose_terms_or_direction_did_not_survive_are_left_to_a_person(translating):
    api, _, backend = translating
    scene, etag = await copy_scene(api, "caravanserai")
    document = (await draft(api, scene)).body["document"]
    terms = parse(document["chat"]["glossary"])
    english = texts_in(document, "en")
    with_terms = {p for p, t in english.items() if mask(t, terms, "en").found}
    assert with_terms and with_terms != set(english)

    backend.mode = "lose_token"  # the engine drops the glossary's placeholders
    reply = await api.post(f"/api/curate/scenes/{scene}/translations", {"language": "hi"}, headers={"If-Match": etag})
    assert reply.status == 200, reply.body
    result = reply.body["translation"]
    assert {s["path"] for s in result["skipped"]} == with_terms
    assert all("glossary term" in s["reason"] for s in result["skipped"])
    assert {d["path"] for d in result["drafted"]} == set(english) - with_terms
    assert set(texts_in(reply.body["document"], "hi")) == set(english) - with_terms

    backend.mode = "bidi"  # an answer that would reorder the text around it for every reader
    reply = await api.post(
        f"/api/curate/scenes/{scene}/translations", {"language": "ar", "scope": "nodes.fountain"}, headers={"If-Match": reply.etag}
    )
    assert reply.status == 200, reply.body
    result = reply.body["translation"]
    assert result["drafted"] == [] and result["skipped"] and all("U+202E" in s["reason"] for s in result["skipped"])
    arabic = texts_in(document, "ar")
    assert {s["path"] for s in result["skipped"]} == {p for p in english if p.startswith("nodes.fountain.") and p not in arabic}


async def test_bad_requests_are_refused_at_their_field(translating, curated: Curated):
    api, anonymous, backend = translating
    backend.mode = "ok"
    scene, etag = await copy_scene(api, "caravanserai")
    base = f"/api/curate/scenes/{scene}/translations"
    for body, status, field in (
        ({"language": "not a tag"}, 400, "language"),
        ({}, 400, "language"),
        ({"language": "en"}, 400, "language"),
        ({"language": "sw", "source": 7}, 400, "source"),
        ({"language": "sw", "scope": "nodes.nowhere"}, 404, "scope"),
        ({"language": "sw", "colour": "red"}, 400, "colour"),
    ):
        reply = await api.post(base, body, headers={"If-Match": etag})
        assert (reply.status, reply.body.get("field")) == (status, field), (body, reply.body)
    assert (await api.post(base, {"language": "sw"})).status == 428
    assert (await api.post(base, {"language": "sw"}, headers={"If-Match": '"r9"'})).status == 412
    assert (await anonymous.post(base, {"language": "sw"}, headers={"If-Match": etag})).status == 401
    # A server without a translation backend says so.
    other, other_etag = await copy_scene(curated.curator, "caravanserai")
    reply = await curated.curator.post(f"/api/curate/scenes/{other}/translations", {"language": "sw"}, headers={"If-Match": other_etag})
    assert (reply.status, reply.body["field"]) == (409, "translator")
    assert (await draft(api, scene)).etag == etag
