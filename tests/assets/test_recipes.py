"""Recipes: schemas, defaults, seeds, byte-identical output, valid glTF for random parameters, levels of detail."""

from __future__ import annotations

import numpy as np
import pytest

from tests.assets.helpers import validate_bytes
from thirdspace.assets import provenance
from thirdspace.assets.checks import check_upload
from thirdspace.assets.gltf import triangle_count, unpack
from thirdspace.assets.optimise import build_levels
from thirdspace.assets.recipes import RECIPES, RecipeError, build_glb

RANDOM_SETS = 3


def random_params(schema: dict, rng: np.random.Generator) -> dict:
    """A valid parameter set drawn from a recipe's JSON Schema."""
    params = {}
    for key, spec in schema["properties"].items():
        if spec["type"] == "number":
            params[key] = round(float(rng.uniform(spec["minimum"], spec["maximum"])), 3)
        elif spec["type"] == "integer":
            params[key] = int(rng.integers(spec["minimum"], spec["maximum"] + 1))
        elif spec["type"] == "string":
            params[key] = "#" + "".join(rng.choice(list("0123456789abcdef"), 6))
        elif spec["type"] == "array":  # a vessel profile: foot to lip, radii inside the limits
            count = int(rng.integers(spec["minItems"], 12))
            heights = np.sort(rng.uniform(0, 1.5, count))
            radii = rng.uniform(0.02, 0.6, count)
            radii[0] = radii[-1] = 0.0
            params[key] = [[round(float(r), 3), round(float(h), 3)] for r, h in zip(radii, heights, strict=True)]
    return params


def test_there_are_at_least_eight_recipe_families_each_with_a_schema():
    assert len(RECIPES) >= 8
    for recipe in RECIPES.values():
        assert recipe.schema["type"] == "object" and recipe.schema["additionalProperties"] is False
        assert recipe.description and recipe.title
        for key, spec in recipe.schema["properties"].items():
            assert "default" in spec and "description" in spec, (recipe.name, key)
        assert recipe.resolve({}) == {k: s["default"] for k, s in recipe.schema["properties"].items()}


def test_every_recipe_validates_with_defaults_and_random_parameters(tmp_path):
    """Each recipe's output and every one of its levels of detail, for the defaults and random parameters."""
    rng = np.random.default_rng(20261128)
    sources = {}
    for name, recipe in RECIPES.items():
        sources[f"{name}-defaults"] = build_glb(name)
        for i in range(RANDOM_SETS):
            params = random_params(recipe.schema, rng)
            sources[f"{name}-random-{i}"] = build_glb(name, params, seed=int(rng.integers(0, 2**32)))
    sources["astrolabe-turning"] = build_glb("astrolabe", {"turntable_s": 30})
    files = dict(sources)
    for key, data in sources.items():
        for level in build_levels(check_upload(data)):
            files[f"{key}-level-{level.level}"] = level.glb
    reports = validate_bytes(tmp_path, files)
    for name, report in reports.items():
        assert report["numErrors"] == 0, (name, report["messages"])
    assert len(sources) == len(RECIPES) * (1 + RANDOM_SETS) + 1
    assert len(reports) >= 2 * len(sources)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_same_recipe_parameters_and_seed_give_identical_bytes(name):
    params = random_params(RECIPES[name].schema, np.random.default_rng(7))
    stamp = {"made_by": "Museum of Tests", "made_at": "2026-01-02T03:04:05Z"}
    assert build_glb(name, params, seed=42, **stamp) == build_glb(name, params, seed=42, **stamp)


def test_the_seed_varies_seeded_recipes():
    assert build_glb("terrain", seed=1) != build_glb("terrain", seed=2)
    assert build_glb("cypress", seed=1) != build_glb("cypress", seed=2)


def test_parameter_errors_name_the_parameter():
    with pytest.raises(RecipeError) as err:
        build_glb("pagoda", {"tiers": 99})
    assert err.value.field == "params.tiers" and "maximum" in err.value.message
    with pytest.raises(RecipeError) as err:
        build_glb("pagoda", {"roof_colour": "red"})
    assert err.value.field == "params.roof_colour"
    with pytest.raises(RecipeError) as err:
        build_glb("pagoda", {"wings": 2})
    assert err.value.field == "params" and "wings" in err.value.message
    with pytest.raises(RecipeError) as err:
        build_glb("vessel", {"profile": [[0, 0], [0.1, "x"], [0, 1]]})
    assert err.value.field == "params.profile[1][1]"
    with pytest.raises(RecipeError) as err:
        build_glb("pagoda", seed=-1)
    assert err.value.field == "seed"


def test_recipe_output_carries_its_provenance():
    data = build_glb("pagoda", {"tiers": 3}, seed=5, made_by="Curator A", made_at="2026-03-04T05:06:07Z")
    document = unpack(data).document
    assert "KHR_xmp_json_ld" in document["extensionsUsed"]
    packet = provenance.read_packet(document)
    assert packet["Iptc4xmpExt:DigitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
    assert packet["@context"]["Iptc4xmpExt"] == "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    record = provenance.Provenance.from_packet(packet)
    assert record.generated
    assert (record.recipe, record.seed, record.made_by, record.made_at) == ("pagoda", 5, "Curator A", "2026-03-04T05:06:07Z")
    assert record.params["tiers"] == 3 and record.params["taper"] == RECIPES["pagoda"].schema["properties"]["taper"]["default"]
    assert record.generator == "thirdspace-recipes" and "pagoda" in record.generator_version


def test_a_turntable_recipe_adds_an_animation():
    still = unpack(build_glb("astrolabe")).document
    turning = unpack(build_glb("astrolabe", {"turntable_s": 20})).document
    assert "animations" not in still
    (animation,) = turning["animations"]
    assert animation["channels"][0]["target"]["path"] == "rotation"
    assert turning["accessors"][animation["samplers"][0]["input"]]["max"] == [20.0]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_level_has_fewer_triangles_than_the_one_above(name):
    levels = build_levels(check_upload(build_glb(name)))
    assert levels[0].triangles == triangle_count(unpack(build_glb(name)).document)
    counts = [level.triangles for level in levels]
    assert counts == sorted(set(counts), reverse=True)
    for level in levels:
        assert triangle_count(unpack(level.glb).document) == level.triangles


def test_detailed_recipes_do_get_coarser_levels():
    for name in ("arcade_walls", "tiled_floor", "terrain", "vessel", "astrolabe"):
        levels = build_levels(check_upload(build_glb(name)))
        assert len(levels) >= 2, name
        assert levels[-1].triangles <= levels[0].triangles * 0.5, name


def _dequantised_positions(glb: bytes) -> list[np.ndarray]:
    """Each primitive's positions after the node transform quantisation added (its translation and uniform scale)."""
    from thirdspace.assets.gltf import read_accessor

    gltf = unpack(glb)
    out = []
    for node in gltf.document["nodes"]:
        if "mesh" not in node:
            continue
        scale = np.array(node.get("scale", [1, 1, 1]))
        translation = np.array(node.get("translation", [0, 0, 0]))
        for primitive in gltf.document["meshes"][node["mesh"]]["primitives"]:
            out.append(read_accessor(gltf, primitive["attributes"]["POSITION"]) * scale + translation)
    return out


@pytest.mark.parametrize("name", ["tiled_floor", "vessel", "arcade_walls", "terrain"])
def test_quantised_positions_stay_within_the_error_bound(name):
    source = build_glb(name)
    (full, *_) = build_levels(check_upload(source), max_error_m=0.0005)
    assert full.quantised and 0 < full.max_error_m <= 0.0005
    document = unpack(full.glb).document
    assert "KHR_mesh_quantization" in document["extensionsRequired"]
    assert all(
        document["accessors"][p["attributes"]["POSITION"]]["componentType"] == 5122 for m in document["meshes"] for p in m["primitives"]
    )
    before = _dequantised_positions(source)
    after = _dequantised_positions(full.glb)
    assert len(before) == len(after)
    error = max(float(np.abs(a - b).max()) for a, b in zip(after, before, strict=True))
    assert error <= 0.0005 + 1e-6
    assert len(full.glb) < len(source)


def test_quantisation_is_skipped_when_it_would_exceed_the_bound():
    (full, *_) = build_levels(check_upload(build_glb("tiled_floor", {"size": 120})), max_error_m=0.00001)
    assert not full.quantised
    assert "KHR_mesh_quantization" not in unpack(full.glb).document.get("extensionsUsed", [])
