import aiohttp
import pytest


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_healthz(server, http):
    async with http.get(f"{server.http}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_scene_list(server, http):
    async with http.get(f"{server.http}/api/scenes") as response:
        body = await response.json()
    by_id = {s["id"]: s for s in body["scenes"]}
    assert {"caravanserai", "gallery", "tiny"} <= set(by_id)
    assert by_id["gallery"]["capacity"] == 30
    assert by_id["gallery"]["title"]["sw"] == "Jumba la vitu vya pamoja"
    assert by_id["gallery"]["languages"][0] == "en"


async def test_scene_document_with_assets(server, http):
    async with http.get(f"{server.http}/api/scenes/caravanserai") as response:
        assert response.status == 200
        body = await response.json()
    assert body["scene"]["id"] == "caravanserai"
    assert set(body["assets"]) == {n["asset"] for n in body["scene"]["nodes"] if "asset" in n}
    fountain = body["assets"]["courtyard-fountain"]
    assert fountain["url"] == f"/assets/{fountain['sha256']}.glb"
    assert fountain["source"] == "recipe:fountain"


async def test_unknown_scene_is_a_json_404_naming_the_field(server, http):
    async with http.get(f"{server.http}/api/scenes/atlantis") as response:
        assert response.status == 404
        assert await response.json() == {"error": "no scene 'atlantis'", "field": "scene_id"}


async def test_assets_are_immutable_and_revalidate_with_etag(server, http):
    async with http.get(f"{server.http}/api/scenes/gallery") as response:
        asset = (await response.json())["assets"]["plinth"]
    async with http.get(server.http + asset["url"]) as response:
        data = await response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "model/gltf-binary"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = response.headers["ETag"]
    assert data[:4] == b"glTF" and len(data) == asset["size"]
    async with http.get(server.http + asset["url"], headers={"If-None-Match": etag}) as response:
        assert response.status == 304


@pytest.mark.parametrize("path", ["/assets/" + "0" * 64 + ".glb", "/assets/..%2f..%2fetc%2fpasswd.glb", "/assets/abc.glb"])
async def test_unknown_or_malformed_asset_is_404(server, http, path):
    async with http.get(server.http + path) as response:
        assert response.status == 404


async def test_the_client_page_is_served(server, http):
    async with http.get(f"{server.http}/?scene=gallery") as response:
        assert response.status == 200
        page = await response.text()
    assert '<canvas id="view"' in page and "/static/app.js" in page
    async with http.get(f"{server.http}/static/app.js") as response:
        assert response.status == 200
