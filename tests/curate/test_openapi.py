"""The OpenAPI document, checked by schemathesis against a live server: no 5xx, every response as documented."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from openapi_spec_validator import validate

from tests.curate.conftest import Curated
from thirdspace.web.openapi import document

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_the_document_is_valid_openapi_3_1_and_covers_the_routes(curated: Curated):
    spec = document()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for resource in curated.server.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        if not path.startswith("/api/") or path == "/api/openapi.json":
            continue
        for route in resource:
            if route.method != "HEAD":
                assert (path, route.method) in documented, (path, route.method)
    # The scene schema is the validator's own, lifted into components.
    schemas = spec["components"]["schemas"]
    assert schemas["SceneDocument"]["properties"]["nodes"]["items"] == {"$ref": "#/components/schemas/Scene_node"}
    assert schemas["Scene_node"]["properties"]["asset"]["pattern"]


async def test_schemathesis_finds_no_server_error_and_no_undocumented_response(curated: Curated, tmp_path: Path):
    beside = Path(sys.executable).parent / "st"  # the one installed with this Python
    st = str(beside) if beside.exists() else shutil.which("st")
    assert st, "schemathesis is not installed: run the README's test command"
    args = [
        f"{curated.server.http}/api/openapi.json",
        "--checks", CHECKS,
        "--header", f"Authorization: Bearer {curated.tokens['admin']}",
        "--max-examples", "25",
        "--workers", "1",
        "--seed", "20261128",
        "--phases", "examples,coverage,fuzzing",
        "--no-color",
        "--generation-database", "none",
        # Generating whole scene documents (PUT .../scenes/{id}) is slow on a busy machine; slow is not wrong.
        "--suppress-health-check", "too_slow",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(  # in a folder of its own: it keeps a cache where it runs
        st, "run", *args, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 600)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert "generated" in text and " passed" in text and "Selected: " in text
