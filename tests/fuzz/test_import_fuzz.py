"""Fuzzing asset import: a self-contained glTF that passes the checks again, or ImportRefused naming the field.

tests/assets/test_import.py already changes characters of a GLB's JSON and splices noise into a
GLB; these add arbitrary bytes, GLB headers and chunk tables, structural changes to the glTF JSON
(wrong types, dropped keys, crossed indices) and zip containers.
"""

from __future__ import annotations

import struct
import zipfile

import pytest
from fuzz.contracts import (
    PNG,
    WIRE_VALUES,
    check_import,
    glb_from_json,
    import_seeds,
    mutate_frame,
    mutate_json,
    rebuild_seed,
    seed_document,
    zip_bytes,
)
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.strategies import mutations, wire_json
from thirdspace.assets.checks import ImportRefused
from thirdspace.assets.gltf import Gltf

SEEDS = sorted(import_seeds())
GLB_SEEDS = [name for name in SEEDS if name.endswith(".glb")]
ZIP_SEEDS = [name for name in SEEDS if name.endswith(".zip")]


def refused(data: bytes) -> ImportRefused:
    result = check_import(data)
    assert isinstance(result, ImportRefused), "accepted"
    return result


def test_the_seeds_are_accepted_and_optimised():
    for name in SEEDS:
        assert isinstance(check_import(import_seeds()[name], optimise=True), Gltf), name


@given(st.sampled_from([b"", b"glTF", b"glTF\x02\x00\x00\x00", b"PK\x03\x04", b"PK\x05\x06"]), st.binary(max_size=400))
def test_arbitrary_bytes(prefix, data):
    check_import(prefix + data)


chunk_kinds = st.sampled_from([0x4E4F534A, 0x004E4942, 0, 0xFFFFFFFF])
lengths = st.integers(0, 2**32 - 1) | st.integers(0, 64)


@given(
    seed=st.sampled_from(GLB_SEEDS),
    version=st.sampled_from([2, 1, 3, 0, 2**32 - 1]),
    length=st.none() | lengths,
    json_length=st.none() | lengths,
    json_kind=chunk_kinds,
    bin_length=st.none() | lengths,
    bin_kind=chunk_kinds,
    cut=st.none() | st.integers(0, 64),
)
@example(seed="plinth.glb", version=2, length=None, json_length=None, json_kind=0x4E4F534A, bin_length=None, bin_kind=0, cut=None)
def test_glb_headers_and_chunk_tables(seed, version, length, json_length, json_kind, bin_length, bin_kind, cut):
    """Lie in any field of the 12-byte header and the two 8-byte chunk headers."""
    data = bytearray(import_seeds()[seed])
    real_json_length = struct.unpack_from("<I", data, 12)[0]
    struct.pack_into("<I", data, 4, version)
    if length is not None:
        struct.pack_into("<I", data, 8, length)
    struct.pack_into("<II", data, 12, real_json_length if json_length is None else json_length, json_kind)
    bin_at = 20 + real_json_length
    if bin_at + 8 <= len(data):
        real_bin_length = struct.unpack_from("<I", data, bin_at)[0]
        struct.pack_into("<II", data, bin_at, real_bin_length if bin_length is None else bin_length, bin_kind)
    if cut is not None:
        del data[max(0, len(data) - cut) :]
    check_import(bytes(data))


@given(
    st.lists(st.tuples(st.sampled_from([b"glTF", b"JSON", b"BIN\x00", b"\x00" * 4]), st.integers(0, 2**32 - 1)), max_size=4),
    st.binary(max_size=64),
)
def test_truncated_glb_headers(fields, body):
    data = b"".join(tag + struct.pack("<I", number) for tag, number in fields) + body
    check_import(b"glTF" + data[4:] if data else b"glTF")


json_values = (
    st.sampled_from(WIRE_VALUES) | wire_json | st.integers(-2, 40) | st.sampled_from([5121, 5123, 5125, 5126, "VEC3", "SCALAR", "MAT4"])
)


@given(st.sampled_from(SEEDS), mutations(json_values, max_size=4))
@example("plinth.glb", [(0, "set", [])])
def test_structural_changes_to_the_gltf_json(seed, changes):
    document, binary, files = seed_document(seed)
    check_import(rebuild_seed(seed, mutate_json(document, changes), binary, files))


@pytest.mark.filterwarnings("ignore::RuntimeWarning:thirdspace.assets.optimise")  # numeric warnings: see docs/fuzzing.md
@given(st.sampled_from(SEEDS), st.integers(0, 2**16), json_values)
def test_one_value_of_the_gltf_json_replaced(seed, where, value):
    """One change at a time: the rest stays valid, so the later checks (and the optimiser) run on it."""
    document, binary, files = seed_document(seed)
    check_import(rebuild_seed(seed, mutate_json(document, [(where, "set", value)]), binary, files), optimise=True)


entry_names = st.sampled_from(
    ["scene.gltf", "model/scene.gltf", "model/bin/model data.bin", "model/tex/tile.png", "b.gltf", "dir/", "../x.bin", "/abs.gltf",
     "C:x.gltf", "a\\b.gltf", "SCENE.GLTF"]
) | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)  # fmt: skip
methods = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])


@st.composite
def zip_uploads(draw) -> bytes:
    """A zip of the seeds' files under any names, with any compression, perhaps flagged encrypted, perhaps damaged."""
    seed = draw(st.sampled_from(ZIP_SEEDS))
    _, _, files = seed_document(seed)
    contents = [data for name, data in files.items() if not name.endswith(".gltf")]
    document = draw(st.sampled_from([*(d for n, d in _gltf_texts().items()), b"{}", b"[]", b'{"asset":{"version":"2.0"}}']))
    entries = draw(st.lists(st.tuples(entry_names, st.sampled_from([document, PNG, b"", *contents]) | st.binary(max_size=64)), max_size=5))
    if draw(st.booleans()):
        entries = [(name, document if name.endswith(".gltf") else data) for name, data in files.items()] + entries
    data = bytearray(zip_bytes(entries, draw(methods)))
    if draw(st.booleans()):  # set the "encrypted" bit of every local and central header
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.find(signature)
            while at != -1:
                data[at + offset] |= 1
                at = data.find(signature, at + 4)
    flips = draw(st.lists(st.integers(0, 2**20), max_size=3))
    return mutate_frame(bytes(data), flips, draw(st.none() | st.integers(0, 4096)))


def _gltf_texts() -> dict[str, bytes]:
    out = {}
    for seed in ZIP_SEEDS:
        _, _, files = seed_document(seed)
        with zipfile.ZipFile(__import__("io").BytesIO(import_seeds()[seed])) as archive:
            out[seed] = next(archive.read(n) for n in archive.namelist() if n.endswith(".gltf"))
    return out


@given(zip_uploads())
def test_zip_containers(data):
    check_import(data)


@given(st.sampled_from(SEEDS), st.lists(st.integers(0, 2**20), max_size=8), st.none() | st.integers(0, 2**16), st.binary(max_size=16))
def test_damaged_seeds(seed, flips, cut, tail):
    check_import(mutate_frame(import_seeds()[seed], flips, cut, tail))


# -- regressions: inputs the fuzzers found ---------------------------------------------------------


def plinth(**changes) -> bytes:
    document, binary, _ = seed_document("plinth.glb")
    for path, value in changes.items():
        target = document
        keys = [int(k) if k.isdigit() else k for k in path.split("__")]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return glb_from_json(document, binary)


ONE_ANIMATION = {"samplers": [{"input": 0, "output": 0}], "channels": [{"sampler": 0, "target": 3}]}
SPARSE = {"count": 1, "indices": {"bufferView": 0, "componentType": 5121, "byteOffset": "x"}, "values": {"bufferView": 0}}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"accessors__0__componentType": [5126]}, "accessors[0].componentType"),
        ({"accessors__0__type": {}}, "accessors[0].type"),
        ({"accessors__0__sparse": SPARSE}, "accessors[0].sparse.indices.byteOffset"),
        ({"accessors__0__sparse": None}, "accessors[0].sparse.count"),
        (
            {"accessors__0__sparse": {**SPARSE, "indices": {"bufferView": 0, "componentType": 5121}, "count": True}},
            "accessors[0].sparse.count",
        ),
        ({"buffers": {"a": 1}}, "buffers"),
        ({"buffers": [5]}, "buffers[0]"),
        ({"buffers__0__byteLength": "x"}, "buffers[0].byteLength"),
        ({"nodes__0__children": 5}, "nodes[0].children"),
        ({"meshes__0__primitives__0": 5}, "meshes[0].primitives[0]"),
        ({"meshes__0__primitives__0__targets": 3}, "meshes[0].primitives[0].targets"),
        ({"meshes__0__primitives__0__targets": [3]}, "meshes[0].primitives[0].targets[0]"),
        ({"meshes__0__primitives__0__targets": None}, "meshes[0].primitives[0].targets"),
        ({"animations": [{"channels": [], "samplers": None}]}, "animations[0].samplers"),
        ({"animations": [{"samplers": 3, "channels": []}]}, "animations[0].samplers"),
        ({"animations": [{"samplers": [3], "channels": []}]}, "animations[0].samplers[0]"),
        ({"animations": [{"samplers": [], "channels": [3]}]}, "animations[0].channels[0]"),
        ({"animations": [{"samplers": [], "channels": 3}]}, "animations[0].channels"),
        ({"animations": [ONE_ANIMATION]}, "animations[0].channels[0].target"),
        ({"skins": [{"joints": 3}]}, "skins[0].joints"),
        ({"skins": None, "nodes__0__skin": 0}, "skins"),
        ({"scenes": [{"nodes": 5}]}, "scenes[0].nodes"),
        ({"images": [{"bufferView": 0, "mimeType": ["image/png"]}]}, "images[0].mimeType"),
    ],
)
def test_regression_gltf_json_of_the_wrong_shape(changes, field):
    """Each of these used to escape check_upload as TypeError, AttributeError or KeyError."""
    assert refused(plinth(**changes)).field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"animations": [{"channels": []}]}, "animations[0]"),  # KeyError in gltf.compact
        ({"extensionsUsed": "KHR_mesh_quantization"}, "extensionsUsed"),  # AttributeError in optimise._require
        ({"extensionsRequired": None}, "extensionsRequired"),  # TypeError in optimise._require
        ({"nodes__0__rotation": [0, 0, 1]}, "nodes[0].rotation"),  # ValueError in optimise._node_matrices
        ({"nodes__0__scale": "big"}, "nodes[0].scale"),  # ValueError in optimise._node_matrices
    ],
)
def test_regression_accepted_uploads_that_crashed_the_optimiser(changes, field):
    """These passed the checks, then crashed building levels of detail; the checks now refuse them."""
    assert refused(plinth(**changes)).field == field


def test_a_primitive_mode_must_be_an_integer():
    assert refused(plinth(meshes__0__primitives__0__mode=4.0)).field == "meshes[0].primitives[0].mode"


def test_regression_sparse_index_past_the_end_of_its_accessor():
    document, binary, _ = seed_document("sparse.glb")
    position = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]
    at = document["bufferViews"][position["sparse"]["indices"]["bufferView"]]["byteOffset"]
    binary = binary[:at] + struct.pack("<I", 10**6) + binary[at + 4 :]
    error = refused(glb_from_json(document, binary))  # was: IndexError from gltf.read_accessor
    assert error.field.endswith(".sparse.indices") and "1000000" in error.message


def test_regression_encrypted_zip_entry():
    data = bytearray(import_seeds()["inline.zip"])
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.find(signature) + offset] |= 1
    assert "encrypted" in refused(bytes(data)).message  # was: RuntimeError from zipfile


def test_regression_zip_entry_with_corrupt_deflate_data():
    data = bytearray(zip_bytes([("scene.gltf", b'{"asset": {"version": "2.0"}}' * 20)], zipfile.ZIP_DEFLATED))
    data[40] ^= 0xFF  # inside the compressed stream
    assert "unreadable" in refused(bytes(data)).message  # was: zlib.error


def test_regression_zip_needing_an_unknown_zip_version():
    data = bytearray(import_seeds()["inline.zip"])
    struct.pack_into("<H", data, data.find(b"PK\x01\x02") + 6, 84)  # "version needed to extract": 8.4
    assert "not a readable zip" in refused(bytes(data)).message  # was: NotImplementedError from zipfile


def test_regression_zip_whose_central_directory_points_before_the_file():
    data = bytearray(import_seeds()["inline.zip"])
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, struct.unpack_from("<I", data, end + 16)[0] + 100)  # where the directory starts
    assert "unreadable" in refused(bytes(data)).message  # was: ValueError (negative seek value) from zipfile
