"""Streaming over HTTP: the manifest, provenance records, ETag/304, Range/206 and compression."""

from __future__ import annotations

import gzip

import aiohttp
import brotli
import numpy as np

from tests.assets.helpers import validate_bytes
from thirdspace.assets.gltf import unpack
from thirdspace.assets.manifest import world_positions
from thirdspace.assets.provenance import read_packet


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def test_the_manifest_lists_every_asset_nearest_first_with_levels(server):
    async with aiohttp.ClientSession() as http:
        status, manifest = await get_json(http, f"{server.http}/api/scenes/caravanserai/manifest")
        _, scene = await get_json(http, f"{server.http}/api/scenes/caravanserai")
    assert status == 200
    document = scene["scene"]
    assert {e["id"] for e in manifest["assets"]} == {n["asset"] for n in document["nodes"] if "asset" in n}
    spawn = np.array(document["spawn_points"][0]["position"])
    positions = world_positions(document["nodes"])
    distances = [e["distance_m"] for e in manifest["assets"]]
    assert distances == sorted(distances)
    for entry in manifest["assets"]:
        nearest = min(np.linalg.norm(positions[n] - spawn) for n in entry["nodes"])
        assert abs(entry["distance_m"] - nearest) < 1e-3
        assert entry["levels"][0]["level"] == 0
        for upper, lower in zip(entry["levels"], entry["levels"][1:], strict=False):
            assert lower["triangles"] < upper["triangles"]
        for level in entry["levels"]:
            assert level["url"] == f"/assets/{level['sha256']}.glb"
            assert level["size"] > 0 and set(level["encoded"]) <= {"br", "gzip"}
        assert entry["provenance"]["generated"] is True
    # The benchmark target: the lowest levels of the courtyard weigh at most a quarter of full detail.
    assert manifest["bytes"]["lowest"] <= manifest["bytes"]["full"] / 4


def test_world_positions_compose_parent_transforms():
    nodes = [
        {"id": "a", "position": [1, 0, 0], "rotation": [0, 0.7071068, 0, 0.7071068], "scale": [2, 2, 2]},
        {"id": "b", "parent": "a", "position": [1, 0, 0]},
    ]
    positions = world_positions(nodes)
    assert np.allclose(positions["b"], [1, 0, -2], atol=1e-6)


async def test_missing_scene_and_asset_name_the_field(server):
    async with aiohttp.ClientSession() as http:
        status, body = await get_json(http, f"{server.http}/api/scenes/nowhere/manifest")
        assert (status, body["field"]) == (404, "scene_id")
        status, body = await get_json(http, f"{server.http}/api/assets/{'0' * 64}")
        assert (status, body["field"]) == (404, "sha256")
        status, body = await get_json(http, f"{server.http}/api/assets/not-a-hash")
        assert (status, body["field"]) == (404, "sha256")
        async with http.get(f"{server.http}/assets/{'0' * 64}.glb") as response:
            assert response.status == 404


async def test_asset_records_match_the_packet_inside_the_file(server):
    async with aiohttp.ClientSession() as http:
        _, manifest = await get_json(http, f"{server.http}/api/scenes/gallery/manifest")
        entry = next(e for e in manifest["assets"] if e["id"] == "pagoda-model")
        status, record = await get_json(http, f"{server.http}{entry['metadata_url']}")
        assert status == 200
        async with http.get(f"{server.http}/assets/{record['sha256']}.glb") as response:
            source = await response.read()
        # A level's sha256 leads to the same record.
        _, by_level = await get_json(http, f"{server.http}/api/assets/{record['levels'][-1]['sha256']}")
    assert read_packet(unpack(source).document) == record["packet"]
    assert by_level["sha256"] == record["sha256"]
    summary = record["provenance"]
    assert summary["digital_source_type"].endswith("/algorithmicMedia") and summary["generated"]
    assert summary["recipe"] == "pagoda" and summary["params"]["tiers"] == 5
    assert summary["made_by"] == "Third Space demo scenes" and summary["made_at"] == "2026-11-28T00:00:00Z"
    assert "seed" in summary and summary["generator"] == "thirdspace-recipes"


async def first_level(server) -> dict:
    async with aiohttp.ClientSession() as http:
        _, manifest = await get_json(http, f"{server.http}/api/scenes/caravanserai/manifest")
    return next(e for e in manifest["assets"] if e["id"] == "caravanserai-arcade")["levels"][0]


async def test_etag_and_not_modified(server):
    level = await first_level(server)
    url = server.http + level["url"]
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(url, headers={"Accept-Encoding": "identity"}) as response:
            assert response.status == 200
            etag = response.headers["ETag"]
            assert etag == f'"{level["sha256"]}"' and not etag.startswith("W/")
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["Vary"] == "Accept-Encoding"
            body = await response.read()
        async with http.get(url, headers={"Accept-Encoding": "identity", "If-None-Match": etag}) as response:
            assert response.status == 304 and await response.read() == b""
        async with http.get(url, headers={"Accept-Encoding": "identity", "If-None-Match": '"other"'}) as response:
            assert response.status == 200
        async with http.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            gzip_tag = response.headers["ETag"]
        assert gzip_tag != etag  # each encoding is its own representation
    assert len(body) == level["size"]


async def test_range_requests(server):
    level = await first_level(server)
    url = server.http + level["url"]
    size = level["size"]
    identity = {"Accept-Encoding": "identity"}
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(url, headers=identity) as response:
            whole = await response.read()
            etag = response.headers["ETag"]
            assert response.headers["Accept-Ranges"] == "bytes"
        async with http.get(url, headers={**identity, "Range": "bytes=0-11"}) as response:
            assert response.status == 206
            assert response.headers["Content-Range"] == f"bytes 0-11/{size}"
            assert await response.read() == whole[:12] and whole[:4] == b"glTF"
        async with http.get(url, headers={**identity, "Range": "bytes=-100"}) as response:
            assert response.status == 206 and await response.read() == whole[-100:]
        async with http.get(url, headers={**identity, "Range": f"bytes=100-{size * 2}"}) as response:
            assert response.status == 206 and await response.read() == whole[100:]
        async with http.get(url, headers={**identity, "Range": f"bytes={size}-"}) as response:
            assert response.status == 416 and response.headers["Content-Range"] == f"bytes */{size}"
        async with http.get(url, headers={**identity, "Range": "bytes=0-1", "If-Range": '"stale"'}) as response:
            assert response.status == 200 and await response.read() == whole  # the resource changed: send it all
        async with http.get(url, headers={**identity, "Range": "bytes=0-1", "If-Range": etag}) as response:
            assert response.status == 206


async def test_compression_follows_accept_encoding(server, tmp_path):
    level = await first_level(server)
    url = server.http + level["url"]
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(url, headers={"Accept-Encoding": "identity"}) as response:
            assert "Content-Encoding" not in response.headers
            plain = await response.read()
        async with http.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}) as response:
            assert response.headers["Content-Encoding"] == "br"
            assert brotli.decompress(await response.read()) == plain
        async with http.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            packed = await response.read()
            assert gzip.decompress(packed) == plain and len(packed) == level["encoded"]["gzip"]
        async with http.get(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0.5"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
        async with http.get(url, headers={"Accept-Encoding": "*;q=0"}) as response:
            assert "Content-Encoding" not in response.headers
    assert len(plain) == level["size"]
    assert level["encoded"]["br"] < level["size"] / 3


async def test_every_level_of_every_served_asset_validates(server, tmp_path):
    files = {}
    async with aiohttp.ClientSession() as http:
        _, scenes = await get_json(http, f"{server.http}/api/scenes")
        for scene in scenes["scenes"]:
            _, manifest = await get_json(http, f"{server.http}/api/scenes/{scene['id']}/manifest")
            for entry in manifest["assets"]:
                for level in entry["levels"]:
                    async with http.get(server.http + level["url"]) as response:
                        files[f"{entry['id']}-{level['level']}"] = await response.read()
    assert len(files) >= 30
    for name, report in validate_bytes(tmp_path, files).items():
        assert report["numErrors"] == 0, (name, report["messages"])
    quantised = [unpack(data).document for data in files.values()]
    assert sum("KHR_mesh_quantization" in d.get("extensionsRequired", []) for d in quantised) >= len(files) // 2


async def test_the_recipe_list_serves_the_schemas(server):
    async with aiohttp.ClientSession() as http:
        status, body = await get_json(http, f"{server.http}/api/recipes")
    assert status == 200
    names = {recipe["name"] for recipe in body["recipes"]}
    assert {"pagoda", "memorial_gate", "terrain", "vessel", "info_panel"} <= names
    pagoda = next(r for r in body["recipes"] if r["name"] == "pagoda")
    assert pagoda["schema"]["properties"]["tiers"]["type"] == "integer"
