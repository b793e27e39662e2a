"""The generator interface: the embedded recipes and an external text-to-3D service over HTTP.

The service here is a real local HTTP server speaking the documented protocol; it answers
with published third-party models, or with hostile ones.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from aiohttp import web

from tests.assets.helpers import third_party_models, validate_bytes
from thirdspace.assets.checks import ImportLimits
from thirdspace.assets.generators import GenerationRequest, GeneratorError, HttpGenerator, RecipeGenerator
from thirdspace.assets.gltf import unpack
from thirdspace.assets.provenance import Provenance, read_packet
from thirdspace.assets.store import AssetStore


@pytest.fixture
async def service():
    """A text-to-3D service: POST JSON, answer GLB. ``replies`` picks what it sends back."""
    model = third_party_models()["pico-neo3/right.glb"]
    seen: list[dict] = []
    state = {"reply": "model"}

    async def generate(request: web.Request) -> web.StreamResponse:
        seen.append({"body": await request.json(), "auth": request.headers.get("Authorization")})
        reply = state["reply"]
        if reply == "model":
            return web.Response(
                body=model, content_type="model/gltf-binary", headers={"X-Generator-Name": "mesh-diffusion", "X-Generator-Version": "3.1"}
            )
        if reply == "truncated":
            return web.Response(body=model[:5000], content_type="model/gltf-binary")
        if reply == "slow":
            await asyncio.sleep(5)
        return web.Response(status=500, text="out of GPU memory")

    app = web.Application()
    app.router.add_post("/generate", generate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/generate"
    yield url, state, seen, model
    await runner.cleanup()


def request(**overrides) -> GenerationRequest:
    return GenerationRequest(**{"made_by": "Curator B", "made_at": "2026-11-28T10:00:00Z", **overrides})


async def test_a_service_model_is_checked_and_labelled_as_trained_algorithmic_media(service, tmp_path):
    url, _, seen, model = service
    data = await HttpGenerator(url, api_key="secret").generate(request(prompt="a bronze temple bell", seed=9, params={"style": "tang"}))
    assert seen[0]["body"] == {"prompt": "a bronze temple bell", "seed": 9, "params": {"style": "tang"}}
    assert seen[0]["auth"] == "Bearer secret"
    record = Provenance.from_packet(read_packet(unpack(data).document))
    assert record.source_type == "trainedAlgorithmicMedia" and record.generated
    assert (record.generator, record.generator_version) == ("mesh-diffusion", "3.1")
    assert (record.prompt, record.service, record.seed, record.made_by) == ("a bronze temple bell", url, 9, "Curator B")
    stored = AssetStore(tmp_path / "store").ingest(unpack(data))
    assert stored["provenance"]["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    report = validate_bytes(tmp_path, {"service": data})["service"]
    assert report["numErrors"] == 0, report["messages"]


async def test_service_failures_are_clear_errors(service):
    url, state, _, _ = service
    state["reply"] = "truncated"
    with pytest.raises(GeneratorError, match="refused: header.length"):
        await HttpGenerator(url).generate(request(prompt="a bell"))
    state["reply"] = "error"
    with pytest.raises(GeneratorError, match="answered 500: out of GPU memory"):
        await HttpGenerator(url).generate(request(prompt="a bell"))
    state["reply"] = "model"
    with pytest.raises(GeneratorError, match="larger than the limit"):
        await HttpGenerator(url, limits=ImportLimits(max_file_bytes=10_000)).generate(request(prompt="a bell"))
    state["reply"] = "slow"
    with pytest.raises(GeneratorError, match="could not be reached"):
        await HttpGenerator(url, timeout_s=0.5).generate(request(prompt="a bell"))
    with pytest.raises(GeneratorError, match="could not be reached"):
        await HttpGenerator("http://127.0.0.1:9/generate").generate(request(prompt="a bell"))
    with pytest.raises(GeneratorError, match="prompt"):
        await HttpGenerator(url).generate(request())


async def test_recipes_and_services_share_one_interface():
    data = await RecipeGenerator().generate(request(recipe="memorial_gate", params={"bays": 1}, seed=2))
    record = Provenance.from_packet(read_packet(unpack(data).document))
    assert (record.source_type, record.recipe, record.seed, record.params["bays"]) == ("algorithmicMedia", "memorial_gate", 2, 1)
    with pytest.raises(GeneratorError, match="recipe"):
        await RecipeGenerator().generate(request())


async def test_the_cli_asks_a_service(service, tmp_path):
    url, _, seen, _ = service
    out = tmp_path / "bell.glb"
    code = "from thirdspace.cli import main; raise SystemExit(main())"
    args = ["generate", "--service", url, "--prompt", "a bronze bell", "--seed", "4", "--made-by", "Curator C", "-o", str(out)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    record = Provenance.from_packet(read_packet(unpack(out.read_bytes()).document))
    assert (record.source_type, record.prompt, record.made_by, record.seed) == ("trainedAlgorithmicMedia", "a bronze bell", "Curator C", 4)
    assert seen[-1]["body"]["prompt"] == "a bronze bell"
