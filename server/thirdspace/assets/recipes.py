"""Procedural geometry for the demo scenes.

Each recipe is a pure function ``params -> trimesh.Scene``: same parameters, same
geometry.  Meshes are grouped by material so a whole object is a handful of
draw calls.  :func:`build_glb` turns a recipe and its parameters into GLB bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

Params = dict[str, Any]


class RecipeError(ValueError):
    """A recipe name or parameter is wrong; the message names it."""


def _hex_rgba(colour: str) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i : i + 2], 16) for i in (0, 2, 4)] + [255]


class _Builder:
    """Collects meshes per material and assembles a scene."""

    def __init__(self) -> None:
        self.parts: dict[str, list[trimesh.Trimesh]] = {}
        self.materials: dict[str, tuple[str, float, float, bool]] = {}

    def material(self, name: str, colour: str, roughness: float = 0.9, metallic: float = 0.0, smooth: bool = False) -> str:
        """Declare a material; ``smooth`` shares normals across faces (turned and curved things)."""
        self.materials[name] = (colour, roughness, metallic, smooth)
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

    def scene(self, name: str) -> trimesh.Scene:
        scene = trimesh.Scene()
        for material, meshes in self.parts.items():
            if not meshes:
                continue
            colour, roughness, metallic, smooth = self.materials[material]
            mesh = trimesh.util.concatenate(meshes)
            if smooth:
                mesh.merge_vertices()
            else:
                mesh.unmerge_vertices()
            mesh.visual = trimesh.visual.TextureVisuals(
                material=PBRMaterial(
                    name=material,
                    baseColorFactor=_hex_rgba(colour),
                    roughnessFactor=roughness,
                    metallicFactor=metallic,
                    doubleSided=False,
                )
            )
            scene.add_geometry(mesh, node_name=f"{name}-{material}", geom_name=f"{name}-{material}")
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


def tiled_floor(p: Params) -> trimesh.Scene:
    """A square floor of alternating tiles."""
    size, tiles = float(p.get("size", 24.0)), int(p.get("tiles", 12))
    b = _Builder()
    light = b.material("tile-light", p.get("colour_a", "#d9c7a3"))
    dark = b.material("tile-dark", p.get("colour_b", "#a8744f"))
    step = size / tiles
    for i in range(tiles):
        for j in range(tiles):
            x = -size / 2 + step * (i + 0.5)
            z = -size / 2 + step * (j + 0.5)
            b.box(light if (i + j) % 2 == 0 else dark, (step * 0.96, 0.1, step * 0.96), (x, -0.05, z))
    b.box(b.material("grout", "#6b5a47"), (size, 0.08, size), (0, -0.06, 0))
    return b.scene("floor")


def arcade_walls(p: Params) -> trimesh.Scene:
    """Four walls around a courtyard, each pierced by a row of arched bays (iwans)."""
    size = float(p.get("size", 24.0))
    height = float(p.get("height", 6.0))
    bays = int(p.get("bays", 5))
    thickness = 0.8
    b = _Builder()
    wall = b.material("adobe", p.get("wall_colour", "#c9a26b"))
    trim = b.material("glazed-tile", p.get("trim_colour", "#2f6f8f"), roughness=0.35)
    bay = size / bays
    pier = bay * 0.25
    opening = bay - pier
    spring = height * 0.45
    for side in range(4):
        angle = side * math.pi / 2
        for k in range(bays + 1):
            x = -size / 2 + k * bay
            centre = np.array([x, spring / 2, -size / 2])
            b.box(wall, (pier, spring, thickness), _rot(centre, angle), rotate_y=angle)
        for k in range(bays):
            x = -size / 2 + (k + 0.5) * bay
            _arch(b, trim, opening, spring, 0.35, thickness + 0.05, _rot(np.array([x, 0, -size / 2]), angle), rotate_y=angle)
        upper = height - spring
        b.box(
            wall,
            (size + thickness, upper - opening / 2 + 0.2, thickness),
            _rot(np.array([0, spring + opening / 2 + (upper - opening / 2) / 2 - 0.1, -size / 2]), angle),
            rotate_y=angle,
        )
        b.box(trim, (size + thickness, 0.3, thickness + 0.2), _rot(np.array([0, height, -size / 2]), angle), rotate_y=angle)
    return b.scene("arcade")


def _rot(point: np.ndarray, angle: float) -> tuple[float, float, float]:
    c, s = math.cos(angle), math.sin(angle)
    x, y, z = point
    return (c * x + s * z, y, -s * x + c * z)


def fountain(p: Params) -> trimesh.Scene:
    """An octagonal basin with water and a central column."""
    radius = float(p.get("radius", 2.5))
    b = _Builder()
    stone = b.material("stone", p.get("stone_colour", "#e6dccb"))
    water = b.material("water", p.get("water_colour", "#3d8fb5"), roughness=0.1)
    ring = trimesh.creation.annulus(r_min=radius - 0.3, r_max=radius, height=0.6, sections=8)
    ring.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(stone, ring, (0, 0.3, 0))
    b.cylinder(water, radius - 0.3, 0.4, (0, 0.2, 0), sections=8)
    b.cylinder(stone, 0.25, 1.4, (0, 0.7, 0), sections=12)
    b.cylinder(stone, 0.7, 0.15, (0, 1.4, 0), sections=16)
    return b.scene("fountain")


def cypress(p: Params) -> trimesh.Scene:
    """A slender cypress: trunk and a tall cone of foliage."""
    height = float(p.get("height", 5.0))
    b = _Builder()
    bark = b.material("bark", "#5a3d26")
    leaves = b.material("leaves", p.get("colour", "#2f5d34"))
    b.cylinder(bark, 0.15, height * 0.2, (0, height * 0.1, 0), sections=8)
    cone = trimesh.creation.cone(radius=height * 0.14, height=height * 0.85, sections=12)
    cone.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(leaves, cone, (0, height * 0.15, 0))
    return b.scene("cypress")


def carpet(p: Params) -> trimesh.Scene:
    """A woven carpet: field, border and a central medallion."""
    width, length = float(p.get("width", 2.0)), float(p.get("length", 3.0))
    b = _Builder()
    b.box(b.material("border", p.get("border_colour", "#1f3b63")), (width, 0.02, length), (0, 0.01, 0))
    b.box(b.material("field", p.get("field_colour", "#9b2d30")), (width - 0.3, 0.03, length - 0.3), (0, 0.015, 0))
    medallion = b.material("medallion", p.get("medallion_colour", "#e0b354"))
    b.cylinder(medallion, min(width, length) * 0.22, 0.035, (0, 0.0175, 0), sections=8)
    return b.scene("carpet")


def lantern(p: Params) -> trimesh.Scene:
    """A standing lantern with a glowing body and a pierced-metal cap."""
    height = float(p.get("height", 1.6))
    b = _Builder()
    metal = b.material("brass", "#8c6a2f", roughness=0.4, metallic=0.8)
    glow = b.material("glow", p.get("glow_colour", "#ffd27a"), roughness=0.3)
    b.cylinder(metal, 0.05, height * 0.7, (0, height * 0.35, 0), sections=8)
    b.cylinder(metal, 0.25, 0.06, (0, 0.03, 0), sections=12)
    b.cylinder(glow, 0.18, height * 0.22, (0, height * 0.81, 0), sections=6)
    cap = trimesh.creation.cone(radius=0.24, height=0.22, sections=6)
    cap.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(metal, cap, (0, height * 0.92, 0))
    return b.scene("lantern")


def gallery_room(p: Params) -> trimesh.Scene:
    """A rectangular gallery: floor, four walls with a doorway, and a skirting."""
    width, depth, height = float(p.get("width", 14.0)), float(p.get("depth", 10.0)), float(p.get("height", 4.5))
    b = _Builder()
    floor = b.material("oak", p.get("floor_colour", "#8a6a4a"), roughness=0.6)
    wall = b.material("plaster", p.get("wall_colour", "#ece6da"))
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


def plinth(p: Params) -> trimesh.Scene:
    """A display plinth with base and cap mouldings."""
    height, width = float(p.get("height", 1.0)), float(p.get("width", 0.6))
    b = _Builder()
    body = b.material("plinth", p.get("colour", "#f4f2ee"))
    trim = b.material("plinth-trim", "#cfc9bf")
    b.box(trim, (width + 0.08, 0.08, width + 0.08), (0, 0.04, 0))
    b.box(body, (width, height - 0.12, width), (0, (height - 0.12) / 2 + 0.08, 0))
    b.box(trim, (width + 0.06, 0.04, width + 0.06), (0, height - 0.02, 0))
    return b.scene("plinth")


def vessel(p: Params) -> trimesh.Scene:
    """A turned vessel, revolved from a profile of (radius, height) points."""
    profile = p.get("profile", [[0.0, 0.0], [0.09, 0.0], [0.16, 0.12], [0.17, 0.22], [0.08, 0.36], [0.06, 0.42], [0.09, 0.46], [0.0, 0.46]])
    b = _Builder()
    glaze = b.material("glaze", p.get("colour", "#2d5fa0"), roughness=0.25, smooth=True)
    mesh = trimesh.creation.revolve(np.asarray(profile, dtype=float), sections=int(p.get("sections", 32)))
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    b.add(glaze, mesh)
    return b.scene("vessel")


def stele(p: Params) -> trimesh.Scene:
    """An inscribed stone slab on a low base, rounded at the top."""
    height, width = float(p.get("height", 1.2)), float(p.get("width", 0.5))
    b = _Builder()
    stone = b.material("basalt", p.get("colour", "#4b4a48"), roughness=0.7)
    b.box(stone, (width + 0.1, 0.08, 0.3), (0, 0.04, 0))
    b.box(stone, (width, height - width / 2, 0.16), (0, 0.08 + (height - width / 2) / 2, 0))
    top = trimesh.creation.cylinder(radius=width / 2, height=0.16, sections=24)
    b.add(stone, top, (0, 0.08 + height - width / 2, 0))
    lines = b.material("inscription", "#c9b27a", roughness=0.5)
    for i in range(5):
        b.box(lines, (width * 0.7, 0.025, 0.01), (0, 0.3 + i * 0.12, 0.085))
    return b.scene("stele")


def astrolabe(p: Params) -> trimesh.Scene:
    """A brass astrolabe: a ring (mater), a plate and a pointer (alidade)."""
    radius = float(p.get("radius", 0.22))
    b = _Builder()
    brass = b.material("brass", p.get("colour", "#b08d3c"), roughness=0.35, metallic=0.9, smooth=True)
    ring = trimesh.creation.torus(major_radius=radius, minor_radius=radius * 0.08, major_sections=32, minor_sections=8)
    b.add(brass, ring, (0, radius * 1.1, 0))
    plate = trimesh.creation.cylinder(radius=radius * 0.92, height=0.01, sections=32)
    b.add(brass, plate, (0, radius * 1.1, 0))
    b.box(brass, (radius * 1.9, radius * 0.08, 0.015), (0, radius * 1.1, 0.012))
    b.box(brass, (radius * 0.3, radius * 0.2, 0.03), (0, radius * 2.15, 0))
    return b.scene("astrolabe")


RECIPES: dict[str, Callable[[Params], trimesh.Scene]] = {
    f.__name__: f for f in (tiled_floor, arcade_walls, fountain, cypress, carpet, lantern, gallery_room, plinth, vessel, stele, astrolabe)
}


def build_glb(recipe: str, params: Params | None = None) -> bytes:
    """Run a recipe and export it as binary glTF."""
    try:
        make = RECIPES[recipe]
    except KeyError:
        raise RecipeError(f"unknown recipe {recipe!r}; known: {', '.join(sorted(RECIPES))}") from None
    try:
        scene = make(dict(params or {}))
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"recipe {recipe!r}: bad parameter: {exc}") from None
    return scene.export(file_type="glb", include_normals=True)
