import copy
import json

import pytest

from tests.conftest import SCENES_DIR, demo_scene
from thirdspace.scenes.model import SceneError, load_directory, validate


def issues_of(document) -> list[tuple[str, str]]:
    with pytest.raises(SceneError) as info:
        validate(document, "bad.json")
    return [(i.path, i.reason) for i in info.value.issues]


@pytest.mark.parametrize("path", sorted(SCENES_DIR.glob("*.json")), ids=lambda p: p.name)
def test_demo_scenes_are_valid(path):
    scene = validate(json.loads(path.read_text("utf-8")), path.name)
    assert scene.asset_ids
    assert scene.languages[0] == scene.document["default_language"]
    assert len(scene.languages) >= 3


def test_summary_lists_titles_languages_and_capacity():
    scene = validate(demo_scene("caravanserai"))
    summary = scene.summary()
    assert summary["id"] == "caravanserai"
    assert summary["capacity"] == 50
    assert summary["title"]["fr"].startswith("La cour")
    assert set(summary["languages"]) == {"en", "fr", "ar", "zh", "es"}


def test_capacity_defaults_to_fifty():
    doc = demo_scene()
    del doc["capacity"]
    assert validate(doc).capacity == 50


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [
        (lambda d: d["nodes"][1].__setitem__("position", [0, "up", 0]), "$.nodes[1].position[1]", "is not of type 'number'"),
        (lambda d: d.__setitem__("capacity", 0), "$.capacity", "less than the minimum"),
        (lambda d: d.pop("spawn_points"), "$", "'spawn_points' is a required property"),
        (lambda d: d["environment"].__setitem__("sky_colour", "blue"), "$.environment.sky_colour", "does not match"),
        (lambda d: d["title"].__setitem__("not a tag!", "x"), "$.title", "does not match"),
        (lambda d: d["nodes"][0].__setitem__("colour", "#fff"), "$.nodes[0]", "Additional properties"),
        (lambda d: d["nodes"][2].__setitem__("id", "hall"), "$.nodes[2].id", "duplicate node id 'hall'"),
        (lambda d: d["nodes"][5].__setitem__("parent", "nowhere"), "$.nodes[5].parent", "no node with id 'nowhere'"),
        (lambda d: d["spawn_points"][0].__setitem__("position", [50, 0, 0]), "$.spawn_points[0].position", "outside the bounds"),
        (lambda d: d["bounds"].__setitem__("min", [10, 0, 0]), "$.bounds", "below its max"),
        (lambda d: d["nodes"][1].__setitem__("rotation", [0, 0, 0, 2]), "$.nodes[1].rotation", "unit quaternion"),
        (lambda d: d.__setitem__("default_language", "de"), "$.title", "no title in the default language 'de'"),
    ],
)
def test_invalid_documents_name_the_path_and_reason(mutate, path, reason):
    doc = copy.deepcopy(demo_scene())
    mutate(doc)
    found = issues_of(doc)
    assert any(p == path and reason in r for p, r in found), found


def test_parent_cycles_are_refused():
    doc = demo_scene()
    doc["nodes"][1]["parent"] = "celadon-vase"  # plinth-1 <- celadon-vase <- plinth-1
    assert any("cycle" in reason for _, reason in issues_of(doc))


def test_a_bad_file_is_reported_and_the_good_ones_still_load(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(demo_scene()), "utf-8")
    (tmp_path / "broken.json").write_text("{ not json", "utf-8")
    bad = demo_scene()
    bad["id"] = "bad"
    bad["nodes"][0]["scale"] = [1, 1]
    (tmp_path / "bad.json").write_text(json.dumps(bad), "utf-8")
    scenes, issues = load_directory(tmp_path)
    assert list(scenes) == ["gallery"]
    by_file = {i.source: i for i in issues}
    assert by_file["broken.json"].path == "$" and "line 1" in by_file["broken.json"].reason
    assert by_file["bad.json"].path == "$.nodes[0].scale"
    assert "is too short" in by_file["bad.json"].reason


def test_bounds_larger_than_the_wire_format_allows_are_refused():
    doc = demo_scene()
    doc["bounds"]["max"][0] = 20_000
    assert ("$.bounds", "a scene spans at most 10000 m on each axis") in issues_of(doc)


def test_declared_languages_join_the_scenes_languages_and_bad_ones_are_named():
    from thirdspace.tours.languages import report, scene_languages

    doc = demo_scene("gallery")
    assert "ko" not in validate(doc).languages
    doc["languages"] = ["ko", "pt-BR"]
    assert {"ko", "pt-BR"} <= set(validate(doc).languages)
    assert scene_languages(doc)[0] == doc["default_language"] and {"ko", "pt-BR", "ja"} <= set(scene_languages(doc))
    assert "ko" in report(doc)["languages"]
    doc["description"] = {**doc.get("description", {}), "tr": "Paylaşılan şeylerin galerisi"}
    assert "tr" in scene_languages(doc)
    for bad, path in ((["ko", "ko"], "$.languages"), (["korean!"], "$.languages[0]"), ("ko", "$.languages")):
        doc["languages"] = bad
        assert [p for p, _ in issues_of(doc)] == [path]
