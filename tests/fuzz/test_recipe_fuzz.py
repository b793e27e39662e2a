"""Fuzzing recipe parameters: every parameter resolved (then a GLB the importer accepts) or a RecipeError naming it."""

from __future__ import annotations

import math

import pytest
from fuzz.contracts import check_recipe_build, check_recipe_params, recipe_names
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import python_json, python_scalars
from thirdspace.assets.recipes import RECIPES, RecipeError

NAMES = recipe_names()
# Building a GLB takes up to half a second: a quarter of the profile's examples (15 by default, 500 with --hypothesis-profile=deep).
BUILD_EXAMPLES = max(10, settings.default.max_examples // 4)


def in_range(spec: dict) -> st.SearchStrategy:
    """Values the schema accepts, integral floats for integers included (JSON Schema counts 3.0 as an integer)."""
    kind = spec.get("type")
    if kind == "number":
        return st.floats(spec["minimum"], spec["maximum"]) | st.sampled_from([spec["minimum"], spec["maximum"]])
    if kind == "integer":
        return st.integers(spec["minimum"], spec["maximum"]) | st.integers(spec["minimum"], spec["maximum"]).map(float)
    if kind == "string":
        return st.from_regex(r"\A#[0-9a-fA-F]{6}\Z")
    if kind == "array":  # the turned vessel's profile of [radius, height] points
        lo, hi = spec["items"]["prefixItems"]
        point = st.tuples(st.floats(lo["minimum"], lo["maximum"]), st.floats(hi["minimum"], hi["maximum"])).map(list)
        return st.lists(point, min_size=spec["minItems"], max_size=spec["maxItems"])
    raise AssertionError(f"no strategy for {spec}")  # a new kind of parameter: add one


def near(spec: dict) -> st.SearchStrategy:
    """Values around what the schema accepts: just outside the range, NaN and infinities, wrong types."""
    around = in_range(spec) | python_scalars
    if spec.get("type") in ("number", "integer"):
        lo, hi = spec["minimum"], spec["maximum"]
        around |= st.sampled_from([lo - 1, hi + 1, lo - 1e-9, hi + 1e-9, (lo + hi) / 2 + 0.5, float("nan"), float("inf"), True, str(lo)])
    elif spec.get("type") == "string":
        around |= st.sampled_from(["#fff", "red", "#12345g", "", "#ABCDEF\n", "#abcdef "])
    else:
        around |= st.lists(st.lists(st.floats() | st.integers(-1, 6) | st.none(), max_size=3), max_size=66)
    return around


def parameters(name: str, values) -> st.SearchStrategy:
    properties = RECIPES[name].schema["properties"]
    return st.fixed_dictionaries({}, optional={key: values(spec) for key, spec in properties.items()})


@st.composite
def recipe_and_parameters(draw, values):
    name = draw(st.sampled_from(NAMES))
    params = draw(parameters(name, values))
    if values is near and draw(st.booleans()):
        params = {**params, **draw(st.dictionaries(st.text(max_size=8), python_scalars, max_size=2))}
    return name, params


def test_every_recipe_builds_with_its_defaults():
    assert len(NAMES) >= 16
    for name in NAMES:
        assert isinstance(check_recipe_params(name, None), dict)
    assert isinstance(check_recipe_build("plinth", {}), bytes)


@given(st.sampled_from(NAMES), python_json)
@example("pagoda", [])
@example("pagoda", {"tiers": None})
@example("vessel", {"profile": [[0, 0]] * 65})
def test_arbitrary_parameter_values(name, params):
    check_recipe_params(name, params)


@given(recipe_and_parameters(near))
def test_parameters_near_the_schema(name_params):
    check_recipe_params(*name_params)


@settings(max_examples=BUILD_EXAMPLES)
@given(recipe_and_parameters(in_range), st.integers(0, 2**32 - 1))
@example(("tiled_floor", {"tiles": 48}), 0)  # the slowest
@example(("vessel", {"profile": [[0, 0], [0, 0], [0, 0]]}), 0)  # a degenerate profile
def test_parameters_the_schema_accepts_build_a_glb_the_importer_accepts(name_params, seed):
    name, params = name_params
    assert isinstance(check_recipe_build(name, params, seed), bytes)


@given(st.sampled_from(NAMES), st.integers() | st.sampled_from([True, 1.0, None, "1", -1, 2**32]))
def test_seeds(name, seed):
    check_recipe_build(name, {}, seed)


# -- regressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), [("tiled_floor", {"tiles": 3.0}), ("pagoda", {"tiers": 2.0}), ("stele", {"lines": 1.0})])
def test_regression_integer_parameter_given_as_an_integral_float(name, params):
    """JSON Schema (and so the API) accepts 3.0 as an integer; it used to reach range(): TypeError."""
    resolved = check_recipe_params(name, params)
    key = next(iter(params))
    assert resolved[key] == params[key] and type(resolved[key]) is int
    assert isinstance(check_recipe_build(name, params), bytes)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("tiled_floor", {"size": math.nan}, "params.size"),  # used to fail deep in the GLB export (orjson.JSONDecodeError)
        ("vessel", {"profile": [[0, 0], [0.1, math.nan], [0, 0.2]]}, "params.profile[1][1]"),
    ],
)
def test_regression_nan_parameter(name, params, field):
    with pytest.raises(RecipeError) as info:
        RECIPES[name].resolve(params)
    assert info.value.field == field and "finite" in info.value.message
    assert check_recipe_build(name, params).field == field
