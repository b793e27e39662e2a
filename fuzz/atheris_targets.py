#!/usr/bin/env python3
"""Coverage-guided fuzzing with atheris (libFuzzer) of the contracts in fuzz/contracts.py.

    python fuzz/atheris_targets.py protocol|scene|recipe|import [libFuzzer options] [corpus directory or crash file ...]

For example ``python fuzz/atheris_targets.py scene fuzz/corpus/scene -max_total_time=600``.
The hypothesis tests in tests/fuzz check the same contracts in a bounded run; see docs/fuzzing.md.
Needs ``pip install atheris`` (a wheel for common Linux systems; elsewhere it builds with clang and libFuzzer).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `fuzz` importable

TARGETS = ("protocol", "scene", "recipe", "import")
USAGE = f"usage: python fuzz/atheris_targets.py {'|'.join(TARGETS)} [libFuzzer options] [corpus directory ...]"


# -- turning fuzzer bytes into values ----------------------------------------------------------------


def value(fdp, pool: tuple, wire: bool, depth: int = 0) -> Any:
    """A JSON-like value: one of ``pool``, a scalar, or a small list or object. ``wire``: only what orjson can write."""
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind == 0:
        return pool[fdp.ConsumeIntInRange(0, len(pool) - 1)]
    if kind == 1:
        return fdp.ConsumeIntInRange(-(2**63), 2**64 - 1) if wire else fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 64))
    if kind == 2:
        return fdp.ConsumeRegularFloat() if wire else fdp.ConsumeFloat()
    if kind == 3:
        size = fdp.ConsumeIntInRange(0, 24)
        return fdp.ConsumeUnicodeNoSurrogates(size) if wire else fdp.ConsumeUnicode(size)
    if kind == 4:
        return fdp.ConsumeBool()
    if kind == 5 and depth < 3:
        return [value(fdp, pool, wire, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if kind == 6 and depth < 3:
        return {fdp.ConsumeUnicodeNoSurrogates(8): value(fdp, pool, wire, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))}
    return None


def mutations(fdp, pool: tuple, wire: bool, most: int = 5) -> list[tuple[int, str, Any]]:
    from fuzz.contracts import MUTATIONS

    return [
        (fdp.ConsumeIntInRange(0, 2**16), MUTATIONS[fdp.ConsumeIntInRange(0, len(MUTATIONS) - 1)], value(fdp, pool, wire))
        for _ in range(fdp.ConsumeIntInRange(1, most))
    ]


def pick(fdp, items):
    items = list(items)
    return items[fdp.ConsumeIntInRange(0, len(items) - 1)]


def damage(fdp, data: bytes) -> bytes:
    from fuzz.contracts import mutate_frame

    flips = [fdp.ConsumeIntInRange(0, 2**20) for _ in range(fdp.ConsumeIntInRange(0, 8))]
    cut = fdp.ConsumeIntInRange(0, 2**16) if fdp.ConsumeBool() else None
    splice = (fdp.ConsumeIntInRange(0, 2**16), fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 16))) if fdp.ConsumeBool() else None
    return mutate_frame(data, flips, cut, fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 16)), splice)


# -- targets -----------------------------------------------------------------------------------------


def protocol(data: bytes) -> None:
    """Text frames (bytes, text, mutated messages), pose frames and snapshots (damaged real ones, or arbitrary)."""
    import atheris
    import orjson

    from fuzz import contracts as c
    from thirdspace.sync.decode import SnapshotDecoder

    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 5)
    if mode == 0:
        c.check_control(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif mode == 1:
        c.check_control(fdp.ConsumeUnicode(fdp.remaining_bytes()))
    elif mode == 2:
        message = c.mutate_json(c.CONTROL_SEEDS[pick(fdp, sorted(c.CONTROL_SEEDS))], mutations(fdp, c.WIRE_VALUES, wire=True))
        c.check_control(orjson.dumps(message))
    elif mode == 3:
        c.check_pose(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif mode == 4:
        frames = list(c.snapshot_stream())
        at = fdp.ConsumeIntInRange(0, len(frames) - 1)
        frames[at] = damage(fdp, frames[at])
        c.check_snapshots(frames)
    else:
        decoder = SnapshotDecoder(*c.SNAPSHOT_BOUNDS)
        for frame in c.snapshot_stream():
            decoder.decode(frame)
        c.check_snapshot(decoder, fdp.ConsumeBytes(fdp.remaining_bytes()))


def scene(data: bytes) -> None:
    """Scene files of any bytes or JSON, mutated demo scenes, curator edits."""
    import atheris

    from fuzz import contracts as c
    from thirdspace.scenes import editing

    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 4)
    if mode == 0:
        c.check_scene_file(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif mode == 1:
        try:
            document = json.loads(fdp.ConsumeUnicode(fdp.remaining_bytes()))
        except (ValueError, RecursionError):
            return
        c.check_scene(document)
    elif mode == 2:
        c.check_scene(c.mutate_json(c.demo_scene(pick(fdp, c.demo_scene_names())), mutations(fdp, c.NASTY_VALUES, wire=False)))
    elif mode == 3:
        where = fdp.ConsumeIntInRange(0, 2**16)
        c.check_scene(c.mutate_json(c.demo_scene(pick(fdp, c.demo_scene_names())), [(where, "set", value(fdp, c.NASTY_VALUES, False))]))
    else:
        document = c.demo_scene(pick(fdp, c.demo_scene_names()))
        node_ids = [n["id"] for n in document["nodes"]] + ["nowhere", ""]
        kind = pick(fdp, ["add", "update", "remove", "text"])
        if kind == "add":
            node = value(fdp, c.WIRE_VALUES, True)
            edit = (kind, node if isinstance(node, dict) else {"id": pick(fdp, node_ids), "position": node})
        elif kind == "update":
            fields = sorted(editing.NODE_FIELDS) + ["colour"]
            changes = {pick(fdp, fields): value(fdp, c.WIRE_VALUES, True) for _ in range(fdp.ConsumeIntInRange(0, 3))}
            edit = (kind, pick(fdp, node_ids), changes)
        elif kind == "remove":
            edit = (kind, pick(fdp, node_ids))
        else:
            paths = [path for path, _ in editing.text_paths(document)] + [fdp.ConsumeUnicodeNoSurrogates(20)]
            text = fdp.ConsumeUnicodeNoSurrogates(40) if fdp.ConsumeBool() else None
            edit = (kind, pick(fdp, paths), pick(fdp, ["en", "fr", "ar", "zh", "de"]), text)
        c.check_scene_edit(document, edit)


def recipe(data: bytes) -> None:
    """Arbitrary and near-valid parameters; now and then a build with parameters the schema accepts."""
    import atheris

    from fuzz import contracts as c
    from thirdspace.assets.recipes import RECIPES

    fdp = atheris.FuzzedDataProvider(data)
    name = pick(fdp, c.recipe_names())
    mode = fdp.ConsumeIntInRange(0, 7)
    if mode == 0:
        c.check_recipe_params(name, value(fdp, c.NASTY_VALUES, wire=False))
        return
    params: dict[str, Any] = {}
    for key, spec in RECIPES[name].schema["properties"].items():
        if not fdp.ConsumeBool():
            continue
        valid = mode == 7 or fdp.ConsumeIntInRange(0, 3) > 0
        kind = spec.get("type")
        if not valid:
            params[key] = value(fdp, c.NASTY_VALUES, wire=False)
        elif kind == "number":
            params[key] = fdp.ConsumeFloatInRange(spec["minimum"], spec["maximum"])
        elif kind == "integer":
            number = fdp.ConsumeIntInRange(spec["minimum"], spec["maximum"])
            params[key] = float(number) if fdp.ConsumeBool() else number
        elif kind == "string":
            params[key] = "#" + fdp.ConsumeBytes(3).hex().ljust(6, "0")
        else:  # the vessel's profile
            lo, hi = spec["items"]["prefixItems"]
            size = fdp.ConsumeIntInRange(spec["minItems"], spec["maxItems"])
            params[key] = [
                [fdp.ConsumeFloatInRange(lo["minimum"], lo["maximum"]), fdp.ConsumeFloatInRange(hi["minimum"], hi["maximum"])]
                for _ in range(size)
            ]
    if mode == 7:
        c.check_recipe_build(name, params, fdp.ConsumeIntInRange(0, 2**32 - 1))
    else:
        c.check_recipe_params(name, params)


def import_(data: bytes) -> None:
    """Any bytes, structural changes to the seeds' glTF JSON, damaged seeds, zips of the seeds' files."""
    import zipfile

    import atheris

    from fuzz import contracts as c

    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    seeds = c.import_seeds()
    if mode == 0:
        c.check_import(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif mode == 1:
        seed = pick(fdp, sorted(seeds))
        document, binary, files = c.seed_document(seed)
        optimise = fdp.ConsumeBool()
        changed = c.mutate_json(document, mutations(fdp, c.WIRE_VALUES, wire=True, most=1 if optimise else 4))
        c.check_import(c.rebuild_seed(seed, changed, binary, files), optimise=optimise)
    elif mode == 2:
        c.check_import(damage(fdp, seeds[pick(fdp, sorted(seeds))]))
    else:
        _, _, files = c.seed_document(pick(fdp, [name for name in seeds if name.endswith(".zip")]))
        names = [*files, "scene.gltf", "b.gltf", "dir/", "../x.bin", "/abs.gltf", "C:x.gltf", "a\\b.gltf"]
        entries = []
        for _ in range(fdp.ConsumeIntInRange(0, 6)):
            name = pick(fdp, names) if fdp.ConsumeBool() else fdp.ConsumeUnicodeNoSurrogates(12).replace("\0", "") or "x"
            entries.append((name, pick(fdp, list(files.values())) if fdp.ConsumeBool() else fdp.ConsumeBytes(64)))
        method = pick(fdp, [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        c.check_import(damage(fdp, c.zip_bytes(entries, method)))


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in TARGETS:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        import atheris
    except ImportError:
        print(
            "atheris is not installed. Install it with `pip install atheris` (Linux wheels for CPython; elsewhere it builds "
            "from source and needs clang with libFuzzer), then run this again.",
            file=sys.stderr,
        )
        return 2
    # numba compiles the sync kernels from their bytecode: instrumented bytecode does not compile.
    with atheris.instrument_imports(include=["thirdspace", "fuzz"], exclude=["thirdspace.sync.kernels", "thirdspace.sync.validate"]):
        from fuzz import contracts

        if argv[1] == "protocol":
            contracts.snapshot_stream()  # compile the sync kernels before fuzzing starts
        if argv[1] == "import":
            contracts.import_seeds()
    target = {"protocol": protocol, "scene": scene, "recipe": recipe, "import": import_}[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
