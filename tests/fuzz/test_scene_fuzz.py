"""Fuzzing scene documents: accepted (and then sendable to visitors unchanged) or a SceneError naming JSON paths.

Scene files are read with Python's json module, which also reads NaN, Infinity, integers of any
size and lone surrogate escapes; curator edits arrive as JSON bodies.  See fuzz.contracts.
"""

from __future__ import annotations

import json

import pytest
from fuzz.contracts import (
    NASTY_VALUES,
    check_scene,
    check_scene_edit,
    check_scene_file,
    demo_scene,
    demo_scene_names,
    mutate_frame,
    mutate_json,
)
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.strategies import mutations, python_json, python_scalars, wire_json, wire_text
from thirdspace.scenes import editing
from thirdspace.scenes.model import Scene, SceneError

SCENES = demo_scene_names()


def issues(result) -> list[tuple[str, str]]:
    assert isinstance(result, SceneError), f"accepted: {result}"
    return [(i.path, i.reason) for i in result.issues]


def test_the_demo_scenes_pass_the_contract():
    assert len(SCENES) >= 3
    for name in SCENES:
        assert isinstance(check_scene(demo_scene(name)), Scene)
        assert isinstance(check_scene_file(json.dumps(demo_scene(name)).encode()), Scene)


@given(python_json)
@example({})
@example([])
@example({"format": 1, "nodes": None})
def test_arbitrary_json_values(document):
    check_scene(document)


# Replacement values: anything Python's json can give, plus shapes close to what the schema wants.
scene_values = (
    python_scalars
    | python_json
    | st.lists(st.floats() | st.integers(), min_size=3, max_size=4)
    | st.dictionaries(st.sampled_from(["en", "fr", "ar", "zz", "en\n", "e"]), python_scalars, max_size=3)
)


@given(st.sampled_from(SCENES), mutations(scene_values, max_size=6))
@example("gallery", [(0, "set", None)])
@example("gallery", [(1, "drop", None), (1, "drop", None)])
def test_mutated_demo_scenes(name, changes):
    check_scene(mutate_json(demo_scene(name), changes))


@given(st.sampled_from(SCENES), st.integers(0, 2**16), st.sampled_from(NASTY_VALUES) | st.floats() | st.integers() | st.text(max_size=4))
def test_demo_scenes_with_one_value_replaced(name, where, value):
    """One change at a time, so that the document is otherwise valid and the later checks run too."""
    check_scene(mutate_json(demo_scene(name), [(where, "set", value)]))


@given(st.sampled_from(SCENES), mutations(st.sampled_from([0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]), max_size=4))
def test_demo_scenes_with_crossed_references_and_duplicates(name, changes):
    """Only ``ref`` and ``dup`` mutations: ids and references point at the wrong things or repeat."""
    changes = [(where, "ref" if i % 2 else "dup", value) for i, (where, _, value) in enumerate(changes)]
    check_scene(mutate_json(demo_scene(name), changes))


@given(st.binary(max_size=300))
@example(b"[" * 100_000)
@example(b"1" * 5000)
@example(b"\xff\xfe{}")
def test_scene_files_of_arbitrary_bytes(data):
    check_scene_file(data)


@given(st.sampled_from(SCENES), st.lists(st.integers(0, 2**20), max_size=4), st.none() | st.integers(0, 20_000), st.binary(max_size=8))
def test_damaged_scene_files(name, flips, cut, tail):
    text = json.dumps(demo_scene(name)).encode()
    check_scene_file(mutate_frame(text, flips, cut, tail))


# -- curator edits ---------------------------------------------------------------------------------

DOCS = {name: demo_scene(name) for name in SCENES}
NODE_IDS = sorted({n["id"] for doc in DOCS.values() for n in doc["nodes"]})
TEXT_PATHS = sorted({path for doc in DOCS.values() for path, _ in editing.text_paths(doc)})
languages = st.sampled_from(["en", "fr", "ar", "zh", "es", "de"])
node_ids = st.sampled_from(NODE_IDS) | wire_text
vec = st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**63), 2**63), min_size=2, max_size=5)
texts = st.dictionaries(languages | wire_text, st.none() | wire_text, max_size=3)
field_values = st.none() | vec | texts | node_ids | wire_json
nodes = st.fixed_dictionaries(
    {"id": node_ids},
    optional={k: field_values for k in ("asset", "parent", "position", "rotation", "scale", "name", "description", "colour")},
) | st.dictionaries(wire_text, wire_json, max_size=4)
edits = st.one_of(
    st.tuples(st.just("add"), nodes),
    st.tuples(
        st.just("update"), node_ids, st.dictionaries(st.sampled_from(sorted(editing.NODE_FIELDS | {"colour"})), field_values, max_size=3)
    ),
    st.tuples(st.just("remove"), node_ids),
    st.tuples(st.just("text"), st.sampled_from(TEXT_PATHS) | wire_text, languages, st.none() | wire_text),
)


@given(st.sampled_from(SCENES), edits)
@example("gallery", ("update", "hall", {"rotation": [0, 0, 0, 2**63]}))
@example("gallery", ("text", "title", "en", None))
def test_curator_edits(name, edit):
    check_scene_edit(demo_scene(name), edit)


# -- regressions: inputs the fuzzers found ---------------------------------------------------------


def test_regression_scene_with_integer_bounds_too_large_for_a_float():
    doc = demo_scene("gallery")
    doc["bounds"]["min"] = [-(10**400), 0, 0]  # was: OverflowError from math.isfinite
    assert ("$.bounds.min[0]", "is too large a number (at most 64 bits)") in issues(check_scene(doc))


def test_regression_scene_with_rotation_too_large_for_a_float():
    doc = demo_scene("gallery")
    doc["nodes"][1]["rotation"] = [10**200, 0, 0, 0]  # was: OverflowError from math.sqrt
    assert ("$.nodes[1].rotation[0]", "is too large a number (at most 64 bits)") in issues(check_scene(doc))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("nan"), "must be a finite number"),
        (float("inf"), "must be a finite number"),
        (-float("inf"), "must be a finite number"),
        (2**64, "is too large a number (at most 64 bits)"),
        (-(2**63) - 1, "is too large a number (at most 64 bits)"),
    ],
)
def test_regression_scene_with_a_number_orjson_cannot_send(value, reason):
    """Accepted, these broke the server later: orjson writes NaN and infinities as null and refuses integers past 64 bits."""
    doc = demo_scene("gallery")
    doc["nodes"][1]["position"] = [0, value, 0]
    assert ("$.nodes[1].position[1]", reason) in issues(check_scene(doc))
    doc = demo_scene("gallery")
    doc["nodes"][1]["rotation"] = [value, 0, 0, 1]  # NaN used to pass the unit-quaternion check
    assert ("$.nodes[1].rotation[0]", reason) in issues(check_scene(doc))


def test_regression_scene_with_a_lone_surrogate_in_a_text():
    doc = demo_scene("gallery")
    doc["title"]["fr"] = "Galerie \ud800"  # json.loads reads the escape "\ud800"; orjson cannot send it
    assert ("$.title.fr", "is not valid Unicode text (it holds a lone surrogate)") in issues(check_scene(doc))
    result = check_scene_file(json.dumps(doc).encode())
    assert [i.path for i in result.issues] == ["$.title.fr"]


def test_regression_scene_file_nested_too_deeply():
    result = check_scene_file(b"[" * 100_000)  # was: RecursionError from json.loads
    assert [i.path for i in result.issues] == ["$"] and "deeply" in result.issues[0].reason


def test_regression_scene_file_with_an_integer_of_5000_digits():
    result = check_scene_file(b'{"format": ' + b"1" * 5000 + b"}")  # was: ValueError (int max str digits) from json.loads
    assert [i.path for i in result.issues] == ["$"] and "invalid JSON" in result.issues[0].reason
