"""What a stored asset must hold: the content rules every upload and every level of detail must pass.

:mod:`thirdspace.assets.checks` makes sure a file is well formed (its container, sizes and references);
this module checks what is inside, following the Khronos glTF-Validator's rules on the points where a
file can be well formed and still wrong:

- **accessors are backed by data**: an accessor without a buffer view is all zeros, so only a sparse
  accessor may leave its data out, never an index list, and all such accessors together stay within the
  limit of unpacked bytes (they are checked before anything reads them, so a file declaring 500 million
  indices with nothing behind them costs nothing);
- **numbers are finite**: every float accessor (vertex data, morph targets, animation keyframes,
  inverse bind matrices), its sparse values included;
- **morph targets** match their primitive: one value per vertex, the same number of targets in every
  primitive of a mesh, as many default weights as targets;
- **animations are consistent**: a known interpolation, keyframe times that are scalar floats with bounds,
  not negative and strictly increasing, output values of the right type and count for the path and the
  interpolation (three per keyframe for CUBICSPLINE, one per morph target for weights), rotations of unit
  length, channels aimed at nodes that can move (not a ``matrix`` node, weights only where there are morph
  targets), no two channels of one animation on the same target;
- **scenes** list each root once, and only nodes without a parent;
- **no empty arrays** at the top of the document (``"meshes": []`` is invalid glTF);
- **images** decode within the image limits (:mod:`thirdspace.assets.images`).

:func:`check_content` runs on every upload, in the asset worker, after the structural checks;
:func:`check_level` runs on every level of detail the store is about to write (the images are the
source's, already checked).  Both raise :class:`~thirdspace.assets.checks.ImportRefused`.
"""

from __future__ import annotations

import numpy as np

from thirdspace.assets import images
from thirdspace.assets.checks import ImportLimits, ImportRefused
from thirdspace.assets.gltf import Gltf, element_size, read_accessor

FLOAT = 5126
COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}  # bytes per component type
INTERPOLATIONS = ("LINEAR", "STEP", "CUBICSPLINE")
PATHS = {"translation": "VEC3", "rotation": "VEC4", "scale": "VEC3", "weights": "SCALAR"}
NORMALISED_ROTATIONS = (5120, 5122)  # signed byte and short, normalised, as KHR_mesh_quantization allows
NORMALISED_WEIGHTS = (5120, 5121, 5122, 5123)
UNIT_TOLERANCE = 0.005  # how far from length 1 a LINEAR or STEP rotation keyframe may be (the validator refuses 1.01, takes 1.002)
TOP_LEVEL_ARRAYS = (
    "accessors", "animations", "buffers", "bufferViews", "cameras", "images", "materials", "meshes",
    "nodes", "samplers", "scenes", "skins", "textures", "extensionsUsed", "extensionsRequired",
)  # fmt: skip


def check_content(gltf: Gltf, limits: ImportLimits) -> None:
    """Everything below, for an upload that passed the structural checks (its buffers merged into one)."""
    check_structure(gltf.document, limits.max_unpacked_bytes)
    check_data(gltf)
    images.check_images(gltf, limits.max_image_side, limits.max_image_pixels)


def check_level(gltf: Gltf, max_zero_bytes: int) -> None:
    """A level of detail about to be stored: the same rules, its images (the source's) not decoded again."""
    check_structure(gltf.document, max_zero_bytes)
    check_data(gltf)


def check_structure(document: dict, max_zero_bytes: int) -> None:
    """The rules that need only the JSON: run first, so nothing is read for a file that declares data it lacks."""
    for name in TOP_LEVEL_ARRAYS:
        if name in document and isinstance(document[name], list) and not document[name]:
            raise ImportRefused("must not be an empty array: leave it out instead", name)
    _check_backing(document, max_zero_bytes)
    _check_scenes(document)
    _check_morph_targets(document)
    _check_animation_layout(document)


def check_data(gltf: Gltf) -> None:
    """The rules that read accessor data: finite floats, then keyframe times and rotations."""
    document = gltf.document
    for i, accessor in enumerate(document.get("accessors", [])):
        if "sparse" in accessor:  # before any accessor is read: a sparse index past the end would be written out of bounds
            ref = accessor["sparse"]["indices"]
            start = document["bufferViews"][ref["bufferView"]].get("byteOffset", 0) + ref.get("byteOffset", 0)
            dtype = f"<u{COMPONENT_SIZES[ref['componentType']]}"  # sparse indices are unsigned
            highest = int(np.frombuffer(gltf.binary, dtype=dtype, count=accessor["sparse"]["count"], offset=start).max())
            if highest >= accessor["count"]:
                message = f"a sparse index reaches {highest} but there are {accessor['count']} elements"
                raise ImportRefused(message, f"accessors[{i}].sparse.indices")
    for i, accessor in enumerate(document.get("accessors", [])):
        if accessor["componentType"] == FLOAT and not np.isfinite(read_accessor(gltf, i)).all():
            raise ImportRefused(
                f"accessor {i} holds values that are not finite numbers (NaN or infinity){_used_by(document, i)}", f"accessors[{i}]"
            )
    for a, animation in enumerate(document.get("animations", [])):
        for k, sampler in enumerate(animation["samplers"]):
            times = read_accessor(gltf, sampler["input"])[:, 0]
            field = f"animations[{a}].samplers[{k}].input"
            if len(times) and times[0] < 0:
                raise ImportRefused(f"keyframe times must not be negative; the first is {float(times[0])}", field)
            backwards = np.flatnonzero(np.diff(times) <= 0)
            if len(backwards):
                j = int(backwards[0])
                raise ImportRefused(
                    f"keyframe times must increase: time {j + 1} ({float(times[j + 1])}) is not after time {j} ({float(times[j])})", field
                )
        for channel in animation["channels"]:
            sampler = animation["samplers"][channel["sampler"]]
            output = document["accessors"][sampler["output"]]
            if channel["target"]["path"] != "rotation" or sampler.get("interpolation", "LINEAR") == "CUBICSPLINE":
                continue
            values = read_accessor(gltf, sampler["output"]).astype(np.float64)
            lengths = np.linalg.norm(values, axis=1)
            tolerance = UNIT_TOLERANCE if output["componentType"] == FLOAT else 2.0 / 127
            off = np.flatnonzero(np.abs(lengths - 1) > tolerance)
            if len(off):
                raise ImportRefused(
                    f"rotation keyframe {int(off[0])} is not a unit quaternion (its length is {float(lengths[off[0]]):.4f})",
                    f"animations[{a}].samplers[{channel['sampler']}].output",
                )


def _used_by(document: dict, index: int) -> str:
    for m, mesh in enumerate(document.get("meshes", [])):
        for p, primitive in enumerate(mesh.get("primitives", [])):
            for t, target in enumerate(primitive.get("targets", [])):
                for name, ref in target.items():
                    if ref == index:
                        return f": morph target {t} of meshes[{m}].primitives[{p}] ({name})"
            for name, ref in primitive.get("attributes", {}).items():
                if ref == index:
                    return f": meshes[{m}].primitives[{p}].attributes.{name}"
    for a, animation in enumerate(document.get("animations", [])):
        for k, sampler in enumerate(animation.get("samplers", [])):
            for part in ("input", "output"):
                if sampler.get(part) == index:
                    return f": the {part} of animations[{a}].samplers[{k}]"
    return ""


def _check_backing(document: dict, max_zero_bytes: int) -> None:
    accessors = document.get("accessors", [])
    views = document.get("bufferViews", [])
    indices = {p["indices"] for mesh in document.get("meshes", []) for p in mesh.get("primitives", []) if "indices" in p}
    zeros = 0
    for i, accessor in enumerate(accessors):
        field = f"accessors[{i}]"
        size = element_size(accessor)
        if "bufferView" not in accessor:
            if i in indices:
                raise ImportRefused(
                    f"an index list of {accessor['count']} values with no buffer view: indices need data behind them", field
                )
            if "byteOffset" in accessor:
                raise ImportRefused("byteOffset is given but there is no bufferView", f"{field}.byteOffset")
            zeros += accessor["count"] * size
            if zeros > max_zero_bytes:
                raise ImportRefused(
                    f"declares {accessor['count']} elements ({accessor['count'] * size} bytes) with no buffer view; accessors without data "
                    f"(all zeros) may come to {max_zero_bytes} bytes in all",
                    field,
                )
            continue
        view = views[accessor["bufferView"]]
        component = COMPONENT_SIZES[accessor["componentType"]]
        offset = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        if offset % component:
            raise ImportRefused(
                f"starts at byte {offset} of the buffer, not a multiple of its component size ({component})", f"{field}.byteOffset"
            )
        stride = view.get("byteStride")
        if stride is not None and stride < size:
            raise ImportRefused(f"elements of {size} bytes do not fit the buffer view's byteStride of {stride}", f"{field}.bufferView")


def _check_scenes(document: dict) -> None:
    children = {child for node in document.get("nodes", []) for child in node.get("children", [])}
    for s, scene in enumerate(document.get("scenes", [])):
        seen: set[int] = set()
        for k, root in enumerate(scene.get("nodes", [])):
            field = f"scenes[{s}].nodes[{k}]"
            if root in seen:
                raise ImportRefused(f"node {root} is listed more than once as a root of the scene", field)
            if root in children:
                raise ImportRefused(f"node {root} is a child of another node, so it cannot be a root of the scene", field)
            seen.add(root)


def _check_morph_targets(document: dict) -> None:
    accessors = document.get("accessors", [])
    for m, mesh in enumerate(document.get("meshes", [])):
        counts = {len(p.get("targets", [])) for p in mesh["primitives"]}
        if len(counts) > 1:
            raise ImportRefused(f"its primitives have different numbers of morph targets ({sorted(counts)})", f"meshes[{m}]")
        targets = counts.pop() if counts else 0
        if "weights" in mesh and (not isinstance(mesh["weights"], list) or len(mesh["weights"]) != targets):
            raise ImportRefused(f"{len(mesh['weights'])} default weights for {targets} morph targets", f"meshes[{m}].weights")
        for p, primitive in enumerate(mesh["primitives"]):
            vertices = accessors[primitive["attributes"]["POSITION"]]["count"]
            for t, target in enumerate(primitive.get("targets", [])):
                for name, ref in target.items():
                    field = f"meshes[{m}].primitives[{p}].targets[{t}].{name}"
                    if accessors[ref]["count"] != vertices:
                        raise ImportRefused(f"has {accessors[ref]['count']} values for {vertices} vertices", field)
                    if name in ("POSITION", "NORMAL", "TANGENT") and accessors[ref]["type"] != "VEC3":
                        raise ImportRefused(f"a morph target's {name} must be VEC3", field)
    for n, node in enumerate(document.get("nodes", [])):
        if "weights" in node:
            targets = _target_count(document, node)
            if not isinstance(node["weights"], list) or len(node["weights"]) != targets:
                raise ImportRefused(f"weights must give one weight per morph target of the node's mesh ({targets})", f"nodes[{n}].weights")


def _target_count(document: dict, node: dict) -> int:
    if "mesh" not in node:
        return 0
    return len(document["meshes"][node["mesh"]]["primitives"][0].get("targets", []))


def _check_animation_layout(document: dict) -> None:
    accessors = document.get("accessors", [])
    nodes = document.get("nodes", [])
    for a, animation in enumerate(document.get("animations", [])):
        samplers = animation["samplers"]
        for k, sampler in enumerate(samplers):
            field = f"animations[{a}].samplers[{k}]"
            interpolation = sampler.get("interpolation", "LINEAR")
            if interpolation not in INTERPOLATIONS:
                raise ImportRefused(f"interpolation {interpolation!r} is not one of {', '.join(INTERPOLATIONS)}", f"{field}.interpolation")
            times = accessors[sampler["input"]]
            if times["componentType"] != FLOAT or times["type"] != "SCALAR":
                raise ImportRefused("keyframe times must be scalar floats", f"{field}.input")
            if "min" not in times or "max" not in times:
                raise ImportRefused(f"keyframe times (accessors[{sampler['input']}]) must declare min and max", f"{field}.input")
            if interpolation == "CUBICSPLINE" and times["count"] < 2:
                raise ImportRefused("a CUBICSPLINE sampler needs at least two keyframes", f"{field}.input")
        targets: dict[tuple[int, str], int] = {}
        for k, channel in enumerate(animation["channels"]):
            field = f"animations[{a}].channels[{k}]"
            target = channel.get("target", {})
            if "node" not in target:
                raise ImportRefused("a channel must name the node it animates", f"{field}.target.node")
            path = target.get("path")
            if not isinstance(path, str) or path not in PATHS:
                raise ImportRefused(f"path {path!r} is not one of {', '.join(PATHS)}", f"{field}.target.path")
            node = nodes[target["node"]]
            if "matrix" in node:
                raise ImportRefused(
                    f"node {target['node']} has a matrix, so it cannot be animated (give it translation, rotation, scale)", field
                )
            morphs = _target_count(document, node)
            if path == "weights" and not morphs:
                raise ImportRefused(f"animates the weights of node {target['node']}, whose mesh has no morph targets", field)
            if (target["node"], path) in targets:
                raise ImportRefused(
                    f"channel {targets[(target['node'], path)]} already animates the {path} of node {target['node']}", field
                )
            targets[(target["node"], path)] = k
            sampler = samplers[channel["sampler"]]
            output = accessors[sampler["output"]]
            allowed = (FLOAT,) + (NORMALISED_ROTATIONS if path == "rotation" else NORMALISED_WEIGHTS if path == "weights" else ())
            normalised = output["componentType"] == FLOAT or output.get("normalized", False)
            if output["type"] != PATHS[path] or output["componentType"] not in allowed or not normalised:
                kind = f"{output['type']} of component type {output['componentType']}"
                raise ImportRefused(f"{path} needs {PATHS[path]} floats (or normalised integers) as output, not {kind}", f"{field}.sampler")
            per_key = (3 if sampler.get("interpolation", "LINEAR") == "CUBICSPLINE" else 1) * (morphs if path == "weights" else 1)
            expected = accessors[sampler["input"]]["count"] * per_key
            if output["count"] != expected:
                raise ImportRefused(
                    f"{accessors[sampler['input']]['count']} keyframe times need {expected} output values for {path}, "
                    f"but the output has {output['count']}",
                    f"{field}.sampler",
                )
