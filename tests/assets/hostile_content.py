"""GLBs whose content is wrong though their structure is sound: the files the import checks refuse for what they hold.

Each builder writes a small, well-formed GLB with pygltflib (header, chunks, buffer views, accessors and references
all in order), then spoils one thing inside it: a morph target holding NaN, an image that does not decode, an
animation that contradicts itself, indices with no data behind them, an image whose header claims a giant size.
``zero_scale_node_glb`` is valid: the pipeline must keep it valid in every level it writes.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pygltflib
from PIL import Image

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}


class Builder:
    """A glTF document and its one binary buffer, built up with pygltflib."""

    def __init__(self) -> None:
        self.gltf = pygltflib.GLTF2(asset=pygltflib.Asset(version="2.0", generator="thirdspace hostile content builder"))
        self.blob = bytearray()

    def view(self, data: bytes, target: int | None = None) -> int:
        self.blob += b"\0" * (-len(self.blob) % 4)
        self.gltf.bufferViews.append(pygltflib.BufferView(buffer=0, byteOffset=len(self.blob), byteLength=len(data), target=target))
        self.blob += data
        return len(self.gltf.bufferViews) - 1

    def accessor(self, values: np.ndarray, target: int | None = None, bounds: bool = False) -> int:
        values = np.ascontiguousarray(values)
        if values.ndim == 1:
            values = values[:, None]
        component = {np.dtype("<f4"): FLOAT, np.dtype("<u2"): UNSIGNED_SHORT, np.dtype("<u4"): UNSIGNED_INT}[values.dtype]
        accessor = pygltflib.Accessor(
            bufferView=self.view(values.tobytes(), target), componentType=component, count=len(values), type=TYPES[values.shape[1]]
        )
        if bounds:
            accessor.min = [float(v) for v in np.nanmin(values, axis=0)]
            accessor.max = [float(v) for v in np.nanmax(values, axis=0)]
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1

    def image(self, data: bytes, mime: str) -> int:
        self.gltf.images.append(pygltflib.Image(bufferView=self.view(data), mimeType=mime))
        self.gltf.textures.append(pygltflib.Texture(source=len(self.gltf.images) - 1))
        return len(self.gltf.textures) - 1

    def grid_mesh(self, n: int = 4, texture: int | None = None, targets: list[np.ndarray] | None = None) -> int:
        """An n x n quad grid in the XZ plane (2 n^2 triangles) with normals and UVs, textured if asked."""
        side = np.linspace(0.0, 1.0, n + 1, dtype=np.float32)
        x, z = np.meshgrid(side, side, indexing="ij")
        positions = np.stack([x.ravel(), np.zeros(x.size, dtype=np.float32), z.ravel()], axis=1).astype(np.float32)
        normals = np.tile(np.array([0.0, 1.0, 0.0], dtype=np.float32), (len(positions), 1))
        uvs = np.stack([x.ravel(), z.ravel()], axis=1).astype(np.float32)
        index = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
        a, b, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
        faces = np.concatenate([np.stack([a, c, b], axis=1), np.stack([a, d, c], axis=1)]).astype(np.uint16)
        attributes = pygltflib.Attributes(
            POSITION=self.accessor(positions, ARRAY_BUFFER, bounds=True),
            NORMAL=self.accessor(normals, ARRAY_BUFFER),
            TEXCOORD_0=self.accessor(uvs, ARRAY_BUFFER),
        )
        material = pygltflib.PbrMetallicRoughness(baseColorFactor=[0.8, 0.7, 0.6, 1.0], metallicFactor=0.0, roughnessFactor=0.9)
        if texture is not None:
            material.baseColorTexture = pygltflib.TextureInfo(index=texture)
        self.gltf.materials.append(pygltflib.Material(pbrMetallicRoughness=material))
        primitive = pygltflib.Primitive(
            attributes=attributes, indices=self.accessor(faces.reshape(-1), ELEMENT_ARRAY_BUFFER), material=len(self.gltf.materials) - 1
        )
        mesh = pygltflib.Mesh(primitives=[primitive])
        if targets:
            primitive.targets = [{"POSITION": self.accessor(t.astype(np.float32), ARRAY_BUFFER, bounds=True)} for t in targets]
            mesh.weights = [0.0] * len(targets)
        self.gltf.meshes.append(mesh)
        return len(self.gltf.meshes) - 1

    def node(self, **fields) -> int:
        self.gltf.nodes.append(pygltflib.Node(**fields))
        return len(self.gltf.nodes) - 1

    def glb(self, roots: list[int] | None = None) -> bytes:
        self.gltf.scenes = [pygltflib.Scene(nodes=roots if roots is not None else list(range(len(self.gltf.nodes))))]
        self.gltf.scene = 0
        self.gltf.buffers = [pygltflib.Buffer(byteLength=len(self.blob))]
        self.gltf.set_binary_blob(bytes(self.blob))
        return b"".join(self.gltf.save_to_bytes())


def png(side: int = 8, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(side: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def textured_glb(image: bytes, mime: str = "image/png") -> bytes:
    """A textured grid: a valid file when ``image`` is a valid image of type ``mime``."""
    builder = Builder()
    builder.node(mesh=builder.grid_mesh(texture=builder.image(image, mime)))
    return builder.glb()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# -- the hostile files ----------------------------------------------------------------------------------------------


def nan_morph_glb() -> bytes:
    """A grid with one morph target whose POSITION displacements hold NaN (the base positions are fine)."""
    builder = Builder()
    displacement = np.zeros((25, 3), dtype=np.float32)
    displacement[::4, 1] = 0.1
    displacement[7, 1] = np.nan
    builder.node(mesh=builder.grid_mesh(targets=[displacement]))
    return builder.glb()


def broken_image_glb() -> bytes:
    """A textured grid whose PNG has a sound header and chunk checksums but a pixel stream that is not zlib data."""
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    broken = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"this is not a deflate stream" * 4) + _chunk(b"IEND", b"")
    return textured_glb(broken)


def garbage_jpeg_glb() -> bytes:
    """A textured grid whose image/jpeg is a JPEG start-of-image marker followed by random bytes."""
    garbage = b"\xff\xd8\xff\xe0" + np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    return textured_glb(garbage, "image/jpeg")


def mislabelled_image_glb() -> bytes:
    """A valid JPEG declared as image/png."""
    return textured_glb(jpeg(), "image/png")


def png_bomb_glb(side: int, count: int = 1) -> bytes:
    """``count`` textures, each a PNG whose header says ``side`` x ``side`` pixels of 8-bit RGBA.

    The pixel data is the start of a real stream of zero rows (a decompression bomb compresses a gigapixel of zeros
    into a megabyte or so); it is cut short, since a server that reads the header refuses the file before decoding.
    """
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    row = bytes(1 + 4 * side)
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(row) for _ in range(min(side, 256))) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
    builder = Builder()
    for i in range(count):
        builder.node(mesh=builder.grid_mesh(texture=builder.image(bomb, "image/png")), translation=[2.0 * i, 0.0, 0.0])
    return builder.glb()


def sized_png_glb(side: int, count: int) -> bytes:
    """``count`` textures, each a real, decodable ``side`` x ``side`` PNG (each a different colour)."""
    builder = Builder()
    for i in range(count):
        texture = builder.image(png(side, (10 * i, 100, 200)), "image/png")
        builder.node(mesh=builder.grid_mesh(texture=texture), translation=[2.0 * i, 0.0, 0.0])
    return builder.glb()


def bad_animation_glb(fault: str = "times") -> bytes:
    """A grid moved by a LINEAR translation animation with one fault:

    - ``times``: the keyframe times go backwards;
    - ``count``: three keyframe times but two output values;
    - ``nan_time``: a keyframe time is NaN;
    - ``target``: the channel animates node 5 of 1;
    - ``path``: a rotation channel fed VEC3 values;
    - ``interpolation``: the sampler's interpolation is "SMOOTH";
    - ``unit``: a rotation channel whose second keyframe is a quaternion of length 1.2.
    """
    builder = Builder()
    builder.node(mesh=builder.grid_mesh())
    times = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    values = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
    if fault == "times":
        times = np.array([0.0, 2.0, 1.0], dtype=np.float32)
    elif fault == "count":
        values = values[:2]
    elif fault == "nan_time":
        times = np.array([0.0, np.nan, 2.0], dtype=np.float32)
    elif fault == "unit":
        values = np.array([[0, 0, 0, 1], [0, 0, 0, 1.2], [0, 0, 0, 1]], dtype=np.float32)
    sampler = pygltflib.AnimationSampler(input=builder.accessor(times, bounds=True), output=builder.accessor(values))
    if fault == "interpolation":
        sampler.interpolation = "SMOOTH"
    target = pygltflib.AnimationChannelTarget(
        node=5 if fault == "target" else 0, path="rotation" if fault in ("path", "unit") else "translation"
    )
    builder.gltf.animations = [pygltflib.Animation(samplers=[sampler], channels=[pygltflib.AnimationChannel(sampler=0, target=target)])]
    return builder.glb()


def phantom_indices_glb(count: int = 500_000_000) -> bytes:
    """A line mesh whose indices accessor declares ``count`` values (2 GB of uint32) and has no buffer view behind it."""
    builder = Builder()
    mesh = builder.grid_mesh()
    primitive = builder.gltf.meshes[mesh].primitives[0]
    primitive.mode = 1  # LINES: the triangle limit does not count lines
    builder.gltf.accessors.append(pygltflib.Accessor(componentType=UNSIGNED_INT, count=count, type="SCALAR", byteOffset=None))
    primitive.indices = len(builder.gltf.accessors) - 1
    builder.node(mesh=mesh)
    return builder.glb()


def zero_scale_node_glb() -> bytes:
    """A valid file: a detailed grid (512 triangles) under a node with scale 0 (hidden until an animation grows it)."""
    builder = Builder()
    builder.node(mesh=builder.grid_mesh(n=16), scale=[0.0, 0.0, 0.0])
    return builder.glb()


def duplicate_roots_glb(copies: int = 49) -> bytes:
    """A grid whose scene lists its one root node ``copies`` times."""
    builder = Builder()
    builder.node(mesh=builder.grid_mesh())
    return builder.glb(roots=[0] * copies)
