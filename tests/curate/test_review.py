"""Generated content waits for a person: visitors never receive pending or rejected assets."""

from __future__ import annotations

from tests.curate.conftest import Curated, draft
from tests.curate.test_authoring import copy_scene, node
from thirdspace.client import ThirdSpaceClient


async def test_a_pending_generated_asset_reaches_visitors_only_after_approval(curated: Curated):
    api = curated.curator
    scene, _ = await copy_scene(api, publish=True)
    base = f"/api/curate/scenes/{scene}"
    current = await draft(api, scene)
    added = await api.post(
        f"{base}/nodes",
        {
            "node": {"id": "pagoda", "position": [0, 0, 2], "name": {"en": "Pagoda"}},
            "recipe": {"name": "pagoda", "params": {"tiers": 3}, "seed": 4},
        },
        headers={"If-Match": current.etag},
    )
    assert added.status == 200, added.body
    asset_id = node(added.body["document"], "pagoda")["asset"]
    queue = (await api.get("/api/curate/reviews?status=pending")).body["reviews"]
    (review,) = [r for r in queue if r["kind"] == "asset" and r["subject"] == asset_id]
    assert review["detail"]["provenance"]["recipe"] == "pagoda" and review["created_by"] == "Curator Example"

    async with await ThirdSpaceClient.connect(curated.server.ws, scene, "Visitor") as visitor:
        await api.post(f"{base}/publish", headers={"If-Match": added.etag})
        live = await visitor.wait_for(lambda c: c.scene_document, timeout=2)
        assert "asset" not in node(live, "pagoda")  # the node is there, its unreviewed asset is not
        manifest = (await curated.anonymous.get(f"/api/scenes/{scene}/manifest")).body
        assert asset_id not in {a["id"] for a in manifest["assets"]}
        assert "asset" not in node((await curated.anonymous.get(f"/api/scenes/{scene}")).body["scene"], "pagoda")

        visitor.scene_document = None
        approved = await api.post(f"/api/curate/reviews/{review['id']}", {"decision": "approve", "note": "proportions checked"})
        assert approved.status == 200 and approved.body["status"] == "approved"
        live = await visitor.wait_for(lambda c: c.scene_document, timeout=2)
        assert node(live, "pagoda")["asset"] == asset_id
        manifest = (await curated.anonymous.get(f"/api/scenes/{scene}/manifest")).body
        entry = next(a for a in manifest["assets"] if a["id"] == asset_id)
        assert entry["provenance"]["generated"] is True and entry["provenance"]["made_by"] == "Curator Example"

    history = (await api.get("/api/curate/reviews")).body["reviews"]
    decided = next(r for r in history if r["id"] == review["id"])
    assert (decided["decided_by"], decided["note"]) == ("Curator Example", "proportions checked") and decided["decided_at"]


async def test_a_rejected_asset_stays_hidden_even_when_a_draft_uses_it(curated: Curated):
    api = curated.curator
    scene, etag = await copy_scene(api)
    made = await api.post(
        "/api/curate/assets/generate", {"recipe": {"name": "memorial_gate", "params": {"bays": 1}}, "id": "gate-for-review"}
    )
    assert made.status == 201 and made.body["status"] == "pending"
    added = await api.post(
        f"/api/curate/scenes/{scene}/nodes", {"node": {"id": "gate", "asset": "gate-for-review"}}, headers={"If-Match": etag}
    )
    assert node(added.body["document"], "gate")["asset"] == "gate-for-review"  # curators see it in the draft
    await api.post(f"/api/curate/reviews/{made.body['review']}", {"decision": "reject", "note": "too tall for the gallery"})
    await api.post(f"/api/curate/scenes/{scene}/publish", headers={"If-Match": added.etag})
    public = (await curated.anonymous.get(f"/api/scenes/{scene}")).body
    assert "asset" not in node(public["scene"], "gate") and "gate-for-review" not in public["assets"]
    library = (await api.get("/api/curate/assets")).body["assets"]
    assert next(a for a in library if a["id"] == "gate-for-review")["status"] == "rejected"


async def test_uploads_that_are_not_generated_need_no_review(curated: Curated):
    from tests.assets.helpers import third_party_models

    data = third_party_models()["pico-neo3/right.glb"]
    upload = await curated.curator.request("POST", "/api/curate/assets?id=controller&source_type=digitalCapture", data=data)
    assert upload.status == 201 and upload.body["status"] == "approved" and upload.body["review"] is None
    generated = await curated.curator.request("POST", "/api/curate/assets?id=controller-ai&source_type=trainedAlgorithmicMedia", data=data)
    assert generated.status == 201 and generated.body["status"] == "pending"
    hostile = await curated.curator.request("POST", "/api/curate/assets?id=broken", data=data[:1000])
    assert hostile.status == 422 and hostile.body["field"] == "header.length"
    taken = await curated.curator.request("POST", "/api/curate/assets?id=controller", data=data)
    assert taken.status == 409 and taken.body["field"] == "id"
