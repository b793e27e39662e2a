"""Walkable space: the walk grid built from the demo scenes' real assets, the marks, and the per-pose check."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import demo_scene
from thirdspace.assets import walkable
from thirdspace.assets.library import AssetLibrary
from thirdspace.assets.store import AssetStore
from thirdspace.config import PROJECT_ROOT
from thirdspace.scenes import walk
from thirdspace.scenes.model import SceneError, validate


@pytest.fixture(scope="module")
def glbs(tmp_path_factory) -> dict[str, Path]:
    """Every demo asset built from its recipe and stored, as the server does at publish time."""
    store = AssetStore(tmp_path_factory.mktemp("store"))
    library = AssetLibrary(PROJECT_ROOT / "assets", store)
    ids = {a for s in ("gallery", "market", "caravanserai") for a in validate(demo_scene(s), s).asset_ids}
    return {a: store.root / f"{library.resolve(a).sha256}.glb" for a in ids}


def grid(document: dict, glbs: dict[str, Path]) -> walk.WalkGrid:
    return walkable.grid_of(document, glbs)


def check(g: walk.WalkGrid, head, previous=None, teleport=False, anchor=None) -> int:
    pose = np.zeros((3, 7), np.float32)
    pose[0, :3] = head
    before = np.zeros(7, np.float32)
    if previous is not None:
        before[:3] = previous
    stood = np.array([anchor or (head[0], head[2])], np.float64)
    return int(walk.check_pose(0, pose, teleport, previous is not None, before, stood, g.floor, g.top, g.origin_x, g.origin_z, g.cell_m))


def test_gallery_walls_and_plinths_are_blocked_its_floor_and_doorway_walkable(glbs):
    document = demo_scene("gallery")
    g = grid(document, glbs)
    for spawn in document["spawn_points"]:
        assert g.floor_at(spawn["position"][0], spawn["position"][2]) == pytest.approx(0.0, abs=0.06)
    assert g.floor_at(0.0, 0.0) is not None and g.floor_at(-3.0, 3.0) is not None  # open floor
    for node in document["nodes"]:
        if node.get("asset") == "plinth":
            x, _, z = node["position"]
            assert g.floor_at(x, z) is None, node["id"]  # nobody stands on a plinth
            cell = g.cell(x, z)
            assert cell is not None and 0.9 < g.top[cell] < 2.0  # but a head may lean over it
    back_wall = g.cell(0.0, -4.9)
    assert back_wall is not None and g.top[back_wall] == np.inf and g.floor_at(0.0, -4.9) is None
    side_wall = g.cell(-6.95, 0.0)
    assert side_wall is not None and g.top[side_wall] == np.inf
    # The doorway in the front wall is walkable, the wall beside it is not.
    assert g.floor_at(0.0, 5.0) is not None
    assert g.floor_at(-4.0, 5.0) is None


@pytest.mark.parametrize("scene_id", ["caravanserai", "market"])
def test_the_fountain_basin_is_blocked_and_every_spawn_point_walkable(glbs, scene_id):
    document = demo_scene(scene_id)
    g = grid(document, glbs)
    fountain = next(n for n in document["nodes"] if n.get("asset") == "courtyard-fountain")
    x, _, z = fountain.get("position", [0, 0, 0])
    assert g.floor_at(x, z) is None
    centre = g.cell(x, z)
    assert centre is not None and g.top[centre] == np.inf  # the spout reaches above a head
    assert g.floor_at(x + 1.0, z) is None and g.floor_at(x, z - 1.0) is None  # the water inside the rim
    assert g.floor_at(x + 4.5, z) is not None  # the courtyard around it
    for spawn in document["spawn_points"]:
        assert g.floor_at(spawn["position"][0], spawn["position"][2]) is not None
    assert walkable.summary(document, g)["stranded_spawns"] == []


def test_marks_block_and_open_areas(glbs):
    document = copy.deepcopy(demo_scene("gallery"))
    document["walk"] = {
        "blocked": [{"min": [-2.0, 0.0], "max": [2.0, 1.0]}],
        "walkable": [{"min": [-1.0, 8.2], "max": [1.0, 8.8], "floor": 0.0}],
    }
    validate(document, "marked")
    g = grid(document, glbs)
    assert g.floor_at(0.0, 0.5) is None and g.floor_at(0.0, 2.0) is not None
    assert g.floor_at(0.0, 8.5) == 0.0  # a floor the geometry lacks
    plain = grid(demo_scene("gallery"), glbs)
    assert plain.floor_at(0.0, 0.5) is not None and plain.floor_at(0.0, 8.5) is None


def test_marks_the_schema_or_the_checks_refuse():
    for walk_marks, where in [
        ({"blocked": [{"min": [0, 0], "max": [1]}]}, "$.walk.blocked[0].max"),
        ({"blocked": [{"min": [0, 0], "max": [1, 1], "floor": 1}]}, "$.walk.blocked[0].floor"),  # floor only for walkable
        ({"walkable": [{"min": [2, 2], "max": [1, 3]}]}, "$.walk.walkable[0].max"),
        ({"walkable": [{"min": [100, 100], "max": [101, 101]}]}, "$.walk.walkable[0]"),
        ({"blocked": [{"min": [-1, 3], "max": [1, 4]}]}, "$.spawn_points[0].position"),
        ({"sometimes": []}, "$.walk"),
    ]:
        document = copy.deepcopy(demo_scene("gallery"))
        document["walk"] = walk_marks
        with pytest.raises(SceneError) as caught:
            validate(document, "bad")
        assert where in str(caught.value), (walk_marks, str(caught.value))


def test_check_pose_reasons(glbs):
    g = grid(demo_scene("gallery"), glbs)
    assert check(g, (0.0, 1.6, 3.0)) == walk.WALK_OK
    assert check(g, (0.0, 1.6, 3.0), previous=(0.0, 1.6, 2.0)) == walk.WALK_OK
    assert check(g, (0.0, 4.0, 3.0)) == walk.INSIDE_SOLID  # far above the floor
    assert check(g, (0.0, 1.6, -4.95)) == walk.NOT_WALKABLE  # in the back wall
    assert check(g, (0.0, 1.6, 8.7)) == walk.NOT_WALKABLE  # outside the hall
    # Leaning over a plinth from beside it is fine; a head inside its top is not; far from where one stood, neither.
    assert check(g, (-4.5, 1.6, -2.5), anchor=(-4.5, -2.0)) == walk.WALK_OK
    assert check(g, (-4.5, 0.8, -2.5), anchor=(-4.5, -2.0)) == walk.INSIDE_SOLID
    assert check(g, (-4.5, 1.6, -2.5), anchor=(-4.5, 0.0)) == walk.NOT_WALKABLE
    # A step that crosses a plinth at head height below its top passes through it; a teleport over it does not.
    assert check(g, (-4.5, 0.9, -1.3), previous=(-4.5, 0.9, -3.7), anchor=(-4.5, -3.7)) == walk.PASSES_THROUGH
    assert check(g, (-4.5, 1.6, -1.3), previous=(-4.5, 1.6, -3.7), teleport=True, anchor=(-4.5, -3.7)) == walk.WALK_OK
    # Out of the hall through the front wall beside its door, to a floor marked walkable outside.
    document = copy.deepcopy(demo_scene("gallery"))
    document["walk"] = {"walkable": [{"min": [-6.0, 5.6], "max": [-2.0, 6.5], "floor": 0.0}]}
    marked = grid(document, glbs)
    assert check(marked, (-4.0, 1.6, 6.0)) == walk.WALK_OK
    assert check(marked, (-4.0, 1.6, 6.0), previous=(-4.0, 1.6, 4.4), anchor=(-4.0, 4.4)) == walk.PASSES_THROUGH


def test_the_grid_survives_its_file_format(glbs, tmp_path):
    document = demo_scene("caravanserai")
    path = tmp_path / "walk.bin"
    summary = walkable.build_walk_file(document, {a: str(p) for a, p in glbs.items()}, str(path))
    loaded = walk.WalkGrid.from_bytes(path.read_bytes())
    assert summary["walkable"] == loaded.walkable_cells > 1000
    built = grid(document, glbs)
    np.testing.assert_array_equal(loaded.floor, built.floor)
    np.testing.assert_array_equal(loaded.top, built.top)
    with pytest.raises(ValueError):
        walk.WalkGrid.from_bytes(path.read_bytes()[:-4])
    assert math.isclose(loaded.cell_m, walk.CELL_M)
