"""Overlays and tours through the authoring API: texts per language, the draft's language report, publishing."""

from __future__ import annotations

from tests.curate.conftest import Curated, draft
from tests.curate.test_authoring import copy_scene


async def test_overlay_and_stop_texts_are_edited_per_language_and_reported(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    base = f"/api/curate/scenes/{scene}"
    before = (await api.get(f"{base}/languages")).body["languages"]
    assert "vase-label" in before["zh"]["overlays_without_text"]
    reply = await api.put(f"{base}/texts", {"path": "overlays.vase-label.text", "language": "zh", "text": "青瓷瓶 · 龙泉，十三世纪"},
                          headers={"If-Match": etag})  # fmt: skip
    assert reply.status == 200
    reply = await api.put(f"{base}/texts", {"path": "tours.travelling-objects.stops.welcome.title", "language": "zh", "text": "欢迎"},
                          headers={"If-Match": reply.etag})  # fmt: skip
    assert reply.status == 200
    after = (await api.get(f"{base}/languages")).body["languages"]["zh"]
    assert "vase-label" not in after["overlays_without_text"]
    assert {"tour": "travelling-objects", "stop": "welcome", "missing": ["narration"]} in after["stops_missing"]
    bad = await api.put(f"{base}/texts", {"path": "overlays.ghost.text", "language": "zh", "text": "x"}, headers={"If-Match": reply.etag})
    assert bad.status == 404 and bad.body["field"] == "$.path"
    # A broken reference in the layer is refused with its path.
    document = (await draft(api, scene)).body["document"]
    document["overlays"][1]["at"] = {"node": "nowhere"}
    refused = await api.put(base, {"document": document}, headers={"If-Match": reply.etag})
    assert refused.status == 422 and refused.body["field"] == "$.overlays[1].at.node"
    published = await api.post(f"{base}/publish", headers={"If-Match": reply.etag})
    assert published.status == 200
    public = (await curated.anonymous.get(f"/api/scenes/{scene}/languages")).body
    assert "vase-label" not in public["languages"]["zh"]["overlays_without_text"]
