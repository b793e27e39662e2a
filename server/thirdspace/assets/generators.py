"""Generators: one interface for the embedded recipes and for an external text-to-3D service.

Both return checked, labelled GLB bytes.  The recipes are procedural code and
label their output ``algorithmicMedia``; a service is assumed to be a trained
model and its output is labelled ``trainedAlgorithmicMedia``, passes the same
import checks as a curator's upload, and records the prompt and the service.

The service protocol (documented in docs/assets.md)::

    POST {url}   {"prompt": "...", "seed": 7, "params": {...}}
    200          body: GLB bytes (Content-Type: model/gltf-binary)
                 optional headers X-Generator-Name, X-Generator-Version

The CPU work (running a recipe, checking a service's model) goes through ``run``, an
``async run(function, *args)``: a worker thread by default, the server's asset worker
processes (``thirdspace.services.assets.AssetWorkers.run``) in the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from thirdspace.assets import provenance
from thirdspace.assets.checks import DEFAULT_LIMITS, ImportLimits, ImportRefused, check_upload
from thirdspace.assets.gltf import pack
from thirdspace.assets.provenance import Provenance
from thirdspace.assets.recipes import build_glb

Run = Callable[..., Awaitable[Any]]  # run(function, *args): the function's result, computed off the event loop


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class GeneratorError(ValueError):
    """The generator could not produce an acceptable asset; the message says why."""


@dataclass
class GenerationRequest:
    made_by: str
    made_at: str | None
    recipe: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    prompt: str | None = None


class Generator(Protocol):
    name: str

    async def generate(self, request: GenerationRequest) -> bytes: ...


class RecipeGenerator:
    """The embedded default: the project's procedural recipes."""

    name = "recipes"

    def __init__(self, run: Run = in_thread):
        self.run = run

    async def generate(self, request: GenerationRequest) -> bytes:
        if not request.recipe:
            raise GeneratorError("recipe: the recipe generator needs a recipe name")
        return await self.run(build_glb, request.recipe, request.params, request.seed, request.made_by, request.made_at)


class HttpGenerator:
    """A text-to-3D service over HTTP; its output goes through the import checks."""

    name = "service"

    def __init__(
        self, url: str, timeout_s: float = 120.0, limits: ImportLimits = DEFAULT_LIMITS, api_key: str | None = None, run: Run = in_thread
    ):
        self.url = url
        self.timeout_s = timeout_s
        self.limits = limits
        self.api_key = api_key
        self.run = run

    async def generate(self, request: GenerationRequest) -> bytes:
        if not request.prompt:
            raise GeneratorError("prompt: a text-to-3D service needs a prompt")
        headers = {"Accept": "model/gltf-binary"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {"prompt": request.prompt, "seed": request.seed, "params": request.params}
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(self.url, json=body, headers=headers) as response:
                if response.status != 200:
                    text = (await response.content.read(500)).decode("utf-8", "replace")
                    raise GeneratorError(f"the service at {self.url} answered {response.status}: {text}")
                data = await _read_capped(response, self.limits.max_file_bytes)
                name = response.headers.get("X-Generator-Name", self.url)
                version = response.headers.get("X-Generator-Version", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GeneratorError(f"the service at {self.url} could not be reached: {exc or type(exc).__name__}") from None
        record = Provenance(
            source_type="trainedAlgorithmicMedia",
            generator=name,
            generator_version=version,
            made_by=request.made_by,
            made_at=request.made_at,
            params=request.params or None,
            seed=request.seed,
            prompt=request.prompt,
            service=self.url,
        )
        try:
            return await self.run(labelled_service_model, data, self.limits, record)
        except ImportRefused as err:
            raise GeneratorError(f"the service's model was refused: {err}") from None


def labelled_service_model(data: bytes, limits: ImportLimits, record: Provenance) -> bytes:
    """A service's model, checked like an upload and labelled with what made it."""
    gltf = check_upload(data, limits)
    provenance.embed(gltf.document, record.to_packet())
    return pack(gltf)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    out = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        out += chunk
        if len(out) > limit:
            raise GeneratorError(f"the service's model is larger than the limit of {limit} bytes")
    return bytes(out)
