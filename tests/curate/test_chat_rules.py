"""Curators edit a scene's blocklist and glossary; rooms apply a publish at once; visitors never see the list."""

from __future__ import annotations

from tests.curate.conftest import Curated, draft
from tests.curate.test_authoring import copy_scene
from thirdspace.client import ThirdSpaceClient


async def test_a_published_blocklist_applies_to_open_rooms_and_stays_private(curated: Curated):
    api = curated.curator
    scene, _ = await copy_scene(api, publish=True)
    async with await ThirdSpaceClient.connect(curated.server.ws, scene, "Guest", "en") as guest:
        await guest.send_chat("what a rotten view")
        await guest.wait_for(lambda c: any(m["text"] == "what a rotten view" for m in c.chat))
        current = await draft(api, scene)
        document = {
            **current.body["document"],
            "chat": {"blocklist": ["rotten", "pourri"], "glossary": [{"terms": {"en": "stele", "fr": "stèle"}}]},
        }
        saved = await api.put(
            f"/api/curate/scenes/{scene}", {"document": document, "message": "chat rules"}, headers={"If-Match": current.etag}
        )
        assert saved.status == 200
        await api.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": saved.etag})
        live = await guest.wait_for(lambda c: c.scene_document)
        assert "blocklist" not in live.get("chat", {}) and live["chat"]["glossary"][0]["terms"]["fr"] == "stèle"
        await guest.send_chat("still R0TTEN")
        error = await guest.wait_for(lambda c: c.errors)
        assert error[-1]["code"] == "blocked"
    public = (await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"]
    assert "blocklist" not in public.get("chat", {})
    bad = await api.put(f"/api/curate/scenes/{scene}", {"document": {**document, "chat": {"blocklist": [""]}}},
                        headers={"If-Match": (await draft(api, scene)).etag})  # fmt: skip
    assert bad.status == 422 and bad.body["field"] == "$.chat.blocklist[0]"
