"""What every decoder and validator promises about untrusted input, as checks the fuzzers call.

Shared by the hypothesis tests in ``tests/fuzz`` (a bounded run in the normal suite) and the
atheris entry points in ``fuzz/atheris_targets.py`` (long, coverage-guided runs); see docs/fuzzing.md.

Each ``check_*`` function feeds one input to one target and returns when the contract holds:
the input is accepted and the value it gives is sane, or it is refused with the module's own
error, which names where the problem is.  Any other exception escapes unchanged: that is the
crash a fuzzer reports.  A broken promise about the value or the error raises
:class:`ContractViolation`.

The ``mutate_*`` helpers turn plain integers and values (drawn by hypothesis strategies or read
from atheris' data provider) into changed documents and frames, so both fuzzers explore the same
kinds of damage: dropped keys, wrong types, huge and non-finite numbers, broken references.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import math
import re
import struct
import tempfile
import warnings
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from thirdspace.assets.checks import ImportRefused, check_glb, check_upload
from thirdspace.assets.gltf import Gltf, pack, unpack
from thirdspace.assets.recipes import RECIPES, RecipeError, build_glb
from thirdspace.config import PROJECT_ROOT
from thirdspace.protocol import codec
from thirdspace.protocol.constants import (
    CLOSE_INVALID_PAYLOAD,
    FLAG_LEFT,
    FLAG_TELEPORT,
    FRAME_POSE,
    FRAME_SNAPSHOT_V2,
    MAX_CANDIDATE_CHARS,
    MAX_CHAT_CHARS,
    MAX_NAME_CHARS,
    MAX_SDP_CHARS,
    POSE_FRAME_SIZE,
    PROTOCOL_VERSION,
)
from thirdspace.scenes import editing
from thirdspace.scenes.model import Scene, SceneError, load_file, validate
from thirdspace.sync.decode import KEEP_VIEWS, SnapshotDecoder, SnapshotFormatError
from thirdspace.sync.layout import SNAPSHOT_FULL


class ContractViolation(AssertionError):
    """A target returned or raised something its contract does not allow."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)


# -- JSON documents: paths and mutations -------------------------------------------------------------

Path_ = tuple[str | int, ...]
MUTATIONS = ("set", "drop", "dup", "add_key", "ref")

#: Values a JSON document can hold once parsed by Python's ``json`` (scene files are read with it):
#: non-finite floats, integers of any size and lone surrogates included.
NASTY_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2, 0.5, -0.0, 1e308, -1e308, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**400,
    float("nan"), float("inf"), float("-inf"), "", "x", "\ud800", "\x00", "\n", "#zzzzzz", "en", "../x",
    [], {}, [0, 0, 0], [0, 0, 0, 1], [1e308, 1e308, 1e308], [[]], [{}], {"en": "x"}, {"": None},
)  # fmt: skip


def _survives_orjson(value: Any) -> bool:
    try:
        return orjson.loads(orjson.dumps(value)) == value
    except TypeError:  # orjson.JSONEncodeError: huge integers, lone surrogates
        return False


#: The subset that survives orjson, i.e. what an HTTP body, a WebSocket frame or a GLB's JSON can hold.
WIRE_VALUES: tuple[Any, ...] = tuple(v for v in NASTY_VALUES if _survives_orjson(v))


def json_paths(document: Any) -> list[Path_]:
    """Every location in a JSON value, the root first, depth first in document order."""
    out: list[Path_] = []
    stack: list[tuple[Path_, Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        out.append(path)
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
    return out


def _get(document: Any, path: Path_) -> Any:
    for key in path:
        document = document[key]
    return document


def _strings(document: Any) -> list[str]:
    return sorted({v for p in json_paths(document) if isinstance(v := _get(document, p), str)})


_SPREAD = 0x9E3779B1  # spreads small numbers over the whole document; 0 stays the root


def mutate_json(document: Any, mutations: list[tuple[int, str, Any]]) -> Any:
    """A changed deep copy of ``document``.

    Each mutation is ``(where, what, value)``: ``where`` picks a location (scrambled, modulo their number),
    ``what`` is one of :data:`MUTATIONS`: ``set`` it to ``value``, ``drop`` it, ``dup`` a list item
    (duplicate ids), ``add_key`` to an object, or ``ref``: replace a string by another string of the
    document (crossed and broken references)."""
    document = copy.deepcopy(document)
    for where, what, value in mutations:
        paths = json_paths(document)
        path = paths[where * _SPREAD % len(paths)]  # scrambled: fuzzers favour small numbers, documents put metadata first
        if what == "set":
            if not path:
                document = copy.deepcopy(value)
                continue
            _get(document, path[:-1])[path[-1]] = copy.deepcopy(value)
        elif what == "drop" and path:
            parent = _get(document, path[:-1])
            del parent[path[-1]]
        elif what == "dup":
            target = _get(document, path)
            if isinstance(target, list) and target:
                target.append(copy.deepcopy(target[where % len(target)]))
            elif path and isinstance(parent := _get(document, path[:-1]), list):
                parent.append(copy.deepcopy(target))
        elif what == "add_key":
            target = _get(document, path)
            if isinstance(target, dict):
                target[value if isinstance(value, str) else f"extra-{where % 7}"] = copy.deepcopy(value)
        elif what == "ref" and path and isinstance(_get(document, path), str):
            strings = _strings(document) + ["nowhere"]
            pick = value if isinstance(value, int) and not isinstance(value, bool) else where
            _get(document, path[:-1])[path[-1]] = strings[pick % len(strings)]
    return document


# -- protocol frames -------------------------------------------------------------------------------

CONTROL_CODES = {"bad_json", "bad_request", "too_long", "unknown_type", "unsupported_protocol"}
#: The fields client messages have (a new field the decoders check goes here too).
CONTROL_FIELDS = {
    "type", "protocol", "scene", "name", "language", "colour", "room", "resume", "text", "nonce", "phrase", "thing",
    "message", "reason", "action", "tour", "stop", "to", "listen", "speak", "announce", "kind", "sdp", "candidate",
}  # fmt: skip

#: One valid message of each client type: what structured fuzzing starts from.
CONTROL_SEEDS: dict[str, dict[str, Any]] = {
    "hello": {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "scene": "gallery",
        "name": "Ada",
        "language": "en-GB",
        "colour": "#4A90D9",
        "room": "gallery-1",
        "resume": "12.abcdefgh",
    },
    "chat": {"type": "chat", "text": "Where is the celadon vase?"},
    "quick": {"type": "quick", "phrase": "look-here", "thing": "celadon-vase"},
    "report": {"type": "report", "message": 3, "reason": "spam"},
    "ping": {"type": "ping", "nonce": 7},
    "watch": {"type": "watch", "scene": "gallery"},
    "tour": {"type": "tour", "action": "goto", "tour": "highlights", "stop": "vase", "to": 2},
    "voice": {"type": "voice", "listen": True, "speak": True, "announce": False},
    "signal": {
        "type": "signal",
        "to": 5,
        "kind": "candidate",
        "candidate": {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0},
    },
}


def check_control(data: str | bytes) -> Any:
    """``decode_control``: a message value, or a ProtocolError with a known code and field; nothing else."""
    try:
        value = codec.decode_control(data)
    except codec.ProtocolError as err:
        expect(err.code in CONTROL_CODES, f"unknown error code {err.code!r}")
        expect(isinstance(err.message, str) and bool(err.message), "an error needs a message")
        expect(err.field is None or err.field in CONTROL_FIELDS, f"error field {err.field!r} is not a message field")
        expect(err.close_code in (None, CLOSE_INVALID_PAYLOAD), f"close code {err.close_code}")
        expect((err.code == "bad_json") == (err.close_code is not None), "exactly the undecodable frames close the connection")
        orjson.dumps(err.to_message())  # the server sends the error back: it must encode
        return err
    _check_control_value(value)
    return value


def _check_control_value(value: Any) -> None:
    if isinstance(value, codec.Hello):
        expect(value.protocol == PROTOCOL_VERSION, "hello: protocol")
        expect(isinstance(value.scene, str) and bool(value.scene), "hello: scene")
        expect(isinstance(value.name, str) and 0 < len(value.name) <= MAX_NAME_CHARS, f"hello: name {value.name!r}")
        expect(not _has_control_characters(value.name) and value.name == value.name.strip(), f"hello: name {value.name!r}")
        expect(isinstance(value.language, str) and 2 <= len(value.language) <= 35, f"hello: language {value.language!r}")
        expect(isinstance(value.colour, str) and value.colour.startswith("#") and value.colour == value.colour.lower(), "hello: colour")
        for optional in ("room", "resume"):
            expect(isinstance(getattr(value, optional, ""), str), f"hello: {optional}")
    elif isinstance(value, codec.Chat):
        expect(isinstance(value.text, str) and 0 < len(value.text) <= MAX_CHAT_CHARS, "chat: text length")
        expect(not _has_control_characters(value.text), "chat: control characters")
    elif isinstance(value, codec.Quick):
        expect(isinstance(value.phrase, str) and 0 < len(value.phrase) <= 64, "quick: phrase")
        expect(value.thing is None or (isinstance(value.thing, str) and 0 < len(value.thing) <= 64), "quick: thing")
    elif isinstance(value, codec.Report):
        expect(type(value.message) is int and value.message >= 1, "report: message")
        expect(isinstance(value.reason, str) and 0 < len(value.reason) <= 500, "report: reason")
    elif isinstance(value, codec.Ping):
        expect(value.nonce is None or isinstance(value.nonce, (int, str)), "ping: nonce")
    elif isinstance(value, codec.Watch):
        expect(isinstance(value.scene, str) and bool(value.scene), "watch: scene")
    elif isinstance(value, codec.TourAction):
        expect(value.action in codec.TOUR_ACTIONS, "tour: action")
        expect(isinstance(value.tour, str) and 0 < len(value.tour) <= 64, "tour: tour")
        expect((value.stop is not None) == (value.action == "goto"), "tour: stop only for goto")
        expect((value.to is not None) == (value.action == "lead") and (value.to is None or type(value.to) is int), "tour: to")
    elif isinstance(value, codec.VoiceState):
        expect(all(type(getattr(value, f)) is bool for f in ("listen", "speak", "announce")), "voice: flags are booleans")
    elif isinstance(value, codec.Signal):
        expect(type(value.to) is int and 1 <= value.to <= 65535, "signal: to")
        expect(value.kind in codec.SIGNAL_KINDS, "signal: kind")
        if value.kind == "candidate":
            candidate = value.payload["candidate"]
            expect(set(value.payload) == {"candidate"} and isinstance(candidate["candidate"], str), "signal: candidate")
            expect(len(candidate["candidate"]) <= MAX_CANDIDATE_CHARS, "signal: candidate length")
            mid = candidate["sdpMid"]
            expect(mid is None or (isinstance(mid, str) and len(mid) <= 32), "signal: sdpMid")
            index = candidate["sdpMLineIndex"]
            expect(index is None or (type(index) is int and 0 <= index <= 15), "signal: sdpMLineIndex")
        else:
            sdp = value.payload.get("sdp")
            expect(set(value.payload) == {"sdp"} and isinstance(sdp, str) and 0 < len(sdp) <= MAX_SDP_CHARS, "signal: sdp")
        orjson.dumps(value.payload)  # relayed as it came: it must encode
    else:
        raise ContractViolation(f"decode_control returned {type(value).__name__}")


def check_pose(data: bytes) -> Any:
    """``decode_pose``: (flags, ack, (3, 7) float32 parts) for exactly an 88-byte pose frame, else ProtocolError closing 1007."""
    well_formed = len(data) == POSE_FRAME_SIZE and data[0] == FRAME_POSE
    try:
        flags, ack, parts = codec.decode_pose(data)
    except codec.ProtocolError as err:
        expect(err.code == "bad_frame" and err.close_code == CLOSE_INVALID_PAYLOAD, f"{err.code} / {err.close_code}")
        expect(not well_formed, "a well-formed pose frame was refused")
        return err
    expect(well_formed, f"a {len(data)}-byte frame of kind {data[0] if data else None} was accepted")
    expect(flags == data[1] and ack == data[2] | data[3] << 8, "flags and ack are bytes 1 and 2..3")
    expect(parts.shape == (3, 7) and parts.dtype == np.float32, f"parts {parts.shape} {parts.dtype}")
    expect(parts.tobytes() == bytes(data[4:]), "parts are the frame's floats")
    return flags, ack, parts


# -- snapshots -------------------------------------------------------------------------------------

SNAPSHOT_BOUNDS = ((-20.0, -1.0, -20.0), (20.0, 6.0, 20.0))


@cache
def snapshot_stream() -> tuple[bytes, ...]:
    """Real snapshots for one client, made by the sync engine: full, then deltas, some acknowledged late."""
    from thirdspace.sync.engine import SyncEngine, SyncSettings

    rng = np.random.default_rng(20240611)
    n = 10
    lo, hi = np.array(SNAPSHOT_BOUNDS[0]), np.array(SNAPSHOT_BOUNDS[1])
    engine = SyncEngine(n, lo, hi, SyncSettings(interest_radius_m=25.0, max_visible=8, budget_bytes=400, ring=8, history=12))
    parts = np.zeros((n, 3, 7), np.float32)
    parts[:, :, :3] = rng.uniform(lo, hi, size=(n, 3, 3))
    ids = rng.permutation(np.arange(1, n + 1)).astype(np.uint16)
    flags = rng.integers(0, 4, size=n).astype(np.uint8)
    clients = np.arange(n, dtype=np.int64)
    has_pose = np.ones(n, bool)
    has_pose[-1] = False  # joins later
    decoder = SnapshotDecoder(lo, hi)
    frames = []
    for tick in range(1, 15):
        parts[:, :, :3] = np.clip(parts[:, :, :3] + rng.normal(scale=0.05 if tick % 5 else 4.0, size=(n, 3, 3)), lo, hi)
        q = rng.normal(size=(n, 3, 4))
        parts[:, :, 3:] = q / np.linalg.norm(q, axis=2, keepdims=True)
        flags = (flags & 3) ^ (rng.random(n) < 0.2).astype(np.uint8) * FLAG_LEFT
        flags |= (rng.random(n) < 0.1).astype(np.uint8) * FLAG_TELEPORT
        has_pose[-1] = tick > 6
        frame = bytes(engine.tick(tick, parts, flags, has_pose, ids, clients, np.array([1], np.int64)).snapshot(0))
        frames.append(frame)
        seq, _ = decoder.decode(frame)
        if tick % 4 != 3:  # now and then an acknowledgement is lost
            engine.acknowledge(0, seq)
    return tuple(frames)


def mutate_frame(
    frame: bytes, flips: list[int], cut: int | None = None, tail: bytes = b"", splice: tuple[int, bytes] | None = None
) -> bytes:
    """``frame`` with bits flipped (bit indices modulo its size), ``splice`` bytes written at an offset, cut short and/or extended."""
    data = bytearray(frame)
    for bit in flips:
        if data:
            bit %= len(data) * 8
            data[bit // 8] ^= 1 << (bit % 8)
    if splice is not None and data:
        at, noise = splice
        at %= len(data)
        data[at : at + len(noise)] = noise
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    return bytes(data) + tail


def check_snapshots(frames: list[bytes]) -> list[Any]:
    """Feed ``frames`` in order to one fresh ``SnapshotDecoder``; each must decode per :func:`check_snapshot`."""
    decoder = SnapshotDecoder(*SNAPSHOT_BOUNDS)
    return [check_snapshot(decoder, frame) for frame in frames]


def check_snapshot(decoder: SnapshotDecoder, frame: bytes) -> Any:
    """``SnapshotDecoder.decode``: (seq, view), None when the baseline is not known, or SnapshotFormatError."""
    known = set(decoder.views)
    try:
        result = decoder.decode(frame)
    except SnapshotFormatError as err:
        expect(bool(str(err)), "a format error needs a message")
        return err
    expect(len(frame) >= 6 and frame[0] == FRAME_SNAPSHOT_V2, "only version 2 snapshots decode")
    if result is None:
        baseline = int.from_bytes(frame[4:6], "little")
        expect(not frame[1] & SNAPSHOT_FULL and baseline not in known, "None only when the baseline is unknown")
        return None
    seq, view = result
    expect(seq == int.from_bytes(frame[2:4], "little") and decoder.last_seq == seq, "seq is the header's")
    expect(decoder.views.get(seq) is view and len(decoder.views) <= KEEP_VIEWS, "the view is kept, and only the recent ones")
    expect(decoder.teleported <= set(view), "teleported avatars are in the view")
    for vid, held in view.items():
        expect(isinstance(vid, int) and 0 <= vid <= 0xFFFF, f"visitor id {vid!r}")
        flags, parts = held
        expect(0 <= flags < 8 and not flags & FLAG_TELEPORT, f"held flags {flags}")
        expect(parts.shape == (3, 4) and parts.dtype == np.int64, "held parts are (3, 4) int64")
        pose = decoder.pose(held)
        expect(pose.shape == (3, 7) and pose.dtype == np.float32 and bool(np.isfinite(pose).all()), "a pose is finite (3, 7) float32")
    return result


# -- scene documents -------------------------------------------------------------------------------

SCENES_DIR = PROJECT_ROOT / "scenes"


@cache
def _demo_scenes() -> dict[str, str]:
    return {path.stem: path.read_text("utf-8") for path in sorted(SCENES_DIR.glob("*.json"))}


def demo_scene_names() -> list[str]:
    return list(_demo_scenes())


def demo_scene(name: str) -> dict[str, Any]:
    """A fresh copy of a demo scene document."""
    return json.loads(_demo_scenes()[name])


_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _resolves(document: Any, path: str) -> bool | None:
    """Whether a JSON path names something in ``document``, or a missing key of an object in it (None: cannot tell)."""
    tokens, at = [], 1
    while at < len(path):
        match = _PATH_TOKEN.match(path, at)
        if match is None:
            return None
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        at = match.end()
    value = document
    for i, token in enumerate(tokens):
        if isinstance(value, dict) and isinstance(token, str) and token in value:
            value = value[token]
        elif isinstance(value, list) and isinstance(token, int) and token < len(value):
            value = value[token]
        elif isinstance(value, dict) and isinstance(token, str) and i == len(tokens) - 1:
            return True  # a required key that is missing, e.g. "$.overlays[0].text"
        elif isinstance(value, dict) and any(c in key for key in value for c in ".[]"):
            return None  # a key with dots or brackets makes the path ambiguous
        else:
            return False
    return True


def _check_scene_error(err: SceneError, source: str, document: Any) -> SceneError:
    expect(bool(err.issues), "a SceneError lists its issues")
    for issue in err.issues:
        expect(issue.source == source, f"issue source {issue.source!r}")
        expect(isinstance(issue.reason, str) and bool(issue.reason), "an issue needs a reason")
        expect(
            isinstance(issue.path, str) and (issue.path == "$" or issue.path.startswith(("$.", "$["))), f"not a JSON path: {issue.path!r}"
        )
        expect(_resolves(document, issue.path) is not False, f"{issue.path} is not a place in the document ({issue.reason})")
    return err


def _check_scene_value(scene: Any, document: Any) -> Scene:
    expect(isinstance(scene, Scene) and scene.document is document, "validate returns the Scene of the document")
    expect(scene.id == document["id"] and scene.languages[0] == document["default_language"], "id and default language")
    expect(type(scene.capacity) is int and 1 <= scene.capacity <= 1000, f"capacity {scene.capacity!r}")
    numbers = [*scene.bounds_min, *scene.bounds_max]
    expect(all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers), "finite bounds")
    expect(all(a < b for a, b in zip(scene.bounds_min, scene.bounds_max, strict=True)), "min below max")
    # The server sends an accepted document with orjson: it must encode, and arrive unchanged (NaN would become null).
    try:
        wire = orjson.loads(orjson.dumps(document))
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise ContractViolation(f"an accepted scene cannot be sent to visitors: {exc}") from None
    expect(wire == document, "an accepted scene changes on the way to visitors (a NaN or infinite number?)")
    return scene


def check_scene(document: Any, source: str = "<document>") -> Scene | SceneError:
    """``validate``: a Scene that can be sent to visitors as it is, or a SceneError whose issues name JSON paths."""
    try:
        scene = validate(document, source)
    except SceneError as err:
        return _check_scene_error(err, source, document)
    return _check_scene_value(scene, document)


_scratch: Path | None = None


def check_scene_file(data: bytes) -> Scene | SceneError:
    """``load_file`` on any bytes: a Scene, or a SceneError naming the file and a JSON path."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="thirdspace-fuzz-"))
    path = _scratch / "fuzz.json"
    path.write_bytes(data)
    try:
        scene = load_file(path)
    except SceneError as err:
        expect(bool(err.issues) and all(i.source == path.name and i.path.startswith("$") and i.reason for i in err.issues), str(err))
        return err
    return _check_scene_value(scene, scene.document)


EDIT_STATUSES = {400, 404, 409}


def check_scene_edit(document: dict[str, Any], edit: tuple) -> Any:
    """One curator edit (``("add", node)``, ``("update", node_id, changes)``, ``("remove", node_id)`` or
    ``("text", path, language, text)``) on a valid document: a new document that validates or is refused with
    a SceneError, or an EditError naming a JSON path; the input document is never changed."""
    before = orjson.dumps(document)
    kind, *args = edit
    function = {"add": editing.add_node, "update": editing.update_node, "remove": editing.remove_node, "text": editing.set_text}[kind]
    try:
        result = function(document, *args)
    except editing.EditError as err:
        expect(err.path.startswith("$") and bool(err.message) and err.status in EDIT_STATUSES, f"{err.path} {err.status}")
        result = err
    expect(orjson.dumps(document) == before, f"{kind} changed its input document")
    if isinstance(result, editing.EditError):
        return result
    expect(isinstance(result, dict) and result is not document, "an edit returns a new document")
    return check_scene(result)


# -- recipe parameters -----------------------------------------------------------------------------


def recipe_names() -> list[str]:
    return sorted(RECIPES)


def _check_recipe_error(err: RecipeError, name: str, fields: tuple[str, ...]) -> RecipeError:
    expect(isinstance(err.message, str) and bool(err.message), "a recipe error needs a message")
    expect(err.field in fields or err.field.startswith(("params.", "params[")), f"field {err.field!r}")
    if err.field.startswith("params."):
        parameter = re.split(r"[.\[]", err.field)[1]
        expect(parameter in RECIPES[name].schema["properties"], f"{err.field} names no parameter of {name}")
    return err


def check_recipe_params(name: str, params: Any) -> Any:
    """``Recipe.resolve``: every parameter filled in (given or default), or a RecipeError naming the parameter."""
    recipe = RECIPES[name]
    try:
        resolved = recipe.resolve(params)
    except RecipeError as err:
        return _check_recipe_error(err, name, ("params",))
    properties = recipe.schema["properties"]
    expect(isinstance(resolved, dict) and list(resolved) == list(properties), "resolve fills in every parameter")
    for key, spec in properties.items():
        given = params.get(key, spec["default"]) if params else spec["default"]
        expect(resolved[key] == given, f"{key}: {resolved[key]!r} is neither the given value nor the default")
        if spec.get("type") == "integer":
            expect(type(resolved[key]) is int, f"{key} resolves to {resolved[key]!r}, not an int")
        if spec.get("type") == "number":
            expect(math.isfinite(resolved[key]), f"{key} resolves to {resolved[key]!r}")
    expect(recipe.resolve(resolved) == resolved, "resolving resolved parameters changes nothing")
    return resolved


def check_recipe_build(name: str, params: Any, seed: Any = 0) -> Any:
    """``build_glb``: a GLB the importer accepts, or a RecipeError naming the parameter (or the seed)."""
    try:
        glb = build_glb(name, params, seed, made_by="fuzz", made_at="2024-06-11T00:00:00Z")
    except RecipeError as err:
        return _check_recipe_error(err, name, ("params", "seed"))
    expect(isinstance(glb, bytes), "build_glb returns bytes")
    try:
        check_glb(glb)
    except ImportRefused as err:
        raise ContractViolation(f"the importer refuses what recipe {name} made: {err}") from None
    return glb


# -- asset import ----------------------------------------------------------------------------------


def glb_from_json(document: Any, binary: bytes = b"") -> bytes:
    """GLB bytes holding exactly this JSON and binary chunk (nothing is fixed up, unlike gltf.pack)."""
    text = orjson.dumps(document)
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def zip_bytes(files: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are on purpose
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mPY0hMFAAOSAZvAIiMUAAAAAElFTkSuQmCC"  # 1 x 1 pixel
PNG = base64.b64decode(PNG_BASE64)  # a real image: the import checks decode every image


@cache
def import_seeds() -> dict[str, bytes]:
    """Uploads the importer accepts: recipe GLBs (one animated, one with a sparse accessor) and zipped glTF with files and data URIs."""
    seeds = {
        "plinth.glb": build_glb("plinth", made_at="2024-06-11T00:00:00Z"),
        "astrolabe.glb": build_glb("astrolabe", {"turntable_s": 20.0}, made_at="2024-06-11T00:00:00Z"),
    }
    gltf = unpack(seeds["plinth.glb"])

    # The plinth, its first vertex moved through a sparse accessor.
    document = orjson.loads(orjson.dumps(gltf.document))
    position = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]
    binary = gltf.binary + bytes(-len(gltf.binary) % 4)
    document["bufferViews"] += [
        {"buffer": 0, "byteOffset": len(binary), "byteLength": 4},
        {"buffer": 0, "byteOffset": len(binary) + 4, "byteLength": 12},
    ]
    views = len(document["bufferViews"])
    position["sparse"] = {"count": 1, "indices": {"bufferView": views - 2, "componentType": 5125}, "values": {"bufferView": views - 1}}
    binary += struct.pack("<I3f", 0, 0.0, 0.5, 0.0)
    document["buffers"] = [{"byteLength": len(binary)}]
    seeds["sparse.glb"] = glb_from_json(document, binary)

    # The plinth as a .gltf in a zip: its buffer and one image as files (a space in a name), one image as a data URI.
    document = orjson.loads(orjson.dumps(gltf.document))
    document["buffers"] = [{"uri": "bin/model%20data.bin", "byteLength": len(gltf.binary)}]
    document["images"] = [{"uri": "tex/tile.png"}, {"uri": "data:image/png;base64," + PNG_BASE64}]
    document["samplers"] = [{}]
    document["textures"] = [{"source": 0, "sampler": 0}, {"source": 1}]
    seeds["textured.zip"] = zip_bytes(
        [("model/scene.gltf", orjson.dumps(document)), ("model/bin/model data.bin", gltf.binary), ("model/tex/tile.png", PNG)]
    )

    # Everything inline: the buffer as a data URI, nothing but the .gltf in the zip.
    document["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(gltf.binary).decode()
    document["images"] = document["images"][1:]
    document["textures"] = [{"source": 0}]
    seeds["inline.zip"] = zip_bytes([("scene.gltf", orjson.dumps(document))], zipfile.ZIP_STORED)
    for data in seeds.values():
        check_upload(data)  # the seeds themselves must be accepted
    return seeds


def seed_document(name: str) -> tuple[Any, bytes, dict[str, bytes]]:
    """(glTF JSON, BIN chunk, other files) of an import seed: the parts a mutation changes."""
    data = import_seeds()[name]
    if name.endswith(".glb"):
        gltf = unpack(data)
        return orjson.loads(orjson.dumps(gltf.document)), gltf.binary, {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    gltf_name = next(n for n in files if n.endswith(".gltf"))
    return orjson.loads(files.pop(gltf_name)), b"", {gltf_name: b"", **files}


def rebuild_seed(name: str, document: Any, binary: bytes, files: dict[str, bytes]) -> bytes:
    """The upload again, with a (mutated) document; values orjson cannot write become null."""
    text = orjson.dumps(document, default=lambda _: None)
    if name.endswith(".glb"):
        return glb_from_json(orjson.loads(text), binary)
    return zip_bytes([(n, text if n.endswith(".gltf") else data) for n, data in files.items()])


def check_import(data: bytes, optimise: bool = False) -> Gltf | ImportRefused:
    """``check_upload``: a self-contained glTF that passes the checks again once packed, or ImportRefused naming the field."""
    try:
        gltf = check_upload(data)
    except ImportRefused as err:
        expect(isinstance(err.message, str) and bool(err.message), "a refusal needs a message")
        expect(isinstance(err.field, str) and bool(err.field), "a refusal names the field")
        return err
    expect(isinstance(gltf, Gltf) and isinstance(gltf.document, dict) and isinstance(gltf.binary, bytes), "check_upload returns a Gltf")
    packed = pack(gltf)
    for kind in ("buffers", "images"):
        for item in unpack(packed).document.get(kind, []):
            expect("uri" not in item, f"an accepted upload, packed, still refers to {kind} by URI")
    try:
        again = check_glb(packed)
    except ImportRefused as err:
        raise ContractViolation(f"an accepted upload, packed, is refused: {err}") from None
    if optimise:
        from thirdspace.assets.optimise import build_levels

        build_levels(again)
    return gltf
