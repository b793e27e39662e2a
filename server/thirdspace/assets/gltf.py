"""Binary glTF (GLB) containers and accessors, as plain dicts and numpy arrays.

The rest of the asset pipeline (import checks, levels of detail, quantisation,
provenance) works on a :class:`Gltf`: the JSON document as a dict and the single
binary buffer as bytes.  :func:`pack` writes one back; the same document and
buffer always give the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import orjson

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
HEADER = struct.Struct("<4sII")
CHUNK = struct.Struct("<II")

COMPONENT_DTYPES = {
    5120: np.dtype(np.int8),
    5121: np.dtype(np.uint8),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
DTYPE_COMPONENTS = {dtype: code for code, dtype in COMPONENT_DTYPES.items()}
TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
WIDTH_TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}
NORMALISED_MAX = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}


@dataclass
class Gltf:
    document: dict
    binary: bytes = b""


def pack(gltf: Gltf) -> bytes:
    """The GLB bytes of a document and its buffer (JSON padded with spaces, BIN with zeros)."""
    document = gltf.document
    if gltf.binary:
        document["buffers"] = [{"byteLength": len(gltf.binary)}]
    else:
        document.pop("buffers", None)
    text = orjson.dumps(document)
    text += b" " * (-len(text) % 4)
    binary = gltf.binary + b"\0" * (-len(gltf.binary) % 4)
    length = HEADER.size + CHUNK.size + len(text) + (CHUNK.size + len(binary) if binary else 0)
    out = [HEADER.pack(GLB_MAGIC, 2, length), CHUNK.pack(len(text), CHUNK_JSON), text]
    if binary:
        out += [CHUNK.pack(len(binary), CHUNK_BIN), binary]
    return b"".join(out)


def unpack(data: bytes) -> Gltf:
    """Split well-formed GLB bytes (already checked by :mod:`thirdspace.assets.checks`)."""
    _, _, length = HEADER.unpack_from(data)
    json_length, _ = CHUNK.unpack_from(data, HEADER.size)
    start = HEADER.size + CHUNK.size
    document = orjson.loads(data[start : start + json_length])
    binary = b""
    offset = start + json_length
    if offset + CHUNK.size <= length:
        bin_length, kind = CHUNK.unpack_from(data, offset)
        if kind == CHUNK_BIN:
            binary = data[offset + CHUNK.size : offset + CHUNK.size + bin_length]
    if document.get("buffers"):
        binary = binary[: document["buffers"][0]["byteLength"]]
    return Gltf(document, bytes(binary))


def element_size(accessor: dict) -> int:
    return COMPONENT_DTYPES[accessor["componentType"]].itemsize * TYPE_WIDTHS[accessor["type"]]


def read_accessor(gltf: Gltf, index: int, normalise: bool = True) -> np.ndarray:
    """An accessor's values as an array of shape (count, width); normalised integers become floats."""
    document = gltf.document
    accessor = document["accessors"][index]
    dtype = COMPONENT_DTYPES[accessor["componentType"]]
    width = TYPE_WIDTHS[accessor["type"]]
    count = accessor["count"]
    if "bufferView" in accessor:
        view = document["bufferViews"][accessor["bufferView"]]
        stride = view.get("byteStride") or dtype.itemsize * width
        start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        raw = np.ndarray((count, width), dtype=dtype, buffer=gltf.binary, offset=start, strides=(stride, dtype.itemsize))
        values = raw.copy()
    else:
        values = np.zeros((count, width), dtype=dtype)
    if "sparse" in accessor:
        sparse = accessor["sparse"]
        indices = _read_view(gltf, sparse["indices"], COMPONENT_DTYPES[sparse["indices"]["componentType"]], sparse["count"], 1)
        replacements = _read_view(gltf, sparse["values"], dtype, sparse["count"], width)
        values[indices[:, 0].astype(np.int64)] = replacements
    if normalise and accessor.get("normalized") and accessor["componentType"] in NORMALISED_MAX:
        return np.maximum(values.astype(np.float32) / NORMALISED_MAX[accessor["componentType"]], -1.0)
    return values


def _read_view(gltf: Gltf, ref: dict, dtype: np.dtype, count: int, width: int) -> np.ndarray:
    view = gltf.document["bufferViews"][ref["bufferView"]]
    start = view.get("byteOffset", 0) + ref.get("byteOffset", 0)
    return np.frombuffer(gltf.binary, dtype=dtype, count=count * width, offset=start).reshape(count, width)


class BufferBuilder:
    """Appends arrays to a new binary buffer, adding buffer views and accessors to a document."""

    def __init__(self, document: dict, binary: bytes = b""):
        self.document = document
        self.chunks = [binary]
        self.length = len(binary)

    def view(self, data: bytes, stride: int | None = None, target: int | None = None) -> int:
        padding = -self.length % 4
        if padding:
            self.chunks.append(b"\0" * padding)
            self.length += padding
        view = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if stride:
            view["byteStride"] = stride
        if target:
            view["target"] = target
        self.chunks.append(data)
        self.length += len(data)
        self.document.setdefault("bufferViews", []).append(view)
        return len(self.document["bufferViews"]) - 1

    def accessor(self, values: np.ndarray, target: int | None = None, normalised: bool = False, bounds: bool = False) -> int:
        """Add ``values`` (count, width) as an accessor; vertex attributes are padded to 4-byte strides."""
        values = np.ascontiguousarray(values)
        if values.ndim == 1:
            values = values[:, None]
        count, width = values.shape
        stride = None
        data = values
        element = values.dtype.itemsize * width
        if target == 34962 and element % 4:
            padded_width = width + (-element % 4) // values.dtype.itemsize
            data = np.zeros((count, padded_width), dtype=values.dtype)
            data[:, :width] = values
            stride = data.dtype.itemsize * padded_width
        accessor = {
            "bufferView": self.view(data.tobytes(), stride, target),
            "componentType": DTYPE_COMPONENTS[values.dtype.newbyteorder("<") if values.dtype.byteorder == ">" else values.dtype],
            "count": count,
            "type": WIDTH_TYPES[width],
        }
        if normalised:
            accessor["normalized"] = True
        if bounds:
            accessor["min"] = [_number(v) for v in values.min(axis=0)]
            accessor["max"] = [_number(v) for v in values.max(axis=0)]
        self.document.setdefault("accessors", []).append(accessor)
        return len(self.document["accessors"]) - 1

    def binary(self) -> bytes:
        return b"".join(self.chunks)


def _number(value) -> float | int:
    return int(value) if np.issubdtype(type(value), np.integer) else float(value)


def compact(gltf: Gltf, extra: BufferBuilder | None = None) -> Gltf:
    """Drop accessors and buffer views nothing refers to and rewrite one tight buffer.

    ``extra`` holds views appended after the existing buffer (by :class:`BufferBuilder`).
    """
    document = gltf.document
    binary = extra.binary() if extra else gltf.binary
    accessors = document.get("accessors", [])
    used_accessors: list[int] = []
    seen: dict[int, int] = {}

    def keep(index: int) -> int:
        if index not in seen:
            seen[index] = len(used_accessors)
            used_accessors.append(index)
        return seen[index]

    for mesh in document.get("meshes", []):
        for primitive in mesh["primitives"]:
            primitive["attributes"] = {name: keep(i) for name, i in primitive["attributes"].items()}
            if "indices" in primitive:
                primitive["indices"] = keep(primitive["indices"])
            if "targets" in primitive:
                primitive["targets"] = [{name: keep(i) for name, i in target.items()} for target in primitive["targets"]]
    for skin in document.get("skins", []):
        if "inverseBindMatrices" in skin:
            skin["inverseBindMatrices"] = keep(skin["inverseBindMatrices"])
    for animation in document.get("animations", []):
        for sampler in animation["samplers"]:
            sampler["input"] = keep(sampler["input"])
            sampler["output"] = keep(sampler["output"])
    new_accessors = [dict(accessors[i]) for i in used_accessors]

    views = document.get("bufferViews", [])
    used_views: dict[int, int] = {}
    out = BufferBuilder({})

    def move(index: int) -> int:
        if index not in used_views:
            view = views[index]
            start = view.get("byteOffset", 0)
            used_views[index] = out.view(binary[start : start + view["byteLength"]], view.get("byteStride"), view.get("target"))
        return used_views[index]

    for accessor in new_accessors:
        if "bufferView" in accessor:
            accessor["bufferView"] = move(accessor["bufferView"])
        if "sparse" in accessor:
            for part in ("indices", "values"):
                accessor["sparse"][part] = {**accessor["sparse"][part], "bufferView": move(accessor["sparse"][part]["bufferView"])}
    for image in document.get("images", []):
        if "bufferView" in image:
            image["bufferView"] = move(image["bufferView"])
    for name, items in (("accessors", new_accessors), ("bufferViews", out.document.get("bufferViews", []))):
        if items:
            document[name] = items
        else:
            document.pop(name, None)
    return Gltf(document, out.binary())


def triangle_count(document: dict) -> int:
    """Triangles drawn by all primitives (triangle lists, strips and fans)."""
    total = 0
    for mesh in document.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            mode = primitive.get("mode", 4)
            ref = primitive.get("indices", primitive.get("attributes", {}).get("POSITION"))
            if ref is None:
                continue
            count = document["accessors"][ref]["count"]
            total += count // 3 if mode == 4 else max(0, count - 2) if mode in (5, 6) else 0
    return total
