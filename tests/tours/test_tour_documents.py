"""Overlays, anchors and tours in scene documents; the language report."""

from __future__ import annotations

import copy

import aiohttp
import pytest

from tests.conftest import demo_scene
from thirdspace.scenes import editing
from thirdspace.scenes.model import SceneError, validate
from thirdspace.tours.languages import report


def gallery() -> dict:
    return copy.deepcopy(demo_scene("gallery"))


def test_the_demo_gallery_has_a_tour_of_five_stops_in_three_languages():
    scene = validate(gallery())
    (tour,) = scene.document["tours"]
    assert len(tour["stops"]) >= 5
    for stop in tour["stops"]:
        assert {"en", "fr", "ar"} <= set(stop["title"]) and {"en", "fr", "ar"} <= set(stop["narration"])
    kinds = {o["kind"] for o in scene.document["overlays"]}
    assert {"label", "panel", "narration", "path"} <= kinds


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (lambda d: d["overlays"][0]["at"].update(anchor="nowhere"), "$.overlays[0].at.anchor", "no anchor"),
        (lambda d: d["overlays"][1]["at"].update(node="nowhere"), "$.overlays[1].at.node", "no node"),
        (lambda d: d["overlays"][1].pop("text"), "$.overlays[1].text", "needs text"),
        (lambda d: d["overlays"].append({**d["overlays"][1]}), "$.overlays[9].id", "duplicate overlay"),
        (lambda d: d["overlays"][6]["trigger"].update(stop="nowhere"), "$.overlays[6].trigger.stop", "no tour stop"),
        (lambda d: d["tours"][0]["stops"][1]["overlays"].append("ghost"), "$.tours[0].stops[1].overlays[1]", "no overlay"),
        (lambda d: d["tours"][0]["stops"].append({**d["tours"][0]["stops"][0]}), "$.tours[0].stops[5].id", "duplicate stop"),
        (lambda d: d["anchors"].append({**d["anchors"][0]}), "$.anchors[2].id", "duplicate anchor"),
        (
            lambda d: d["overlays"].append({"id": "r", "kind": "reconstruction", "at": {"node": "hall"}}),
            "$.overlays[9].asset",
            "needs asset",
        ),
    ],
)
def test_broken_references_are_named(change, path, reason):
    document = gallery()
    change(document)
    with pytest.raises(SceneError) as err:
        validate(document)
    assert any(issue.path == path and reason in issue.reason for issue in err.value.issues), err.value.issues


def test_removing_a_node_takes_its_overlays_and_their_mentions():
    document = editing.remove_node(gallery(), "plinth-4")  # and the astrolabe on it
    assert "astrolabe-label" not in {o["id"] for o in document["overlays"]}
    stop = next(s for s in document["tours"][0]["stops"] if s["id"] == "astrolabe")
    assert stop["overlays"] == ["to-astrolabe"]  # the label and narration on the astrolabe went with it
    validate(document)


def test_unapproved_reconstructions_are_left_out_for_visitors():
    document = gallery()
    document["overlays"].append(
        {"id": "temple", "kind": "reconstruction", "at": {"node": "case"}, "asset": "ai-temple", "trigger": {"stop": "pagoda"}}
    )
    document["tours"][0]["stops"][4]["overlays"].append("temple")
    validate(document)
    shown = editing.visitor_view(document, lambda asset: asset != "ai-temple", lambda *a: None)
    assert "temple" not in {o["id"] for o in shown["overlays"]} and "temple" not in shown["tours"][0]["stops"][4]["overlays"]
    validate(shown)


def test_the_language_report_names_what_each_language_lacks():
    result = report(gallery())
    assert result["default_language"] == "en"
    languages = result["languages"]
    assert list(languages)[0] == "en"
    french = languages["fr"]
    assert french["overlays_without_text"] == [] and french["stops_missing"] == []
    assert french["narration_without_audio"] == ["astrolabe-story"]  # no recording yet, in any language
    chinese = languages["zh"]
    assert not chinese["complete"] and "vase-label" in chinese["overlays_without_text"]
    assert {"tour": "travelling-objects", "stop": "welcome", "missing": ["title", "narration"]} in chinese["stops_missing"]


async def test_the_language_report_is_served(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http}/api/scenes/gallery/languages") as response:
            body = await response.json()
        assert response.status == 200 and body["scene"] == "gallery" and body["languages"]["fr"]["overlays_without_text"] == []
        async with http.get(f"{server.http}/api/scenes/nowhere/languages") as response:
            assert response.status == 404 and (await response.json())["field"] == "scene_id"
