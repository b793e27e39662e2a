"""Import checks: turn untrusted GLB or zipped glTF bytes into a GLB this server will keep, or refuse.

Every refusal is an :class:`ImportRefused` whose message names the problem and,
where there is one, the JSON path in the glTF document (``accessors[3].count``).
Nothing here writes a file: callers store what :func:`check_upload` returns.
"""

from __future__ import annotations

import base64
import binascii
import io
import lzma
import math
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from thirdspace.assets.gltf import (
    CHUNK,
    CHUNK_BIN,
    CHUNK_JSON,
    COMPONENT_DTYPES,
    GLB_MAGIC,
    HEADER,
    TYPE_WIDTHS,
    BufferBuilder,
    Gltf,
    element_size,
    read_accessor,
    triangle_count,
)

MiB = 1024 * 1024
DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,", re.ASCII)
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/ktx2"}


@dataclass(frozen=True)
class ImportLimits:
    max_file_bytes: int = 32 * MiB
    max_json_bytes: int = 4 * MiB
    max_unpacked_bytes: int = 64 * MiB  # everything a zip may expand to
    max_zip_entries: int = 256
    max_accessors: int = 20_000
    max_nodes: int = 20_000
    max_vertices: int = 1_000_000
    max_triangles: int = 1_000_000
    max_textures: int = 32
    max_node_depth: int = 256  # nodes from a scene's root down to the deepest child
    max_scene_roots: int = 4096  # root nodes one scene may list
    max_drawn_triangles: int = 4_000_000  # triangles drawn, counting a mesh once per node that shows it
    max_image_side: int = 8192  # pixels a side of any one image (texture)
    max_image_pixels: int = 8192 * 8192  # pixels of all an asset's images together

    @classmethod
    def from_settings(cls, settings: Any) -> ImportLimits:
        """The limits a server's settings (``thirdspace.config.Settings``) set; the rest stay at their defaults."""
        return cls(
            max_file_bytes=int(settings.import_max_file_mb * MiB),
            max_nodes=settings.asset_max_nodes,
            max_node_depth=settings.asset_max_node_depth,
            max_scene_roots=settings.asset_max_scene_roots,
            max_drawn_triangles=settings.asset_max_drawn_triangles,
            max_image_side=settings.import_max_image_side,
            max_image_pixels=settings.import_max_image_pixels,
        )


DEFAULT_LIMITS = ImportLimits()


class ImportRefused(ValueError):
    """The upload is refused; ``field`` is the JSON path or part of the file at fault."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def __reduce__(self):  # comes back whole from an asset worker process
        return type(self), (self.message, self.field)


def check_upload(data: bytes, limits: ImportLimits = DEFAULT_LIMITS) -> Gltf:
    """Check a GLB, or a zip holding one ``.gltf`` with its files, and return it as one self-contained GLB."""
    if len(data) > limits.max_file_bytes:
        raise ImportRefused(f"the file is {len(data)} bytes; the limit is {limits.max_file_bytes}")
    if data[:4] == GLB_MAGIC:
        return check_glb(data, limits)
    if data[:4] == b"PK\x03\x04":
        return _from_zip(data, limits)
    raise ImportRefused("not a GLB (magic 'glTF') or a zip holding a .gltf file")


def check_glb(data: bytes, limits: ImportLimits = DEFAULT_LIMITS) -> Gltf:
    if len(data) > limits.max_file_bytes:
        raise ImportRefused(f"the file is {len(data)} bytes; the limit is {limits.max_file_bytes}")
    if len(data) < HEADER.size + CHUNK.size:
        raise ImportRefused(f"truncated: {len(data)} bytes is shorter than a GLB header")
    magic, version, length = HEADER.unpack_from(data)
    if magic != GLB_MAGIC:
        raise ImportRefused("not a GLB: the file does not start with 'glTF'")
    if version != 2:
        raise ImportRefused(f"GLB version {version}; only version 2 is supported", "header.version")
    if length != len(data):
        raise ImportRefused(f"truncated or padded: the header says {length} bytes, the file has {len(data)}", "header.length")
    json_length, kind = CHUNK.unpack_from(data, HEADER.size)
    if kind != CHUNK_JSON:
        raise ImportRefused("the first chunk is not JSON", "chunks[0]")
    if json_length > limits.max_json_bytes:
        raise ImportRefused(f"the JSON chunk is {json_length} bytes; the limit is {limits.max_json_bytes}", "chunks[0]")
    bin_offset = HEADER.size + CHUNK.size + json_length
    if bin_offset > length:
        raise ImportRefused(f"the JSON chunk claims {json_length} bytes, past the end of the file", "chunks[0]")
    bin_length = 0
    if bin_offset + CHUNK.size <= length:
        bin_length, kind = CHUNK.unpack_from(data, bin_offset)
        if kind != CHUNK_BIN:
            raise ImportRefused("the second chunk is not BIN", "chunks[1]")
        if bin_offset + CHUNK.size + bin_length > length:
            raise ImportRefused(f"the BIN chunk claims {bin_length} bytes, past the end of the file", "chunks[1]")
    document = _parse_json(data[HEADER.size + CHUNK.size : bin_offset])
    gltf = Gltf(document, data[bin_offset + CHUNK.size : bin_offset + CHUNK.size + bin_length])
    buffers = _count(document, "buffers", 64)
    declared = buffers[0].get("byteLength", 0) if buffers else 0
    if buffers and "uri" not in buffers[0] and isinstance(declared, int) and declared > bin_length:
        raise ImportRefused(f"buffer 0 declares {declared} bytes but the BIN chunk holds {bin_length}", "buffers[0].byteLength")
    embedded = 0 if buffers and "uri" not in buffers[0] else None
    return _check_and_merge(gltf, limits, embedded=embedded, files={}, base="")


def _parse_json(raw: bytes) -> dict:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportRefused(f"the glTF JSON does not parse: {exc}", "json") from None
    if not isinstance(document, dict):
        raise ImportRefused("the glTF JSON is not an object", "json")
    version = document.get("asset", {}).get("version") if isinstance(document.get("asset"), dict) else None
    if not isinstance(version, str) or not version.startswith("2."):
        raise ImportRefused(f"asset.version is {version!r}; glTF 2.x is required", "asset.version")
    return document


def _from_zip(data: bytes, limits: ImportLimits) -> Gltf:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as exc:
        raise ImportRefused(f"not a readable zip: {exc}") from None
    if len(entries) > limits.max_zip_entries:
        raise ImportRefused(f"the zip has {len(entries)} entries; the limit is {limits.max_zip_entries}")
    declared = sum(e.file_size for e in entries)
    if declared > limits.max_unpacked_bytes:
        raise ImportRefused(f"the zip expands to {declared} bytes; the limit is {limits.max_unpacked_bytes}")
    for entry in entries:
        _safe_path(entry.filename, "zip", f"zip entry {entry.filename!r}")
    gltf_files = [e.filename for e in entries if e.filename.lower().endswith(".gltf")]
    if len(gltf_files) != 1:
        raise ImportRefused(f"the zip must hold exactly one .gltf file; it holds {len(gltf_files)}")
    files: dict[str, bytes] = {}
    budget = limits.max_unpacked_bytes
    for entry in entries:
        if entry.is_dir():
            continue
        content = _read_bounded(archive, entry, budget)
        budget -= len(content)
        files[posixpath.normpath(entry.filename)] = content
    name = posixpath.normpath(gltf_files[0])
    if len(files[name]) > limits.max_json_bytes:
        raise ImportRefused(f"{name} is {len(files[name])} bytes; the limit for glTF JSON is {limits.max_json_bytes}")
    document = _parse_json(files[name])
    return _check_and_merge(Gltf(document), limits, embedded=None, files=files, base=posixpath.dirname(name))


def _read_bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int) -> bytes:
    """Read one entry, stopping as soon as it passes the budget, whatever its header claims."""
    if entry.flag_bits & 0x1:
        raise ImportRefused(f"zip entry {entry.filename!r} is encrypted: zip the files without a password")
    out = bytearray()
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                out += chunk
                if len(out) > budget:
                    raise ImportRefused(f"zip entry {entry.filename!r} expands past the limit of unpacked bytes")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error, lzma.LZMAError) as exc:
        raise ImportRefused(f"zip entry {entry.filename!r} is unreadable: {exc}") from None
    return bytes(out)


def _safe_path(path: str, field: str, label: str) -> str:
    if "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "\0" in path:
        raise ImportRefused(f"{label}: absolute or drive paths are not allowed", field)
    if ".." in path.split("/"):
        raise ImportRefused(f"{label}: '..' path traversal is not allowed", field)
    return path


def _resolve_uri(uri: object, field: str, files: dict[str, bytes], base: str) -> tuple[bytes, str | None]:
    """Bytes for a buffer or image URI: a data URI, or a relative file inside the zip."""
    if not isinstance(uri, str) or not uri:
        raise ImportRefused("the URI must be a non-empty string", field)
    match = DATA_URI.match(uri)
    if match:
        try:
            return base64.b64decode(uri[match.end() :], validate=True), match.group(1)
        except (binascii.Error, ValueError):
            raise ImportRefused("the data URI is not valid base64", field) from None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) or uri.startswith("//"):
        raise ImportRefused(f"external URI {uri!r} is not allowed: pack the file into the GLB or the zip", field)
    from urllib.parse import unquote

    path = unquote(uri)
    _safe_path(path, field, repr(uri))
    full = posixpath.normpath(posixpath.join(base, path))
    if full not in files:
        raise ImportRefused(f"{uri!r} is not in the upload", field)
    return files[full], None


def _index(document: dict, name: str, value: object, field: str) -> int:
    items = document.get(name, [])
    if not isinstance(items, list):
        raise ImportRefused("must be an array", name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(items):
        raise ImportRefused(f"{value!r} is not an index into {name} (which has {len(items)})", field)
    return value


def _item(document: dict, name: str, value: object, field: str) -> dict:
    index = _index(document, name, value, field)  # raises before document[name] is looked up
    return document[name][index]


def _objects(value: object, field: str) -> list:
    """``value`` as a list of objects, or a refusal naming the array or the item."""
    if not isinstance(value, list):
        raise ImportRefused("must be an array", field)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ImportRefused("must be an object", f"{field}[{i}]")
    return value


def _array(value: object, field: str) -> list:
    if not isinstance(value, list):
        raise ImportRefused("must be an array", field)
    return value


def _count(document: dict, name: str, limit: int) -> list:
    items = document.get(name, [])
    if not isinstance(items, list):
        raise ImportRefused("must be an array", name)
    if len(items) > limit:
        raise ImportRefused(f"{len(items)} {name}; the limit is {limit}", name)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportRefused("must be an object", f"{name}[{i}]")
    return items


def _check_and_merge(gltf: Gltf, limits: ImportLimits, embedded: int | None, files: dict[str, bytes], base: str) -> Gltf:
    """Check references and sizes, then gather every buffer and image into one embedded buffer."""
    document = gltf.document
    for name in ("extensionsUsed", "extensionsRequired"):
        if not all(isinstance(extension, str) for extension in _array(document.get(name, []), name)):
            raise ImportRefused("must be an array of extension names", name)
    accessors = _count(document, "accessors", limits.max_accessors)
    nodes = _count(document, "nodes", limits.max_nodes)
    images = _count(document, "images", limits.max_textures)
    _count(document, "textures", limits.max_textures)
    buffers = _count(document, "buffers", 64)
    views = _count(document, "bufferViews", limits.max_accessors * 2)

    # Buffers: the GLB's own BIN chunk, data URIs or files inside the zip; nothing from outside.
    contents: list[bytes] = []
    for i, buffer in enumerate(buffers):
        field = f"buffers[{i}]"
        length = buffer.get("byteLength")
        if not isinstance(length, int) or length < 1:
            raise ImportRefused("byteLength must be a positive integer", f"{field}.byteLength")
        if i == embedded:
            content = gltf.binary
        elif "uri" in buffer:
            content, _ = _resolve_uri(buffer["uri"], f"{field}.uri", files, base)
        else:
            raise ImportRefused("only the first buffer of a GLB may omit its uri", field)
        if length > len(content):
            raise ImportRefused(f"declares {length} bytes but its data holds {len(content)}", f"{field}.byteLength")
        contents.append(content[:length])
    for i, view in enumerate(views):
        field = f"bufferViews[{i}]"
        buffer = _index(document, "buffers", view.get("buffer"), f"{field}.buffer")
        offset, length = view.get("byteOffset", 0), view.get("byteLength")
        if not isinstance(offset, int) or offset < 0 or not isinstance(length, int) or length < 1:
            raise ImportRefused("byteOffset and byteLength must be non-negative integers", field)
        if offset + length > len(contents[buffer]):
            raise ImportRefused(f"spans bytes {offset}..{offset + length} of a {len(contents[buffer])}-byte buffer", f"{field}.byteLength")
        stride = view.get("byteStride")
        if stride is not None and (not isinstance(stride, int) or not 4 <= stride <= 252 or stride % 4):
            raise ImportRefused(f"byteStride {stride!r} must be a multiple of 4 from 4 to 252", f"{field}.byteStride")
    for i, accessor in enumerate(accessors):
        _check_accessor(document, accessor, f"accessors[{i}]")
    _check_nodes(document, nodes, limits)

    vertices = 0
    for m, mesh in enumerate(_count(document, "meshes", limits.max_accessors)):
        primitives = mesh.get("primitives")
        if not isinstance(primitives, list) or not primitives:
            raise ImportRefused("a mesh needs at least one primitive", f"meshes[{m}].primitives")
        for p, primitive in enumerate(primitives):
            field = f"meshes[{m}].primitives[{p}]"
            if not isinstance(primitive, dict):
                raise ImportRefused("must be an object", field)
            attributes = primitive.get("attributes")
            if not isinstance(attributes, dict) or "POSITION" not in attributes:
                raise ImportRefused("a primitive needs a POSITION attribute", f"{field}.attributes")
            for name, ref in attributes.items():
                _index(document, "accessors", ref, f"{field}.attributes.{name}")
            for t, target in enumerate(_objects(primitive.get("targets", []), f"{field}.targets")):
                for name, ref in target.items():
                    _index(document, "accessors", ref, f"{field}.targets[{t}].{name}")
            position_count = accessors[attributes["POSITION"]]["count"]
            vertices += position_count
            for name, ref in attributes.items():
                if accessors[ref]["count"] != position_count:
                    raise ImportRefused(f"has {accessors[ref]['count']} values for {position_count} vertices", f"{field}.attributes.{name}")
            if accessors[attributes["POSITION"]]["type"] != "VEC3":
                raise ImportRefused("POSITION must be VEC3", f"{field}.attributes.POSITION")
            mode = primitive.get("mode", 4)
            if not isinstance(mode, int) or isinstance(mode, bool) or mode not in range(7):
                raise ImportRefused(f"mode {mode!r} is not a glTF primitive mode", f"{field}.mode")
            drawn = position_count
            if "indices" in primitive:
                indices = accessors[_index(document, "accessors", primitive["indices"], f"{field}.indices")]
                if indices["componentType"] not in (5121, 5123, 5125) or indices["type"] != "SCALAR":
                    raise ImportRefused("indices must be unsigned integer scalars", f"{field}.indices")
                drawn = indices["count"]
            if mode == 4 and drawn % 3:
                raise ImportRefused(f"{drawn} vertices drawn as triangles is not a multiple of 3", f"{field}.mode")
            if "material" in primitive:
                _index(document, "materials", primitive["material"], f"{field}.material")
    if vertices > limits.max_vertices:
        raise ImportRefused(f"{vertices} vertices; the limit is {limits.max_vertices}", "meshes")
    triangles = triangle_count(document)
    if triangles > limits.max_triangles:
        raise ImportRefused(f"{triangles} triangles; the limit is {limits.max_triangles}", "meshes")
    drawn = drawn_triangles(document)
    if drawn > limits.max_drawn_triangles:
        raise ImportRefused(
            f"the scenes draw {drawn} triangles (each mesh counted once per node that shows it); the limit is {limits.max_drawn_triangles}",
            "nodes",
        )
    for i, texture in enumerate(document.get("textures", [])):
        if "source" in texture:
            _index(document, "images", texture["source"], f"textures[{i}].source")

    # Gather everything into one buffer: buffer views first, then images held as URIs.
    builder = BufferBuilder({})
    for view in views:
        source = contents[view["buffer"]]
        start = view.get("byteOffset", 0)
        new = builder.view(source[start : start + view["byteLength"]], view.get("byteStride"), view.get("target"))
        view.clear()
        view.update(builder.document["bufferViews"][new])
    for i, image in enumerate(images):
        field = f"images[{i}]"
        if "uri" in image:
            content, mime = _resolve_uri(image.pop("uri"), f"{field}.uri", files, base)
            mime = mime or image.get("mimeType") or _sniff_image(content)
            if not isinstance(mime, str) or mime not in IMAGE_TYPES:
                raise ImportRefused(f"unsupported image type {mime!r}", f"{field}.mimeType")
            views.append(builder.document["bufferViews"][builder.view(content)])
            image["bufferView"] = len(views) - 1
            image["mimeType"] = mime
        elif "bufferView" in image:
            _index(document, "bufferViews", image["bufferView"], f"{field}.bufferView")
            if not isinstance(image.get("mimeType"), str) or image["mimeType"] not in IMAGE_TYPES:
                raise ImportRefused(f"mimeType {image.get('mimeType')!r} is not one of {sorted(IMAGE_TYPES)}", f"{field}.mimeType")
        else:
            raise ImportRefused("an image needs a uri or a bufferView", field)
    if views:
        document["bufferViews"] = views
    merged = Gltf(document, builder.binary())
    if not merged.binary:
        merged.document.pop("buffers", None)
    from thirdspace.assets.validity import check_content  # content rules and images (it imports this module)

    check_content(merged, limits)
    # Index values must stay inside their vertex arrays (a renderer would read out of bounds),
    # and vertex data must be finite numbers.
    for i, accessor in enumerate(accessors):
        if "sparse" in accessor:
            ref = accessor["sparse"]["indices"]
            start = views[ref["bufferView"]].get("byteOffset", 0) + ref.get("byteOffset", 0)
            dtype = COMPONENT_DTYPES[ref["componentType"]]
            indices = np.frombuffer(merged.binary, dtype=dtype, count=accessor["sparse"]["count"], offset=start)
            if int(indices.max()) >= accessor["count"]:
                where = f"accessors[{i}].sparse.indices"
                raise ImportRefused(f"a sparse index reaches {int(indices.max())} but there are {accessor['count']} elements", where)
    for m, mesh in enumerate(document.get("meshes", [])):
        for p, primitive in enumerate(mesh["primitives"]):
            for name, ref in primitive["attributes"].items():
                if accessors[ref]["componentType"] == 5126 and not np.isfinite(read_accessor(merged, ref)).all():
                    raise ImportRefused("holds values that are not finite numbers", f"meshes[{m}].primitives[{p}].attributes.{name}")
            if "indices" in primitive:
                indices = read_accessor(merged, primitive["indices"])
                limit = accessors[primitive["attributes"]["POSITION"]]["count"]
                if indices.size and int(indices.max()) >= limit:
                    where = f"meshes[{m}].primitives[{p}].indices"
                    raise ImportRefused(f"an index reaches {int(indices.max())} but there are {limit} vertices", where)
    return merged


def _check_accessor(document: dict, accessor: dict, field: str) -> None:
    component = accessor.get("componentType")
    if not isinstance(component, int) or component not in COMPONENT_DTYPES:
        raise ImportRefused(f"componentType {component!r} is not a glTF component type", f"{field}.componentType")
    if not isinstance(accessor.get("type"), str) or accessor["type"] not in TYPE_WIDTHS:
        raise ImportRefused(f"type {accessor.get('type')!r} is not a glTF accessor type", f"{field}.type")
    count = accessor.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ImportRefused(f"count {count!r} must be a positive integer", f"{field}.count")
    size = element_size(accessor)
    if "bufferView" in accessor:
        view = _item(document, "bufferViews", accessor["bufferView"], f"{field}.bufferView")
        offset = accessor.get("byteOffset", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ImportRefused("byteOffset must be a non-negative integer", f"{field}.byteOffset")
        stride = view.get("byteStride") or size
        needed = offset + stride * (count - 1) + size
        if needed > view["byteLength"]:
            raise ImportRefused(f"{count} elements need {needed} bytes but the buffer view holds {view['byteLength']}", f"{field}.count")
    if "sparse" in accessor:
        sparse = accessor["sparse"]
        sparse_count = sparse.get("count") if isinstance(sparse, dict) else None
        if not isinstance(sparse_count, int) or isinstance(sparse_count, bool) or not 1 <= sparse_count <= count:
            raise ImportRefused("sparse.count must be from 1 to the accessor's count", f"{field}.sparse.count")
        for part, dtype_size in (("indices", None), ("values", size)):
            ref = sparse.get(part)
            if not isinstance(ref, dict):
                raise ImportRefused("missing", f"{field}.sparse.{part}")
            view = _item(document, "bufferViews", ref.get("bufferView"), f"{field}.sparse.{part}.bufferView")
            if part == "indices":
                if ref.get("componentType") not in (5121, 5123, 5125):
                    raise ImportRefused("sparse indices must be unsigned integers", f"{field}.sparse.indices.componentType")
                dtype_size = COMPONENT_DTYPES[ref["componentType"]].itemsize
            offset = ref.get("byteOffset", 0)
            if not isinstance(offset, int) or offset < 0:
                raise ImportRefused("byteOffset must be a non-negative integer", f"{field}.sparse.{part}.byteOffset")
            if offset + dtype_size * sparse["count"] > view["byteLength"]:
                raise ImportRefused("sparse data runs past its buffer view", f"{field}.sparse.{part}")


TRANSFORMS = {"translation": 3, "rotation": 4, "scale": 3, "matrix": 16}


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_nodes(document: dict, nodes: list, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    """Children must be valid indices, each node has at most one parent, there are no cycles, no chain is deeper
    than ``max_node_depth``, and each scene lists at most ``max_scene_roots`` roots, each once and none a child.

    Every walk here is a loop over a list, never recursion, and each node is visited once: a file decides how
    deep its node graph is."""
    parent: dict[int, int] = {}
    for i, node in enumerate(nodes):
        for k, child in enumerate(_array(node.get("children", []), f"nodes[{i}].children")):
            _index(document, "nodes", child, f"nodes[{i}].children[{k}]")
            if child in parent or child == i:
                raise ImportRefused(f"node {child} has more than one parent", f"nodes[{i}].children[{k}]")
            parent[child] = i
        for name in ("mesh", "skin", "camera"):
            if name in node:
                _index(document, name + ("es" if name == "mesh" else "s"), node[name], f"nodes[{i}].{name}")
        for name, size in TRANSFORMS.items():
            value = node.get(name, [0.0] * size)
            if not isinstance(value, list) or len(value) != size or not all(_finite(v) for v in value):
                raise ImportRefused(f"must be an array of {size} finite numbers", f"nodes[{i}].{name}")
    # Depth by a breadth-first walk down from the parentless nodes; a node it never reaches hangs from a cycle.
    depth = {i: 1 for i in range(len(nodes)) if i not in parent}
    level = list(depth)
    while level:
        below = []
        for i in level:
            for child in nodes[i].get("children", []):
                depth[child] = depth[i] + 1
                below.append(child)
        if below and depth[below[0]] > limits.max_node_depth:
            deepest = below[0]
            raise ImportRefused(
                f"node {deepest} is {depth[deepest]} levels deep (nodes inside nodes); the limit is {limits.max_node_depth}",
                f"nodes[{deepest}]",
            )
        level = below
    if len(depth) < len(nodes):
        start = next(i for i in range(len(nodes)) if i not in depth)
        seen, node = {start}, start
        while parent[node] not in seen:  # climb to a node on the cycle itself
            node = parent[node]
            seen.add(node)
        raise ImportRefused(f"node {parent[node]} is its own ancestor", f"nodes[{parent[node]}]")
    for s, scene in enumerate(_count(document, "scenes", 64)):
        roots = _array(scene.get("nodes", []), f"scenes[{s}].nodes")
        if len(roots) > limits.max_scene_roots:
            raise ImportRefused(f"the scene lists {len(roots)} root nodes; the limit is {limits.max_scene_roots}", f"scenes[{s}].nodes")
        listed: set[int] = set()
        for k, root in enumerate(roots):
            _index(document, "nodes", root, f"scenes[{s}].nodes[{k}]")
            if root in listed:
                raise ImportRefused(f"node {root} is listed more than once as a root of the scene", f"scenes[{s}].nodes[{k}]")
            if root in parent:
                raise ImportRefused(
                    f"node {root} is a child of node {parent[root]}, so it cannot be a root of the scene", f"scenes[{s}].nodes[{k}]"
                )
            listed.add(root)
    if "scene" in document:
        _index(document, "scenes", document["scene"], "scene")
    for i, skin in enumerate(_count(document, "skins", 1024)):
        if "inverseBindMatrices" in skin:
            _index(document, "accessors", skin["inverseBindMatrices"], f"skins[{i}].inverseBindMatrices")
        for k, joint in enumerate(_array(skin.get("joints", []), f"skins[{i}].joints")):
            _index(document, "nodes", joint, f"skins[{i}].joints[{k}]")
    for a, animation in enumerate(_count(document, "animations", 1024)):
        if "samplers" not in animation or "channels" not in animation:
            raise ImportRefused("an animation needs channels and samplers", f"animations[{a}]")
        samplers = _objects(animation.get("samplers", []), f"animations[{a}].samplers")
        for k, sampler in enumerate(samplers):
            _index(document, "accessors", sampler.get("input"), f"animations[{a}].samplers[{k}].input")
            _index(document, "accessors", sampler.get("output"), f"animations[{a}].samplers[{k}].output")
        for k, channel in enumerate(_objects(animation.get("channels", []), f"animations[{a}].channels")):
            if not isinstance(channel.get("sampler"), int) or not 0 <= channel["sampler"] < len(samplers):
                raise ImportRefused("is not an index into this animation's samplers", f"animations[{a}].channels[{k}].sampler")
            if not isinstance(channel.get("target", {}), dict):
                raise ImportRefused("must be an object", f"animations[{a}].channels[{k}].target")
            if "node" in channel.get("target", {}):
                _index(document, "nodes", channel["target"]["node"], f"animations[{a}].channels[{k}].target.node")


def drawn_triangles(document: dict) -> int:
    """Triangles the scenes draw: each node's mesh counted once per node (a file of checked, tree-shaped nodes).

    Nodes in no scene are drawn by nobody, except in a file without scenes, where every parentless node is a root."""
    nodes = document.get("nodes", [])
    per_mesh = [triangle_count({"meshes": [mesh], "accessors": document.get("accessors", [])}) for mesh in document.get("meshes", [])]
    scenes = document.get("scenes", [])
    if scenes:
        stack = [root for scene in scenes for root in scene.get("nodes", [])]
    else:
        children = {child for node in nodes for child in node.get("children", [])}
        stack = [i for i in range(len(nodes)) if i not in children]
    total = 0
    while stack:
        node = nodes[stack.pop()]
        if "mesh" in node:
            total += per_mesh[node["mesh"]]
        stack.extend(node.get("children", []))
    return total


def _sniff_image(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None
