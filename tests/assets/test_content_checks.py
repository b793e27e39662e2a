"""What a model holds is checked before it is stored: images (sizes from the header, format, decoding), finite data
(morph targets too), accessors backed by data, consistent animations, scenes listing each root once; and every
level of detail the server writes is valid glTF.  Each hostile file goes through the real upload route of a real
server and is refused with 422, the part of the file at fault and the reason."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.assets import hostile_content as hc
from tests.assets.helpers import validate_bytes
from tests.conftest import RunningServer, start_server
from tests.curate.conftest import Api, add_users, fresh_data_dir
from thirdspace.app import create_app
from thirdspace.assets import optimise
from thirdspace.assets.checks import ImportLimits, ImportRefused, check_upload
from thirdspace.assets.gltf import Gltf, pack, unpack
from thirdspace.assets.library import label
from thirdspace.assets.store import AssetStore
from thirdspace.config import Settings
from thirdspace.web.keys import ASSETS


@pytest.fixture(scope="module")
async def curator(server, scenes_dir, tmp_path_factory) -> AsyncIterator[tuple[Api, RunningServer]]:
    data = fresh_data_dir(server, tmp_path_factory.mktemp("content-checks"))
    token = add_users(data / "thirdspace.sqlite3")["curator"]
    runner, running = await start_server(Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=data))
    async with aiohttp.ClientSession() as http:
        yield Api(http, running.http, token), running
    await runner.cleanup()


def upload(api: Api, asset_id: str, data: bytes):
    return api.request("POST", f"/api/curate/assets?id={asset_id}&source_type=digitalCapture", data=data)


HOSTILE = {
    # R11: images checked from their headers before decoding, then decoded
    "png-bomb-30000": (lambda: hc.png_bomb_glb(30_000), "images[0]", "30000 x 30000 pixels; the limit is 8192 pixels a side"),
    "png-bomb-65535": (lambda: hc.png_bomb_glb(65_535), "images[0]", "65535 x 65535 pixels; the limit is 8192 pixels a side"),
    "pixel-budget": (lambda: hc.sized_png_glb(4096, 5), "images[4]", "the limit for all of an asset's images together is 67108864"),
    "garbage-jpeg": (hc.garbage_jpeg_glb, "images[0]", "not a JPEG image"),
    "broken-png": (hc.broken_image_glb, "images[0]", "a PNG image that does not decode"),
    "jpeg-called-png": (hc.mislabelled_image_glb, "images[0]", "the data is a JPEG image, but its mimeType says image/png"),
    # R19: what the Khronos validator rejects, and data declared but not there
    "nan-morph-target": (hc.nan_morph_glb, "accessors[4]", "not finite numbers (NaN or infinity): morph target 0"),
    "phantom-indices": (hc.phantom_indices_glb, "accessors[4]", "an index list of 500000000 values with no buffer view"),
    "duplicate-roots": (hc.duplicate_roots_glb, "scenes[0].nodes[1]", "listed more than once"),
    "keyframes-backwards": (lambda: hc.bad_animation_glb("times"), "animations[0].samplers[0].input", "keyframe times must increase"),
    "keyframe-count": (lambda: hc.bad_animation_glb("count"), "animations[0].channels[0].sampler", "need 3 output values"),
    "keyframe-nan": (lambda: hc.bad_animation_glb("nan_time"), "accessors[4]", "not finite numbers (NaN or infinity): the input"),
    "rotation-as-vec3": (lambda: hc.bad_animation_glb("path"), "animations[0].channels[0].sampler", "rotation needs VEC4"),
    "rotation-not-unit": (lambda: hc.bad_animation_glb("unit"), "animations[0].samplers[0].output", "rotation keyframe 1 is not a unit"),
    "interpolation": (lambda: hc.bad_animation_glb("interpolation"), "animations[0].samplers[0].interpolation", "'SMOOTH' is not one of"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_content_is_refused_through_the_upload_route_with_the_reason(curator, name):
    api, running = curator
    build, field, reason = HOSTILE[name]
    reply = await upload(api, f"hostile-{name}", build())
    assert reply.status == 422, (reply.status, reply.body)
    assert reply.body["field"] == field and reason in reply.body["error"], reply.body
    listed = await api.get("/api/curate/assets")
    assert f"hostile-{name}" not in {asset["id"] for asset in listed.body["assets"]}  # nothing was registered


async def test_valid_textures_are_accepted_and_served(curator):
    api, running = curator
    for asset_id, data in [
        ("texture-png", hc.textured_glb(hc.png(64))),
        ("texture-jpeg", hc.textured_glb(hc.jpeg(64), "image/jpeg")),
        ("texture-budget", hc.sized_png_glb(4096, 4)),  # exactly the pixel budget
    ]:
        reply = await upload(api, asset_id, data)
        assert reply.status == 201, (asset_id, reply.body)
        async with api.http.get(running.http + reply.body["record"]["url"]) as response:
            assert response.status == 200


async def test_every_level_stored_for_a_zero_scale_node_is_valid(curator, tmp_path):
    api, running = curator
    reply = await upload(api, "zero-scale", hc.zero_scale_node_glb())
    assert reply.status == 201, reply.body
    files = {}
    for level in reply.body["record"]["levels"]:
        async with api.http.get(running.http + level["url"]) as response:
            assert response.status == 200
            files[f"level-{level['level']}"] = await response.read()
    for name, report in validate_bytes(tmp_path, files).items():
        assert report["numErrors"] == 0, (name, report["messages"])


def test_a_file_declaring_half_a_billion_indices_is_refused_without_allocating_them():
    data = hc.phantom_indices_glb()
    tracemalloc.start()  # numpy reports its allocations to tracemalloc
    try:
        with pytest.raises(ImportRefused) as refused:
            check_upload(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.field == "accessors[4]"
    assert peak < 16 * 1024 * 1024, peak  # the indices would be 2 GB


def test_the_store_refuses_to_write_an_invalid_level(tmp_path, monkeypatch):
    source = label(check_upload(hc.sized_png_glb(8, 1)), None)

    def levels_with_nothing(gltf, *args, **kwargs):
        good = optimise.build_levels(gltf, *args, **kwargs)
        broken = unpack(good[0].glb)
        broken.document["meshes"] = []  # what the level builder once wrote for a mesh under a zero-scale node
        return [good[0], optimise.Level(1, 0.25, pack(Gltf(broken.document, broken.binary)), 0, 0, False, 0.0)]

    monkeypatch.setattr("thirdspace.assets.store.build_levels", levels_with_nothing)
    store = AssetStore(tmp_path / "store")
    with pytest.raises(ImportRefused) as refused:
        store.ingest(source)
    assert refused.value.field == "meshes" and "level of detail 1 would not be valid glTF" in refused.value.message
    assert list((tmp_path / "store").iterdir()) == []  # nothing written, not even the source


def test_the_image_limits_come_from_the_settings(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path, import_max_image_side=32, import_max_image_pixels=2000)
    limits = create_app(settings)[ASSETS].limits
    assert (limits.max_image_side, limits.max_image_pixels) == (32, 2000)
    with pytest.raises(ImportRefused) as refused:
        check_upload(hc.textured_glb(hc.png(64)), limits)
    assert "64 x 64 pixels; the limit is 32 pixels a side (import_max_image_side)" in refused.value.message
    with pytest.raises(ImportRefused) as refused:
        check_upload(hc.sized_png_glb(32, 2), ImportLimits(max_image_side=32, max_image_pixels=2000))
    assert refused.value.field == "images[1]" and "import_max_image_pixels" in refused.value.message  # 2 x 1024 pixels
