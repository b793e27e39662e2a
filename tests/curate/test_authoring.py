"""The authoring API: drafts, revisions, If-Match, validation, texts, publishing, roll-back, live updates."""

from __future__ import annotations

import asyncio
import itertools

import orjson
import pytest
import websockets

from tests.curate.conftest import Api, Curated, draft
from thirdspace.client import ThirdSpaceClient

_names = itertools.count(1)


async def copy_scene(api: Api, source: str = "gallery", publish: bool = False) -> tuple[str, str]:
    """A fresh copy of a demo scene: (its id, its ETag)."""
    scene_id = f"copy-{source}-{next(_names)}"
    reply = await api.post("/api/curate/scenes", {"copy_from": source, "id": scene_id})
    assert reply.status == 201, reply.body
    etag = reply.etag
    if publish:
        reply = await api.post(f"/api/curate/scenes/{scene_id}/publish", headers={"If-Match": etag})
        assert reply.status == 200, reply.body
    return scene_id, etag


def node(document: dict, node_id: str) -> dict:
    return next(n for n in document["nodes"] if n["id"] == node_id)


async def test_every_change_is_a_new_revision(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    assert etag == '"r1"'
    moved = await api.patch(f"/api/curate/scenes/{scene}/nodes/plinth-1", {"position": [-4.5, 0, -1.5]}, headers={"If-Match": etag})
    assert moved.status == 200 and moved.etag == '"r2"' and moved.body["revision"] == 2
    assert node(moved.body["document"], "plinth-1")["position"] == [-4.5, 0, -1.5]
    turned = await api.patch(
        f"/api/curate/scenes/{scene}/nodes/plinth-1",
        {"rotation": [0, 0.7071068, 0, 0.7071068], "scale": [1, 2, 1]},
        headers={"If-Match": moved.etag},
    )
    assert turned.status == 200 and turned.etag == '"r3"'
    revisions = (await api.get(f"/api/curate/scenes/{scene}/revisions")).body["revisions"]
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    assert all(r["author"] == "Curator Example" for r in revisions)
    first = (await api.get(f"/api/curate/scenes/{scene}/revisions/1")).body
    assert node(first["document"], "plinth-1")["position"] == [-4.5, 0, -2.5]  # nothing was overwritten
    diff = (await api.get(f"/api/curate/scenes/{scene}/diff?from=1&to=3")).body["diff"]
    assert diff["nodes"]["changed"]["plinth-1"]["position"] == {"from": [-4.5, 0, -2.5], "to": [-4.5, 0, -1.5]}
    assert diff["nodes"]["changed"]["plinth-1"]["scale"] == {"from": None, "to": [1, 2, 1]}
    assert diff["nodes"]["added"] == diff["nodes"]["removed"] == []


async def test_writes_need_the_current_revision(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    path = f"/api/curate/scenes/{scene}/nodes/plinth-2"
    missing = await api.patch(path, {"position": [0, 0, 0]})
    assert missing.status == 428 and missing.body["field"] == "If-Match"
    assert (await api.patch(path, {"position": [0, 0, 0]}, headers={"If-Match": etag})).status == 200
    stale = await api.patch(path, {"position": [1, 0, 0]}, headers={"If-Match": etag})
    assert stale.status == 412 and stale.body["current_revision"] == 2 and stale.etag == '"r2"'
    assert node((await draft(api, scene)).body["document"], "plinth-2")["position"] == [0, 0, 0]
    assert (await api.patch(path, {"position": [1, 0, 0]}, headers={"If-Match": "r2"})).status == 412  # not an ETag


async def test_two_writers_with_the_same_if_match_exactly_one_wins(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    for round_number in range(10):
        path = f"/api/curate/scenes/{scene}/nodes/plinth-3"
        first, second = await asyncio.gather(
            api.patch(path, {"position": [round_number, 0, 1]}, headers={"If-Match": etag}),
            api.patch(path, {"position": [round_number, 0, 2]}, headers={"If-Match": etag}),
        )
        assert sorted([first.status, second.status]) == [200, 412], (first.body, second.body)
        winner = first if first.status == 200 else second
        current = await draft(api, scene)
        assert current.body["document"] == winner.body["document"]
        assert current.body["revision"] == round_number + 2
        etag = current.etag


async def test_validation_errors_name_the_json_path(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    index = [n["id"] for n in (await draft(api, scene)).body["document"]["nodes"]].index("plinth-1")
    short = await api.patch(f"{base}/nodes/plinth-1", {"position": [1, 2]}, headers={"If-Match": etag})
    assert short.status == 422 and short.body["field"] == f"$.nodes[{index}].position"
    cycle = await api.patch(f"{base}/nodes/plinth-1", {"parent": "celadon-vase"}, headers={"If-Match": etag})  # its own child
    assert cycle.status == 422 and "cycle" in cycle.body["error"]
    unknown = await api.patch(f"{base}/nodes/plinth-1", {"colour": "red"}, headers={"If-Match": etag})
    assert unknown.status == 400 and unknown.body["field"] == "$.colour"
    duplicate = await api.post(f"{base}/nodes", {"node": {"id": "hall"}}, headers={"If-Match": etag})
    assert duplicate.status == 409 and duplicate.body["field"] == "$.id"
    nowhere = await api.patch(f"{base}/nodes/nowhere", {"position": [0, 0, 0]}, headers={"If-Match": etag})
    assert nowhere.status == 404
    bad_json = await api.request("PATCH", f"{base}/nodes/plinth-1", data=b"{nope", headers={"If-Match": etag})
    assert bad_json.status == 400 and bad_json.body["field"] == "body"
    renamed = await api.put(base, {"document": {**(await draft(api, scene)).body["document"], "id": "other"}}, headers={"If-Match": etag})
    assert renamed.status == 422 and renamed.body["field"] == "$.id"
    bad_text = await api.put(f"{base}/texts", {"path": "nodes", "language": "fr", "text": "x"}, headers={"If-Match": etag})
    assert bad_text.status == 400 and bad_text.body["field"] == "$.path"
    assert (await draft(api, scene)).body["revision"] == 1  # none of them changed anything


async def test_add_reparent_and_remove_nodes(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    added = await api.post(f"{base}/nodes", {"node": {"id": "stool", "asset": "plinth", "position": [0, 0, 2]}}, headers={"If-Match": etag})
    assert added.status == 200
    vase = await api.post(f"{base}/nodes", {"node": {"id": "vase-2", "asset": "celadon-vase", "parent": "stool", "position": [0, 1, 0]}},
                          headers={"If-Match": added.etag})  # fmt: skip
    assert vase.status == 200
    moved = await api.patch(f"{base}/nodes/vase-2", {"parent": "plinth-2"}, headers={"If-Match": vase.etag})
    assert node(moved.body["document"], "vase-2")["parent"] == "plinth-2"
    removed = await api.delete(f"{base}/nodes/plinth-2", headers={"If-Match": moved.etag})
    ids = {n["id"] for n in removed.body["document"]["nodes"]}
    assert "plinth-2" not in ids and "vase-2" not in ids and "lustre-jar" not in ids and "stool" in ids  # the whole subtree


async def test_texts_per_language_and_machine_translations_wait_for_review(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    human = await api.put(
        f"{base}/texts", {"path": "nodes.plinth-1.name", "language": "sw", "text": "Kiti cha maonyesho"}, headers={"If-Match": etag}
    )
    assert human.status == 200
    machine = await api.put(
        f"{base}/texts",
        {"path": "title", "language": "hi", "text": "साझा चीज़ों की गैलरी", "machine_translated": True},
        headers={"If-Match": human.etag},
    )
    assert machine.status == 200
    published = await api.post(f"{base}/publish", headers={"If-Match": machine.etag})
    assert published.status == 200
    visitor_view = (await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"]
    assert node(visitor_view, "plinth-1")["name"]["sw"] == "Kiti cha maonyesho"
    assert "hi" not in visitor_view["title"]  # waiting for a person
    reviews = (await api.get("/api/curate/reviews?status=pending")).body["reviews"]
    (review,) = [r for r in reviews if r["kind"] == "text" and r["scene_id"] == scene]
    assert review["detail"] == {"path": "title", "language": "hi", "text": "साझा चीज़ों की गैलरी"}
    decided = await api.post(f"/api/curate/reviews/{review['id']}", {"decision": "approve", "note": "checked by a Hindi speaker"})
    assert (
        decided.status == 200 and decided.body["decided_by"] == "Curator Example" and decided.body["note"] == "checked by a Hindi speaker"
    )
    assert (await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"]["title"]["hi"] == "साझा चीज़ों की गैलरी"


async def test_publish_roll_back_and_take_down(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    assert (await curated.anonymous.get(f"/api/scenes/{scene}")).status == 404  # a draft is not public
    first = await api.post(f"{base}/publish", headers={"If-Match": etag})
    assert first.body["scene"]["published_revision"] == 1
    moved = await api.patch(f"{base}/nodes/plinth-4", {"position": [4.5, 0, 0]}, headers={"If-Match": first.etag})
    assert node((await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"], "plinth-4")["position"] == [4.5, 0, -2.5]
    second = await api.post(f"{base}/publish", headers={"If-Match": moved.etag})
    assert node((await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"], "plinth-4")["position"] == [4.5, 0, 0]
    back = await api.post(f"{base}/rollback", {"revision": 1, "publish": True}, headers={"If-Match": second.etag})
    assert back.status == 200 and back.body["revision"] == 3 and back.body["scene"]["published_revision"] == 3
    assert node((await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"], "plinth-4")["position"] == [4.5, 0, -2.5]
    history = (await api.get(f"{base}/revisions")).body["revisions"]
    assert history[0]["message"] == "rolled back to revision 1" and history[0]["published_at"]
    assert (await curated.curator.delete(base, headers={"If-Match": back.etag})).status == 403  # admins take scenes down
    assert (await curated.admin.delete(base, headers={"If-Match": back.etag})).status == 204
    assert (await curated.anonymous.get(f"/api/scenes/{scene}")).status == 404
    assert scene not in {s["id"] for s in (await api.get("/api/curate/scenes")).body["scenes"]}


async def test_a_publish_reaches_visitors_in_the_room_without_a_reload(curated: Curated):
    api = curated.curator
    scene, _ = await copy_scene(api, publish=True)
    base = f"/api/curate/scenes/{scene}"
    async with await ThirdSpaceClient.connect(curated.server.ws, scene, "Watcher") as visitor:
        current = await draft(api, scene)
        moved = await api.patch(f"{base}/nodes/celadon-vase", {"position": [0, 1.2, 0]}, headers={"If-Match": current.etag})
        await asyncio.sleep(0.2)
        assert visitor.scene_document is None  # a draft is not shown to visitors
        await api.post(f"{base}/publish", headers={"If-Match": moved.etag})
        document = await visitor.wait_for(lambda c: c.scene_document, timeout=2)
        assert node(document, "celadon-vase")["position"] == [0, 1.2, 0]
        message = next(m for m in visitor.messages if m["type"] == "scene")
        assert message["revision"] == 2 and message["scene"] == scene


async def test_curators_watching_a_draft_see_each_others_changes(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    headers = {"Authorization": f"Bearer {curated.tokens['curator']}"}
    async with (
        websockets.connect(curated.server.ws, additional_headers=headers) as one,
        websockets.connect(curated.server.ws, additional_headers={"Authorization": f"Bearer {curated.tokens['admin']}"}) as two,
    ):
        for ws in (one, two):
            await ws.send(orjson.dumps({"type": "watch", "scene": scene}).decode())
            assert orjson.loads(await ws.recv()) == {"type": "watching", "scene": scene, "revision": 1}
        await api.patch(f"/api/curate/scenes/{scene}/nodes/plinth-1", {"position": [0, 0, 0]}, headers={"If-Match": etag})
        for ws in (one, two):
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 2))
            assert message == {"type": "draft", "scene": scene, "revision": 2, "author": "Curator Example"}


async def test_copy_and_create_scenes(curated: Curated):
    api = curated.curator
    document = (await draft(api, "gallery")).body["document"]
    created = await api.post("/api/curate/scenes", {"document": {**document, "id": "brand-new"}})
    assert created.status == 201 and created.body["scene"]["published_revision"] is None
    again = await api.post("/api/curate/scenes", {"document": {**document, "id": "brand-new"}})
    assert again.status == 409
    invalid = await api.post("/api/curate/scenes", {"document": {**document, "id": "bad id"}})
    assert invalid.status == 422 and invalid.body["field"] == "$.id"
    missing = await api.post("/api/curate/scenes", {"copy_from": "nowhere", "id": "x"})
    assert missing.status == 404 and missing.body["field"] == "copy_from"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Vase\u202e esab", "holds the bidi control U+202E"),  # an override would reorder the label for every visitor
        ("\u202bجرة\u202c", "holds the bidi control U+202B"),
        ("\u3164\u3164", "shows nothing"),  # Hangul fillers
        ("\u2800", "shows nothing"),  # the Braille blank
        ("\u200b\u200d", "shows nothing"),
    ],
    ids=["override", "embedding", "hangul-filler", "braille-blank", "zero-width"],
)
async def test_curator_texts_that_reorder_or_show_nothing_are_refused(curated: Curated, text, reason):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    refused = await api.put(f"{base}/texts", {"path": "nodes.plinth-1.name", "language": "fr", "text": text}, headers={"If-Match": etag})
    assert refused.status == 422 and reason in refused.body["error"]
    assert refused.body["field"].endswith(".name.fr")
    isolated = await api.put(  # isolates and marks are what a curator mixing directions needs: they stay
        f"{base}/texts", {"path": "nodes.plinth-1.name", "language": "ar", "text": "جرة \u2066Celadon\u2069 \u200fقديمة"},
        headers={"If-Match": etag},
    )  # fmt: skip
    assert isolated.status == 200, isolated.body


async def test_one_asset_with_its_levels_for_the_studio_to_size(curated: Curated):
    reply = await curated.curator.get("/api/curate/assets/plinth")
    assert reply.status == 200, reply.body
    assert reply.body["id"] == "plinth" and reply.body["status"] == "approved"
    lightest = reply.body["levels"][-1]
    glb = await curated.anonymous.get(lightest["url"])
    assert glb.status == 200 and glb.body[:4] == b"glTF" and len(glb.body) == lightest["size"]
    for wanted in ("no-such-asset", "..%2Fscenes%2Fgallery", "Upper"):
        missing = await curated.curator.get(f"/api/curate/assets/{wanted}")
        assert missing.status == 404 and missing.body["field"] == "asset_id", (wanted, missing.body)
    assert (await curated.visitor.get("/api/curate/assets/plinth")).status == 403
    assert (await curated.anonymous.get("/api/curate/assets/plinth")).status == 401
