"""Import checks: real third-party models go through; hostile files are refused with a clear error and nothing is stored."""

from __future__ import annotations

import io
import struct
import zipfile

import aiohttp
import orjson
import pytest
from fuzz.contracts import glb_from_json as raw_glb  # GLB bytes exactly as given

from tests.assets.helpers import third_party_models, validate_bytes
from tests.conftest import start_server
from thirdspace.assets.checks import DEFAULT_LIMITS, ImportLimits, ImportRefused, check_upload
from thirdspace.assets.gltf import Gltf, pack, unpack
from thirdspace.assets.library import AssetError, AssetLibrary
from thirdspace.assets.provenance import read_packet
from thirdspace.assets.recipes import build_glb
from thirdspace.assets.store import AssetStore
from thirdspace.cli import main
from thirdspace.config import Settings


def zipped(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def split_into_gltf_files(glb: bytes) -> tuple[dict, dict[str, bytes]]:
    """A GLB as a .gltf with its buffer in model.bin and its images as files under textures/."""
    gltf = unpack(glb)
    document = orjson.loads(orjson.dumps(gltf.document))
    files = {"model.bin": gltf.binary}
    for i, image in enumerate(document.get("images", [])):
        view = document["bufferViews"][image.pop("bufferView")]
        files[f"textures/image {i}.png"] = gltf.binary[view.get("byteOffset", 0) : view.get("byteOffset", 0) + view["byteLength"]]
        image["uri"] = f"textures/image%20{i}.png"
    document["buffers"] = [{"uri": "model.bin", "byteLength": len(gltf.binary)}]
    return document, files


PLINTH = build_glb("plinth")


def plinth_document() -> dict:
    return orjson.loads(orjson.dumps(unpack(PLINTH).document))


def refused(data: bytes, limits: ImportLimits = DEFAULT_LIMITS) -> ImportRefused:
    with pytest.raises(ImportRefused) as err:
        check_upload(data, limits)
    return err.value


# -- hostile files --------------------------------------------------------------------------------


def test_a_truncated_glb_is_refused():
    error = refused(PLINTH[: len(PLINTH) // 2])
    assert error.field == "header.length" and "truncated" in error.message
    assert refused(PLINTH[:10]).message.startswith("truncated")


def test_buffers_declared_larger_than_the_file_are_refused():
    document = plinth_document()
    document["buffers"][0]["byteLength"] = 10**9
    error = refused(raw_glb(document, unpack(PLINTH).binary))
    assert error.field == "buffers[0].byteLength" and "BIN chunk holds" in error.message
    document = plinth_document()
    document["accessors"][1]["count"] = 10**8
    error = refused(raw_glb(document, unpack(PLINTH).binary))
    assert error.field == "accessors[1].count" and "need" in error.message


def test_ten_million_accessors_are_refused():
    header = b'{"asset":{"version":"2.0"},"accessors":['
    document = header + b",".join([b"{}"] * 10**7) + b"]}"
    error = refused(raw_glb_from_json(document))
    assert error.field == "chunks[0]" and "limit" in error.message
    # Under the JSON size limit, the count limit still applies.
    document = header + b",".join([b"{}"] * 100_000) + b"]}"
    error = refused(raw_glb_from_json(document))
    assert error.field == "accessors" and "100000 accessors" in error.message


def raw_glb_from_json(text: bytes) -> bytes:
    text += b" " * (-len(text) % 4)
    return struct.pack("<4sII", b"glTF", 2, 20 + len(text)) + struct.pack("<II", len(text), 0x4E4F534A) + text


@pytest.mark.parametrize(
    "uri", ["http://evil.example/model.bin", "https://evil.example/x.bin", "file:///etc/passwd", "//evil.example/x.bin", "C:model.bin"]
)
def test_external_uris_are_refused(uri):
    document = plinth_document()
    document["buffers"].append({"uri": uri, "byteLength": 16})
    error = refused(raw_glb(document, unpack(PLINTH).binary))
    assert error.field == "buffers[1].uri" and ("external URI" in error.message or "not allowed" in error.message)


@pytest.mark.parametrize("uri", ["../secret.bin", "textures/../../secret.bin", "/etc/passwd", "..%2Fsecret.bin"])
def test_path_traversal_is_refused(uri):
    document, files = split_into_gltf_files(PLINTH)
    document["buffers"][0]["uri"] = uri
    error = refused(zipped({"model/scene.gltf": orjson.dumps(document), **{f"model/{k}": v for k, v in files.items()}}))
    assert error.field == "buffers[0].uri" and ("traversal" in error.message or "absolute" in error.message)
    error = refused(zipped({"scene.gltf": orjson.dumps(document), "../model.bin": files["model.bin"]}))
    assert "traversal" in error.message


def test_a_zip_bomb_is_refused():
    bomb = zipped({"scene.gltf": b"{}", "zeros.bin": bytes(200 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    error = refused(bomb)
    assert "expands to" in error.message and "limit" in error.message
    # A bomb whose headers lie about its size is stopped while reading.
    liar = bytearray(bomb)
    central = liar.rfind(b"PK\x01\x02")
    struct.pack_into("<I", liar, central + 24, 1000)  # uncompressed size in the central directory
    local = liar.find(b"PK\x03\x04", 10)
    struct.pack_into("<I", liar, local + 22, 1000)
    error = refused(bytes(liar), ImportLimits(max_unpacked_bytes=10 * 1024 * 1024))
    assert "zeros.bin" in error.message


def test_other_broken_references_are_refused():
    document = plinth_document()
    document["meshes"][0]["primitives"][0]["indices"] = 99
    assert refused(raw_glb(document, unpack(PLINTH).binary)).field == "meshes[0].primitives[0].indices"
    document = plinth_document()
    document["nodes"][0]["children"] = [0]
    assert "parent" in refused(raw_glb(document, unpack(PLINTH).binary)).message
    gltf = unpack(PLINTH)
    binary = bytearray(gltf.binary)
    indices = gltf.document["meshes"][0]["primitives"][0]["indices"]
    index_view = gltf.document["bufferViews"][gltf.document["accessors"][indices]["bufferView"]]
    struct.pack_into("<I", binary, index_view.get("byteOffset", 0), 10**6)  # an index past the vertices
    error = refused(raw_glb(gltf.document, bytes(binary)))
    assert error.field.endswith(".indices") and "vertices" in error.message
    document = plinth_document()
    del document["bufferViews"]  # found by the fuzz test below
    assert refused(raw_glb(document, unpack(PLINTH).binary)).field == "accessors[0].bufferView"
    document = plinth_document()
    primitive = document["meshes"][0]["primitives"][0]
    document["accessors"][primitive["attributes"]["NORMAL"]]["count"] -= 3
    assert "values for" in refused(raw_glb(document, unpack(PLINTH).binary)).message
    document = plinth_document()
    document["accessors"][document["meshes"][0]["primitives"][0]["indices"]]["count"] -= 1
    assert "multiple of 3" in refused(raw_glb(document, unpack(PLINTH).binary)).message
    document = plinth_document()
    document["scene"] = 5
    assert refused(raw_glb(document, unpack(PLINTH).binary)).field == "scene"
    gltf = unpack(PLINTH)
    binary = bytearray(gltf.binary)
    position_view = gltf.document["bufferViews"][gltf.document["accessors"][primitive["attributes"]["POSITION"]]["bufferView"]]
    struct.pack_into("<f", binary, position_view.get("byteOffset", 0), float("nan"))
    assert "not finite" in refused(raw_glb(gltf.document, bytes(binary))).message
    assert refused(b"not a model at all").field == "file"
    assert refused(raw_glb_from_json(b'{"asset":{"version":"1.0"}}')).field == "asset.version"
    assert refused(raw_glb_from_json(b'{"asset":')).field == "json"


def test_limits_on_size_vertices_triangles_and_textures():
    assert "limit" in refused(PLINTH, ImportLimits(max_file_bytes=1000)).message
    assert refused(PLINTH, ImportLimits(max_vertices=10)).field == "meshes"
    assert refused(PLINTH, ImportLimits(max_triangles=10)).field == "meshes"
    textured = third_party_models()["meta-quest-touch-plus/left.glb"]
    assert refused(textured, ImportLimits(max_textures=0)).field in ("images", "textures")


def test_nothing_is_stored_when_an_import_is_refused(tmp_path):
    source = tmp_path / "assets"
    source.mkdir()
    (source / "bad.glb").write_bytes(PLINTH[:-40])
    store_dir = tmp_path / "store"
    library = AssetLibrary(source, AssetStore(store_dir))
    with pytest.raises(AssetError, match="bad.glb: header.length"):
        library.resolve("bad")
    assert list(store_dir.iterdir()) == []
    # The CLI says what is wrong and writes nothing.
    (tmp_path / "bomb.zip").write_bytes(zipped({"scene.gltf": b"{}", "zeros.bin": bytes(100 * 1024 * 1024)}))
    assert main(["asset", "import", str(tmp_path / "bomb.zip"), "--id", "bomb", "--assets-dir", str(source)]) == 1
    assert sorted(p.name for p in source.iterdir()) == ["bad.glb"]


# -- real third-party models ----------------------------------------------------------------------


def test_third_party_models_import_optimise_and_validate(tmp_path):
    store = AssetStore(tmp_path / "store")
    files = {}
    for name, data in third_party_models().items():
        gltf = check_upload(data)
        assert read_packet(gltf.document) is None  # these files declare no provenance
        library_asset = AssetLibrary(tmp_path, store).store.ingest(_labelled(gltf))
        assert library_asset["provenance"]["source_type"] == "digitalCapture"
        assert not library_asset["provenance"]["generated"]
        assert (tmp_path / "store" / f"{library_asset['sha256']}.glb").is_file()
        levels = library_asset["levels"]
        assert [lv["triangles"] for lv in levels] == sorted({lv["triangles"] for lv in levels}, reverse=True)
        for level in levels:
            files[f"{name}-{level['level']}"] = (tmp_path / "store" / f"{level['sha256']}.glb").read_bytes()
    assert any(key.endswith("-1") for key in files)  # some of them do get coarser levels
    for name, report in validate_bytes(tmp_path, files).items():
        assert report["numErrors"] == 0, (name, report["messages"])


def _labelled(gltf: Gltf) -> Gltf:
    from thirdspace.assets.library import label

    return label(gltf, None, made_by="test")


def test_a_zipped_gltf_with_separate_files_becomes_one_glb(tmp_path):
    original = third_party_models()["meta-quest-touch-plus/left.glb"]
    document, files = split_into_gltf_files(original)
    upload = zipped({"controller/scene.gltf": orjson.dumps(document), **{f"controller/{k}": v for k, v in files.items()}})
    gltf = check_upload(upload)
    assert "uri" not in gltf.document["images"][0] and gltf.document["images"][0]["mimeType"] == "image/png"
    view = gltf.document["bufferViews"][gltf.document["images"][0]["bufferView"]]
    assert gltf.binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]] == files["textures/image 0.png"]
    report = validate_bytes(tmp_path, {"from-zip": pack(gltf)})["from-zip"]
    assert report["numErrors"] == 0, report["messages"]


async def test_third_party_models_are_served_and_still_validate(tmp_path, scenes_dir):
    assets = tmp_path / "assets"
    assets.mkdir()
    nodes = []
    for i, (name, data) in enumerate(third_party_models().items()):
        asset_id = name.replace("/", "-").removesuffix(".glb")
        (assets / f"{asset_id}.glb").write_bytes(data)
        nodes.append({"id": f"model-{i}", "asset": asset_id, "position": [i * 2.0, 1, -3]})
    document = orjson.loads((scenes_dir / "gallery.json").read_bytes())
    document.update(id="controllers", nodes=nodes)
    for key in ("overlays", "tours", "anchors"):
        document.pop(key, None)
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "controllers.json").write_bytes(orjson.dumps(document))
    runner, server = await start_server(Settings.load(environ={}, scenes_dir=scenes, assets_dir=assets, data_dir=tmp_path / "data"))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.http}/api/scenes/controllers/manifest") as response:
                manifest = await response.json()
            assert len(manifest["assets"]) == len(nodes)
            files = {}
            for entry in manifest["assets"]:
                assert entry["provenance"]["generated"] is False
                for level in entry["levels"]:
                    async with http.get(server.http + level["url"], headers={"Accept-Encoding": "br"}) as response:
                        assert response.headers["Content-Encoding"] == "br"
                        files[f"{entry['id']}-{level['level']}"] = await response.read()  # aiohttp decodes br
        for name, report in validate_bytes(tmp_path, files).items():
            assert report["numErrors"] == 0, (name, report["messages"])
    finally:
        await runner.cleanup()


# -- any bytes at all -----------------------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON_MUTATIONS = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(list(b'0123456789-.,:[]{}"aez '))), min_size=1, max_size=6)


@given(JSON_MUTATIONS)
def test_mutated_glb_json_is_accepted_or_refused_never_a_crash(mutations):
    """Changed characters in the JSON chunk: the importer refuses cleanly or accepts a file the optimiser can process."""
    from thirdspace.assets.optimise import build_levels

    data = bytearray(PLINTH)
    json_length = struct.unpack_from("<I", data, 12)[0]
    for position, value in mutations:
        data[20 + position % json_length] = value
    try:
        gltf = check_upload(bytes(data))
    except ImportRefused as err:
        assert err.message and err.field
        return
    build_levels(gltf)


@given(st.binary(max_size=256), st.integers(0, len(PLINTH)))
def test_arbitrary_bytes_spliced_into_a_glb_never_crash_the_importer(noise, at):
    data = PLINTH[:at] + noise + PLINTH[at + len(noise) :]
    try:
        check_upload(data)
    except ImportRefused as err:
        assert err.message
