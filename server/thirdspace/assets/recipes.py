"""Recipes: parametric generators of cultural objects and set pieces.

Each recipe is a function ``(params, rng) -> trimesh.Scene`` registered with a
JSON Schema for its parameters (defaults included) and a version.  The same
recipe, parameters, seed and provenance stamp give byte-identical GLB output:
geometry comes only from the parameters and ``numpy.random.default_rng(seed)``.
Meshes are grouped by material, so an object is a handful of draw calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from thirdspace.assets import provenance
from thirdspace.assets.gltf import BufferBuilder, compact, pack, unpack

Params = dict[str, Any]
MAX_SEED = 2**32 - 1


class RecipeError(ValueError):
    """A recipe name or parameter is wrong; ``field`` is the parameter's path (``params.tiers``)."""

    def __init__(self, message: str, field: str = "recipe"):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self):  # comes back whole from an asset worker process
        return type(self), (self.message, self.field)


def _hex_rgba(colour: str) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i : i + 2], 16) for i in (0, 2, 4)] + [255]


class _Builder:
    """Collects meshes per material and assembles a scene."""

    def __init__(self) -> None:
        self.parts: dict[str, list[trimesh.Trimesh]] = {}
        self.materials: dict[str, tuple[str, float, float, bool, float]] = {}
        self.animations: list[dict[str, Any]] = []

    def material(
        self, name: str, colour: str, roughness: float = 0.9, metallic: float = 0.0, smooth: bool = False, opacity: float = 1.0
    ) -> str:
        """Declare a material; ``smooth`` shares normals across faces (turned and curved things)."""
        self.materials[name] = (colour, roughness, metallic, smooth, opacity)
        self.parts.setdefault(name, [])
        return name

    def add(self, material: str, mesh: trimesh.Trimesh, translate=(0.0, 0.0, 0.0), rotate_y: float = 0.0) -> None:
        mesh = mesh.copy()
        if rotate_y:
            mesh.apply_transform(trimesh.transformations.rotation_matrix(rotate_y, (0, 1, 0)))
        mesh.apply_translation(translate)
        self.parts[material].append(mesh)

    def box(self, material: str, size, centre, rotate_y: float = 0.0) -> None:
        self.add(material, trimesh.creation.box(extents=size), centre, rotate_y)

    def cylinder(self, material: str, radius: float, height: float, centre, sections: int = 24) -> None:
        # trimesh cylinders stand on Z; glTF is Y-up.
        mesh = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
        mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
        self.add(material, mesh, centre)

    def cone(self, material: str, radius: float, height: float, base, sections: int = 12) -> None:
        mesh = trimesh.creation.cone(radius=radius, height=height, sections=sections)
        mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
        self.add(material, mesh, base)

    def turntable(self, material: str, period_s: float) -> None:
        """Spin the node holding ``material`` about the vertical axis, once per ``period_s``."""
        if period_s > 0:
            self.animations.append({"material": material, "effect": "turntable", "period_s": period_s})

    def scene(self, name: str) -> trimesh.Scene:
        scene = trimesh.Scene()
        for material, meshes in self.parts.items():
            if not meshes:
                continue
            colour, roughness, metallic, smooth, opacity = self.materials[material]
            mesh = trimesh.util.concatenate(meshes)
            if smooth:
                mesh.merge_vertices()
            else:
                mesh.unmerge_vertices()
            rgba = _hex_rgba(colour)
            rgba[3] = round(opacity * 255)
            mesh.visual = trimesh.visual.TextureVisuals(
                material=PBRMaterial(
                    name=material,
                    baseColorFactor=rgba,
                    roughnessFactor=roughness,
                    metallicFactor=metallic,
                    doubleSided=opacity < 1,
                    alphaMode="BLEND" if opacity < 1 else None,
                )
            )
            scene.add_geometry(mesh, node_name=f"{name}-{material}", geom_name=f"{name}-{material}")
        scene.metadata["animations"] = [{**a, "node": f"{name}-{a['material']}"} for a in self.animations]
        return scene


def _arch(
    b: _Builder, material: str, span: float, rise_y: float, thickness: float, depth: float, centre, rotate_y: float = 0.0, segments: int = 9
) -> None:
    """A semicircular arch of short blocks springing at height ``rise_y``."""
    radius = span / 2
    cx, cy, cz = centre
    for i in range(segments):
        a0 = math.pi * i / segments
        a1 = math.pi * (i + 1) / segments
        mid = (a0 + a1) / 2
        length = 2 * (radius + thickness / 2) * math.sin((a1 - a0) / 2) + 0.02
        block = trimesh.creation.box(extents=(length, thickness, depth))
        block.apply_transform(trimesh.transformations.rotation_matrix(mid - math.pi / 2, (0, 0, 1)))
        block.apply_translation(((radius + thickness / 2) * math.cos(mid), rise_y + (radius + thickness / 2) * math.sin(mid), 0))
        if rotate_y:
            block.apply_transform(trimesh.transformations.rotation_matrix(rotate_y, (0, 1, 0)))
        block.apply_translation((cx, cy, cz))
        b.parts[material].append(block)


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    description: str
    version: int
    schema: dict[str, Any]
    make: Callable[[Params, np.random.Generator], trimesh.Scene]

    def resolve(self, params: Params | None) -> Params:
        """Check ``params`` against the schema and fill in the defaults; errors name the parameter."""
        if params is not None and not isinstance(params, dict):
            raise RecipeError("must be an object of parameter values", "params")
        params = dict(params or {})
        errors = sorted(jsonschema.Draft202012Validator(self.schema).iter_errors(params), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            if error.validator == "additionalProperties":
                unknown = sorted(set(params) - set(self.schema["properties"]))
                raise RecipeError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(self.schema['properties'])}", "params")
            raise RecipeError(error.message, f"params{path}")
        resolved = {key: params.get(key, spec["default"]) for key, spec in self.schema["properties"].items()}
        for key, spec in self.schema["properties"].items():
            where = _not_finite(resolved[key])
            if where is not None:  # NaN passes a schema's minimum and maximum
                raise RecipeError("must be a finite number", f"params.{key}{where}")
            if spec.get("type") == "integer":
                resolved[key] = int(resolved[key])  # JSON Schema counts 3.0 as an integer; range() does not
        return resolved

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description, "version": self.version, "schema": self.schema}


def _not_finite(value: Any, path: str = "") -> str | None:
    """Where (``[2][0]``) a checked parameter value holds a NaN or infinity, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _not_finite(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


RECIPES: dict[str, Recipe] = {}


def number(default: float, minimum: float, maximum: float, description: str) -> dict:
    return {"type": "number", "default": default, "minimum": minimum, "maximum": maximum, "description": description}


def integer(default: int, minimum: int, maximum: int, description: str) -> dict:
    return {"type": "integer", "default": default, "minimum": minimum, "maximum": maximum, "description": description}


def colour(default: str, description: str) -> dict:
    return {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$", "default": default, "description": description}


def recipe(title: str, version: int = 1, **properties: dict):
    """Register a recipe function under its own name with a JSON Schema built from ``properties``."""

    def register(make: Callable[[Params, np.random.Generator], trimesh.Scene]):
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": title,
            "type": "object",
            "additionalProperties": False,
            "properties": properties,
        }
        jsonschema.Draft202012Validator.check_schema(schema)
        description = (make.__doc__ or "").strip()
        RECIPES[make.__name__] = Recipe(make.__name__, title, description, version, schema, make)
        return make

    return register


def _rot(point, angle: float) -> tuple[float, float, float]:
    c, s = math.cos(angle), math.sin(angle)
    x, y, z = point
    return (c * x + s * z, y, -s * x + c * z)


@recipe(
    "Tiled floor",
    size=number(24.0, 1.0, 200.0, "Edge length in metres"),
    tiles=integer(12, 1, 48, "Tiles along each edge"),
    colour_a=colour("#d9c7a3", "First tile colour"),
    colour_b=colour("#a8744f", "Second tile colour"),
)
def tiled_floor(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A square floor of alternating tiles over a grout bed."""
    size, tiles = p["size"], p["tiles"]
    b = _Builder()
    light = b.material("tile-light", p["colour_a"])
    dark = b.material("tile-dark", p["colour_b"])
    step = size / tiles
    for i in range(tiles):
        for j in range(tiles):
            x = -size / 2 + step * (i + 0.5)
            z = -size / 2 + step * (j + 0.5)
            b.box(light if (i + j) % 2 == 0 else dark, (step * 0.96, 0.1, step * 0.96), (x, -0.05, z))
    b.box(b.material("grout", "#6b5a47"), (size, 0.08, size), (0, -0.06, 0))
    return b.scene("floor")


@recipe(
    "Arcaded courtyard walls",
    size=number(24.0, 6.0, 100.0, "Edge length of the courtyard in metres"),
    height=number(6.0, 3.0, 20.0, "Wall height in metres"),
    bays=integer(5, 1, 15, "Arched bays (iwans) per side"),
    wall_colour=colour("#c9a26b", "Adobe colour"),
    trim_colour=colour("#2f6f8f", "Glazed tile colour of the arches and cornice"),
)
def arcade_walls(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """Four walls around a courtyard, each pierced by a row of arched bays (iwans)."""
    size, height, bays = p["size"], p["height"], p["bays"]
    thickness = 0.8
    b = _Builder()
    wall = b.material("adobe", p["wall_colour"])
    trim = b.material("glazed-tile", p["trim_colour"], roughness=0.35)
    bay = size / bays
    pier = bay * 0.25
    opening = bay - pier
    spring = height * 0.45
    for side in range(4):
        angle = side * math.pi / 2
        for k in range(bays + 1):
            x = -size / 2 + k * bay
            b.box(wall, (pier, spring, thickness), _rot((x, spring / 2, -size / 2), angle), rotate_y=angle)
        for k in range(bays):
            x = -size / 2 + (k + 0.5) * bay
            _arch(b, trim, opening, spring, 0.35, thickness + 0.05, _rot((x, 0, -size / 2), angle), rotate_y=angle)
        upper = height - spring
        b.box(
            wall,
            (size + thickness, upper - opening / 2 + 0.2, thickness),
            _rot((0, spring + opening / 2 + (upper - opening / 2) / 2 - 0.1, -size / 2), angle),
            rotate_y=angle,
        )
        b.box(trim, (size + thickness, 0.3, thickness + 0.2), _rot((0, height, -size / 2), angle), rotate_y=angle)
    return b.scene("arcade")


@recipe(
    "Fountain",
    radius=number(2.5, 0.8, 10.0, "Basin radius in metres"),
    stone_colour=colour("#e6dccb", "Stone colour"),
    water_colour=colour("#3d8fb5", "Water colour"),
)
def fountain(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """An octagonal basin with water and a central column."""
    radius = p["radius"]
    b = _Builder()
    stone = b.material("stone", p["stone_colour"])
    water = b.material("water", p["water_colour"], roughness=0.1)
    ring = trimesh.creation.annulus(r_min=radius - 0.3, r_max=radius, height=0.6, sections=8)
    ring.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(stone, ring, (0, 0.3, 0))
    b.cylinder(water, radius - 0.3, 0.4, (0, 0.2, 0), sections=8)
    b.cylinder(stone, 0.25, 1.4, (0, 0.7, 0), sections=12)
    b.cylinder(stone, 0.7, 0.15, (0, 1.4, 0), sections=16)
    return b.scene("fountain")


@recipe(
    "Cypress",
    height=number(5.0, 1.0, 30.0, "Height in metres"),
    colour=colour("#2f5d34", "Foliage colour"),
    variation=number(0.1, 0.0, 0.5, "How much the seed varies height and girth (fraction)"),
)
def cypress(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A slender cypress: trunk and a tall cone of foliage; the seed varies its proportions."""
    height = p["height"] * (1 + p["variation"] * rng.uniform(-1, 1))
    girth = 0.14 * (1 + p["variation"] * rng.uniform(-1, 1))
    b = _Builder()
    bark = b.material("bark", "#5a3d26")
    leaves = b.material("leaves", p["colour"])
    b.cylinder(bark, 0.15, height * 0.2, (0, height * 0.1, 0), sections=8)
    b.cone(leaves, height * girth, height * 0.85, (0, height * 0.15, 0), sections=12)
    return b.scene("cypress")


@recipe(
    "Woven carpet",
    width=number(2.0, 0.5, 10.0, "Width in metres"),
    length=number(3.0, 0.5, 15.0, "Length in metres"),
    field_colour=colour("#9b2d30", "Field colour"),
    border_colour=colour("#1f3b63", "Border colour"),
    medallion_colour=colour("#e0b354", "Central medallion colour"),
)
def carpet(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A woven carpet (kilim): field, border and a central medallion."""
    width, length = p["width"], p["length"]
    b = _Builder()
    b.box(b.material("border", p["border_colour"]), (width, 0.02, length), (0, 0.01, 0))
    b.box(b.material("field", p["field_colour"]), (width - 0.3, 0.03, length - 0.3), (0, 0.015, 0))
    medallion = b.material("medallion", p["medallion_colour"])
    b.cylinder(medallion, min(width, length) * 0.22, 0.035, (0, 0.0175, 0), sections=8)
    return b.scene("carpet")


@recipe(
    "Standing lantern",
    height=number(1.6, 0.5, 4.0, "Height in metres"),
    glow_colour=colour("#ffd27a", "Colour of the lit body"),
)
def lantern(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A standing lantern with a glowing body and a pierced-metal cap."""
    height = p["height"]
    b = _Builder()
    metal = b.material("brass", "#8c6a2f", roughness=0.4, metallic=0.8)
    glow = b.material("glow", p["glow_colour"], roughness=0.3)
    b.cylinder(metal, 0.05, height * 0.7, (0, height * 0.35, 0), sections=8)
    b.cylinder(metal, 0.25, 0.06, (0, 0.03, 0), sections=12)
    b.cylinder(glow, 0.18, height * 0.22, (0, height * 0.81, 0), sections=6)
    b.cone(metal, 0.24, 0.22, (0, height * 0.92, 0), sections=6)
    return b.scene("lantern")


@recipe(
    "Gallery room",
    width=number(14.0, 4.0, 60.0, "Width in metres"),
    depth=number(10.0, 4.0, 60.0, "Depth in metres"),
    height=number(4.5, 2.8, 12.0, "Wall height in metres"),
    floor_colour=colour("#8a6a4a", "Floor colour"),
    wall_colour=colour("#ece6da", "Wall colour"),
)
def gallery_room(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A rectangular gallery: floor, four walls with a doorway, and a skirting."""
    width, depth, height = p["width"], p["depth"], p["height"]
    b = _Builder()
    floor = b.material("oak", p["floor_colour"], roughness=0.6)
    wall = b.material("plaster", p["wall_colour"])
    skirting = b.material("skirting", "#3a3a40")
    t = 0.2
    b.box(floor, (width, 0.1, depth), (0, -0.05, 0))
    b.box(wall, (width, height, t), (0, height / 2, -depth / 2))
    b.box(wall, (t, height, depth), (-width / 2, height / 2, 0))
    b.box(wall, (t, height, depth), (width / 2, height / 2, 0))
    door = 2.0
    side = (width - door) / 2
    b.box(wall, (side, height, t), (-(door + side) / 2, height / 2, depth / 2))
    b.box(wall, (side, height, t), ((door + side) / 2, height / 2, depth / 2))
    b.box(wall, (door, height - 2.6, t), (0, 2.6 + (height - 2.6) / 2, depth / 2))
    for x, z, sx, sz in ((0, -depth / 2 + t, width, 0.04), (-width / 2 + t, 0, 0.04, depth), (width / 2 - t, 0, 0.04, depth)):
        b.box(skirting, (sx, 0.15, sz), (x, 0.075, z))
    return b.scene("gallery")


@recipe(
    "Display plinth",
    height=number(1.0, 0.2, 2.0, "Height in metres"),
    width=number(0.6, 0.2, 3.0, "Width of the square top in metres"),
    colour=colour("#f4f2ee", "Body colour"),
)
def plinth(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A display plinth with base and cap mouldings."""
    height, width = p["height"], p["width"]
    b = _Builder()
    body = b.material("plinth", p["colour"])
    trim = b.material("plinth-trim", "#cfc9bf")
    b.box(trim, (width + 0.08, 0.08, width + 0.08), (0, 0.04, 0))
    b.box(body, (width, height - 0.12, width), (0, (height - 0.12) / 2 + 0.08, 0))
    b.box(trim, (width + 0.06, 0.04, width + 0.06), (0, height - 0.02, 0))
    return b.scene("plinth")


@recipe(
    "Display case",
    height=number(1.0, 0.4, 2.0, "Height of the base in metres"),
    width=number(0.7, 0.3, 3.0, "Width in metres"),
    glass_height=number(0.6, 0.2, 2.0, "Height of the glass hood in metres"),
    colour=colour("#2e2a26", "Base colour"),
)
def display_case(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A museum display case: a dark base under a glass hood."""
    height, width, glass = p["height"], p["width"], p["glass_height"]
    b = _Builder()
    b.box(b.material("case-base", p["colour"], roughness=0.5), (width, height, width), (0, height / 2, 0))
    hood = b.material("glass", "#dfeef2", roughness=0.05, opacity=0.25)
    b.box(hood, (width - 0.02, glass, width - 0.02), (0, height + glass / 2, 0))
    return b.scene("case")


@recipe(
    "Turned vessel",
    profile={
        "type": "array",
        "description": "The profile to revolve: [radius, height] points in metres, from the foot's centre to the lip's centre",
        "minItems": 3,
        "maxItems": 64,
        "items": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": 0, "maximum": 3},
                {"type": "number", "minimum": 0, "maximum": 5},
            ],
            "minItems": 2,
            "maxItems": 2,
        },
        "default": [[0.0, 0.0], [0.09, 0.0], [0.16, 0.12], [0.17, 0.22], [0.08, 0.36], [0.06, 0.42], [0.09, 0.46], [0.0, 0.46]],
    },
    sections=integer(32, 6, 128, "Segments around the axis"),
    colour=colour("#2d5fa0", "Glaze colour"),
)
def vessel(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A turned vessel (vase, jar, bowl), revolved from a profile of (radius, height) points."""
    b = _Builder()
    glaze = b.material("glaze", p["colour"], roughness=0.25, smooth=True)
    mesh = trimesh.creation.revolve(np.asarray(p["profile"], dtype=float), sections=p["sections"])
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(glaze, mesh)
    return b.scene("vessel")


@recipe(
    "Inscribed stele",
    height=number(1.2, 0.4, 5.0, "Height in metres"),
    width=number(0.5, 0.2, 2.0, "Width in metres"),
    colour=colour("#4b4a48", "Stone colour"),
    lines=integer(5, 0, 20, "Lines of inscription"),
)
def stele(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """An inscribed stone slab on a low base, rounded at the top."""
    width = p["width"]
    slab = max(p["height"] - width / 2, 0.1)  # the straight part below the rounded top
    b = _Builder()
    stone = b.material("basalt", p["colour"], roughness=0.7)
    b.box(stone, (width + 0.1, 0.08, 0.3), (0, 0.04, 0))
    b.box(stone, (width, slab, 0.16), (0, 0.08 + slab / 2, 0))
    top = trimesh.creation.cylinder(radius=width / 2, height=0.16, sections=24)
    b.add(stone, top, (0, 0.08 + slab, 0))
    lines = b.material("inscription", "#c9b27a", roughness=0.5)
    spacing = max(slab - 0.2, 0.05) / max(p["lines"], 1)
    for i in range(p["lines"]):
        b.box(lines, (width * 0.7, 0.025, 0.01), (0, 0.25 + i * spacing, 0.085))
    return b.scene("stele")


@recipe(
    "Astrolabe",
    radius=number(0.22, 0.05, 2.0, "Radius of the ring in metres"),
    colour=colour("#b08d3c", "Brass colour"),
    turntable_s=number(0.0, 0.0, 120.0, "Seconds per turn of a slow display turntable; 0 keeps it still"),
)
def astrolabe(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A brass astrolabe: a ring (mater), a plate and a pointer (alidade), optionally turning."""
    radius = p["radius"]
    b = _Builder()
    brass = b.material("brass", p["colour"], roughness=0.35, metallic=0.9, smooth=True)
    ring = trimesh.creation.torus(major_radius=radius, minor_radius=radius * 0.08, major_sections=32, minor_sections=8)
    b.add(brass, ring, (0, radius * 1.1, 0))
    plate = trimesh.creation.cylinder(radius=radius * 0.92, height=0.01, sections=32)
    b.add(brass, plate, (0, radius * 1.1, 0))
    b.box(brass, (radius * 1.9, radius * 0.08, 0.015), (0, radius * 1.1, 0.012))
    b.box(brass, (radius * 0.3, radius * 0.2, 0.03), (0, radius * 2.15, 0))
    b.turntable(brass, p["turntable_s"])
    return b.scene("astrolabe")


@recipe(
    "Pagoda",
    tiers=integer(5, 1, 13, "Number of tiers (roofs)"),
    base_width=number(4.0, 0.1, 20.0, "Width of the lowest storey in metres"),
    tier_height=number(1.6, 0.05, 5.0, "Height of one storey in metres"),
    taper=number(0.82, 0.5, 1.0, "Each storey's width relative to the one below"),
    wall_colour=colour("#b8402f", "Lacquered walls and columns"),
    roof_colour=colour("#3b4a45", "Roof tiles"),
)
def pagoda(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A pagoda of N tiers: square storeys that narrow upwards, each under a wide eave, with a spire."""
    b = _Builder()
    wall = b.material("lacquer", p["wall_colour"], roughness=0.5)
    roof = b.material("roof-tile", p["roof_colour"], roughness=0.8)
    stone = b.material("stone-base", "#9c968a")
    width, y = p["base_width"], 0.4
    b.box(stone, (width * 1.3, 0.4, width * 1.3), (0, 0.2, 0))
    for _ in range(p["tiers"]):
        storey = p["tier_height"] * 0.7
        b.box(wall, (width, storey, width), (0, y + storey / 2, 0))
        y += storey
        eave = trimesh.creation.cone(radius=width * 0.95, height=p["tier_height"] * 0.3, sections=4)
        eave.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
        b.add(roof, eave, (0, y, 0), rotate_y=math.pi / 4)
        y += p["tier_height"] * 0.3
        width *= p["taper"]
    b.cylinder(b.material("finial", "#c9a543", roughness=0.3, metallic=0.8), 0.06, p["tier_height"], (0, y + p["tier_height"] / 2, 0), 8)
    return b.scene("pagoda")


@recipe(
    "Memorial gate",
    width=number(6.0, 2.0, 20.0, "Clear span between the outer posts in metres"),
    height=number(5.0, 2.5, 15.0, "Height of the top beam in metres"),
    bays=integer(3, 1, 5, "Openings (1 like a torii, 3 or 5 like a paifang)"),
    post_colour=colour("#a8322d", "Posts and beams"),
    roof_colour=colour("#2f3a36", "Roof caps"),
)
def memorial_gate(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A memorial gate (paifang- or torii-like): posts, tie beams and capped lintels over one or more bays."""
    b = _Builder()
    post = b.material("gate-post", p["post_colour"], roughness=0.6)
    roof = b.material("gate-roof", p["roof_colour"], roughness=0.8)
    width, height, bays = p["width"], p["height"], p["bays"]
    posts = np.linspace(-width / 2, width / 2, bays + 1)
    for i, x in enumerate(posts):
        tall = height * (1.0 if bays == 1 or 0 < i < bays else 0.85)
        b.cylinder(post, 0.18, tall, (x, tall / 2, 0), sections=12)
        b.box(b.material("plinth-stone", "#8f8a80"), (0.6, 0.4, 0.6), (x, 0.2, 0))
    b.box(post, (width + 0.4, 0.35, 0.3), (0, height * 0.78, 0))
    for k in range(bays):
        centre = (posts[k] + posts[k + 1]) / 2
        span = posts[k + 1] - posts[k]
        top = height if bays == 1 or k == bays // 2 else height * 0.85
        b.box(post, (span + 0.5, 0.4, 0.35), (centre, top, 0))
        b.box(roof, (span + 1.1, 0.25, 0.9), (centre, top + 0.32, 0))
    return b.scene("gate")


@recipe(
    "Terrain patch",
    size=number(20.0, 2.0, 200.0, "Edge length in metres"),
    resolution=integer(32, 4, 128, "Grid cells along each edge"),
    relief=number(1.2, 0.0, 20.0, "Height of the hills in metres"),
    roughness=number(0.5, 0.1, 0.9, "How much each finer octave of noise adds"),
    flat_radius=number(0.0, 0.0, 100.0, "A flat clearing of this radius in the middle"),
    edge_falloff=number(0.2, 0.0, 0.5, "Share of the size over which the ground settles to zero height at the edges"),
    colour=colour("#7d8c4f", "Ground colour"),
)
def terrain(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A square patch of rolling ground from seeded value noise (octaves of smoothed random grids)."""
    n = p["resolution"]
    heights = np.zeros((n + 1, n + 1))
    amplitude, cells = 1.0, 2
    while cells <= n:
        coarse = rng.uniform(-1, 1, (cells + 1, cells + 1))
        t = np.linspace(0, cells, n + 1)
        i = np.minimum(t.astype(int), cells - 1)
        f = t - i
        f = f * f * (3 - 2 * f)
        rows = coarse[i] * (1 - f)[:, None] + coarse[i + 1] * f[:, None]
        heights += amplitude * (rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :])
        amplitude *= p["roughness"]
        cells *= 2
    heights *= p["relief"] / max(np.abs(heights).max(), 1e-9)
    axis = np.linspace(-p["size"] / 2, p["size"] / 2, n + 1)
    x, z = np.meshgrid(axis, axis, indexing="ij")
    if p["flat_radius"] > 0:
        distance = np.hypot(x, z)
        heights *= np.clip((distance - p["flat_radius"]) / max(p["flat_radius"], 1e-9), 0, 1)
    if p["edge_falloff"] > 0:
        inside = (p["size"] / 2 - np.maximum(np.abs(x), np.abs(z))) / (p["edge_falloff"] * p["size"])
        edge = np.clip(inside, 0, 1)
        heights *= edge * edge * (3 - 2 * edge)
    vertices = np.column_stack([x.ravel(), heights.ravel(), z.ravel()])
    index = np.arange((n + 1) * (n + 1)).reshape(n + 1, n + 1)
    a, b_, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
    faces = np.concatenate([np.column_stack([a, d, c]), np.column_stack([a, c, b_])])
    b = _Builder()
    ground = b.material("ground", p["colour"], roughness=0.95, smooth=True)
    b.add(ground, trimesh.Trimesh(vertices, faces, process=False))
    return b.scene("terrain")


@recipe(
    "Information panel",
    width=number(1.2, 0.3, 4.0, "Panel width in metres"),
    height=number(0.8, 0.2, 3.0, "Panel height in metres"),
    stand_height=number(0.9, 0.0, 2.5, "Height of the panel's lower edge above the floor"),
    tilt_deg=number(15.0, 0.0, 60.0, "Backwards tilt of the panel face"),
    colour=colour("#f3efe6", "Panel face"),
    frame_colour=colour("#2b2b2b", "Frame and legs"),
)
def info_panel(p: Params, rng: np.random.Generator) -> trimesh.Scene:
    """A standing information panel: a tilted face in a frame on two legs, facing +Z."""
    b = _Builder()
    frame = b.material("panel-frame", p["frame_colour"], roughness=0.4, metallic=0.6)
    face = b.material("panel-face", p["colour"])
    width, height, low = p["width"], p["height"], p["stand_height"]
    tilt = math.radians(p["tilt_deg"])
    for x in (-width / 2 + 0.05, width / 2 - 0.05):
        b.box(frame, (0.05, low + height * 0.5, 0.05), (x, (low + height * 0.5) / 2, 0))
    for material, size, depth in ((frame, (width, height, 0.04), 0.0), (face, (width - 0.06, height - 0.06, 0.01), 0.022)):
        board = trimesh.creation.box(extents=size)
        board.apply_translation((0, 0, depth))
        board.apply_transform(trimesh.transformations.rotation_matrix(-tilt, (1, 0, 0)))
        b.add(material, board, (0, low + height / 2, 0.05))
    return b.scene("panel")


def build_glb(
    name: str,
    params: Params | None = None,
    seed: int = 0,
    made_by: str = "Third Space",
    made_at: str | None = None,
) -> bytes:
    """Run a recipe and export binary glTF with its provenance packet and any animation."""
    try:
        spec = RECIPES[name]
    except KeyError:
        raise RecipeError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}") from None
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise RecipeError(f"must be an integer from 0 to {MAX_SEED}", "seed")
    resolved = spec.resolve(params)
    scene = spec.make(resolved, np.random.default_rng(seed))
    gltf = unpack(scene.export(file_type="glb", include_normals=True))
    document = gltf.document
    document["asset"] = {"version": "2.0", "generator": f"Third Space recipe {name} v{spec.version}"}
    for item in (*document.get("meshes", []), *document.get("scenes", [])):
        item.pop("extras", None)
    builder = BufferBuilder(document, gltf.binary)
    for animation in scene.metadata.get("animations", []):
        _add_turntable(document, builder, animation["node"], animation["period_s"])
    gltf = compact(gltf, builder)
    record = provenance.recipe_provenance(name, spec.version, resolved, seed, made_by, made_at)
    provenance.embed(gltf.document, record.to_packet())
    return pack(gltf)


def _add_turntable(document: dict, builder: BufferBuilder, node_name: str, period_s: float) -> None:
    node = next(i for i, n in enumerate(document["nodes"]) if n.get("name") == node_name)
    times = np.linspace(0, period_s, 5, dtype=np.float32)
    angles = np.linspace(0, 2 * math.pi, 5)
    rotations = np.column_stack([np.zeros(5), np.sin(angles / 2), np.zeros(5), np.cos(angles / 2)]).astype(np.float32)
    document.setdefault("animations", []).append(
        {
            "name": "turntable",
            "channels": [{"sampler": 0, "target": {"node": node, "path": "rotation"}}],
            "samplers": [{"input": builder.accessor(times, bounds=True), "output": builder.accessor(rotations), "interpolation": "LINEAR"}],
        }
    )
