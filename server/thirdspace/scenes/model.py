"""Scene documents: validation against the shipped JSON Schema plus the rules a
schema cannot say (unique node ids, parents that exist and form no cycle, the
default language present, spawn points inside the bounds)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from thirdspace.chat.moderation import clean
from thirdspace.scenes import walk

DEFAULT_CAPACITY = 50
MAX_SPAN_M = 10_000.0  # positions travel as 1/512 m steps: 23 bits an axis at most


@dataclass(frozen=True)
class SceneIssue:
    """One reason a scene document is invalid."""

    source: str  # file name, or "<document>"
    path: str  # JSON path, e.g. "$.nodes[3].position"
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.reason}"


class SceneError(ValueError):
    def __init__(self, issues: list[SceneIssue]):
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Scene:
    """A validated scene document."""

    id: str
    document: dict[str, Any]
    capacity: int
    bounds_min: tuple[float, float, float]
    bounds_max: tuple[float, float, float]
    languages: tuple[str, ...]
    asset_ids: tuple[str, ...] = field(default=())
    blocklist: tuple[str, ...] = field(default=())  # chat rules kept from visitors (the document they get has none)
    walk: walk.WalkGrid | None = field(default=None, compare=False)  # where visitors may stand (built at publish time)
    source: Path | None = field(default=None, compare=False)  # the file it was read from, if any
    made: dict[str, int] | None = field(default=None, compare=False)  # how much of it a machine made (set at publish time)

    @property
    def title(self) -> dict[str, str]:
        return self.document["title"]

    @property
    def chat_blocklist(self) -> tuple[str, ...]:
        """The words kept out of chat and names: the kept rules, else the document's own (a scene file not yet published)."""
        return self.blocklist or tuple(self.document.get("chat", {}).get("blocklist", ()))

    def summary(self) -> dict[str, Any]:
        out = {"id": self.id, "title": self.title, "languages": list(self.languages), "capacity": self.capacity}
        if self.made is not None:
            out["made"] = self.made
        return out


@cache
def schema() -> dict[str, Any]:
    return json.loads(resources.files("thirdspace.scenes").joinpath("scene.schema.json").read_text("utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def _json_path(parts: Iterable[str | int]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def validate(document: Any, source: str = "<document>") -> Scene:
    """Return the Scene, or raise SceneError listing every issue found."""
    issues = [
        SceneIssue(source, _json_path(err.absolute_path), err.message)
        for err in sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
    issues += _check_values(document, source)
    if issues:
        raise SceneError(issues)
    issues += _check_semantics(document, source)
    if issues:
        raise SceneError(issues)
    languages = sorted({lang for text in _texts(document) for lang in text} | set(document.get("languages", [])))
    languages.remove(document["default_language"])
    return Scene(
        id=document["id"],
        document=document,
        capacity=document.get("capacity", DEFAULT_CAPACITY),
        bounds_min=tuple(document["bounds"]["min"]),
        bounds_max=tuple(document["bounds"]["max"]),
        languages=(document["default_language"], *languages),
        asset_ids=tuple(
            sorted(
                {n["asset"] for n in document["nodes"] if "asset" in n} | {o["asset"] for o in document.get("overlays", []) if "asset" in o}
            )
        ),
    )


def _check_values(document: Any, source: str) -> list[SceneIssue]:
    """Every number finite and at most 64 bits, every text valid Unicode: documents go on to visitors as JSON
    (Python's json module reads NaN, Infinity, integers of any size and lone surrogate escapes; orjson sends none of them)."""
    issues: list[SceneIssue] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        reason = None
        if isinstance(value, dict):
            if not all(_is_unicode(key) for key in value if isinstance(key, str)):
                reason = "has a key that is not valid Unicode text (it holds a lone surrogate)"
            stack.extend(((*path, key), item) for key, item in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int) and not -(2**63) <= value < 2**64:
            reason = "is too large a number (at most 64 bits)"
        elif isinstance(value, float) and not math.isfinite(value):
            reason = "must be a finite number"
        elif isinstance(value, str) and not _is_unicode(value):
            reason = "is not valid Unicode text (it holds a lone surrogate)"
        elif isinstance(value, str):
            reason = text_problem(value)
        if reason:
            issues.append(SceneIssue(source, _json_path(path), reason))
    return issues


# Embeddings and overrides (U+202A to U+202E) reorder what follows them for everyone who reads it, up to the end
# of the line a visitor's client puts it in; isolates (U+2066 to U+2069) and marks do what a curator needs, and stay.
_BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")


def text_problem(text: str) -> str | None:
    """Why a text visitors will see cannot be published, like a visitor's chat line (docs/chat.md), or None."""
    found = next((char for char in text if char in _BIDI_OVERRIDES), None)
    if found is not None:
        return f"holds the bidi control U+{ord(found):04X}, which reorders the text around it; use an isolate (U+2066 to U+2069) instead"
    if text and not clean(text):
        return "shows nothing: it holds only spaces, invisible or blank-looking characters"
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _texts(document: dict[str, Any]) -> Iterator[dict[str, str]]:
    yield document["title"]
    if "description" in document:
        yield document["description"]
    for node in document["nodes"]:
        for key in ("name", "description"):
            if key in node:
                yield node[key]


def _check_semantics(doc: dict[str, Any], source: str) -> list[SceneIssue]:
    issues: list[SceneIssue] = []
    if doc["default_language"] not in doc["title"]:
        issues.append(SceneIssue(source, "$.title", f"no title in the default language {doc['default_language']!r}"))
    lo, hi = doc["bounds"]["min"], doc["bounds"]["max"]
    numbers = [*lo, *hi]
    if not all(math.isfinite(v) for v in numbers):
        issues.append(SceneIssue(source, "$.bounds", "bounds must be finite"))
    elif not all(a < b for a, b in zip(lo, hi, strict=True)):
        issues.append(SceneIssue(source, "$.bounds", "every min must be below its max"))
    elif any(b - a > MAX_SPAN_M for a, b in zip(lo, hi, strict=True)):
        issues.append(SceneIssue(source, "$.bounds", f"a scene spans at most {MAX_SPAN_M:g} m on each axis"))
    else:
        for i, spawn in enumerate(doc["spawn_points"]):
            if not all(a <= v <= b for a, v, b in zip(lo, spawn["position"], hi, strict=True)):
                issues.append(SceneIssue(source, f"$.spawn_points[{i}].position", "spawn point is outside the bounds"))
    ids: dict[str, int] = {}
    for i, node in enumerate(doc["nodes"]):
        if node["id"] in ids:
            issues.append(SceneIssue(source, f"$.nodes[{i}].id", f"duplicate node id {node['id']!r}"))
        ids[node["id"]] = i
        rotation = node.get("rotation")
        if rotation is not None and abs(math.sqrt(sum(v * v for v in rotation)) - 1) > 1e-3:
            issues.append(SceneIssue(source, f"$.nodes[{i}].rotation", "rotation must be a unit quaternion"))
    parents = {n["id"]: n.get("parent") for n in doc["nodes"]}
    for i, node in enumerate(doc["nodes"]):
        parent = node.get("parent")
        if parent is None:
            continue
        if parent not in ids:
            issues.append(SceneIssue(source, f"$.nodes[{i}].parent", f"no node with id {parent!r}"))
            continue
        seen = {node["id"]}
        while parent is not None and parent in parents:
            if parent in seen:
                issues.append(SceneIssue(source, f"$.nodes[{i}].parent", "parents form a cycle"))
                break
            seen.add(parent)
            parent = parents[parent]
    issues += _check_tours(doc, source, set(ids))
    issues += [SceneIssue(source, path, reason) for path, reason in walk.check_marks(doc)]
    return issues


def _check_tours(doc: dict[str, Any], source: str, node_ids: set[str]) -> list[SceneIssue]:
    """Anchors, overlays and tours refer to things that exist, and ids are unique."""
    issues: list[SceneIssue] = []
    anchors = [a["id"] for a in doc.get("anchors", [])]
    for i, anchor in enumerate(anchors):
        if anchor in anchors[:i]:
            issues.append(SceneIssue(source, f"$.anchors[{i}].id", f"duplicate anchor id {anchor!r}"))
    stops = {stop["id"] for tour in doc.get("tours", []) for stop in tour["stops"]}
    overlay_ids: list[str] = []
    for i, overlay in enumerate(doc.get("overlays", [])):
        path = f"$.overlays[{i}]"
        if overlay["id"] in overlay_ids:
            issues.append(SceneIssue(source, f"{path}.id", f"duplicate overlay id {overlay['id']!r}"))
        overlay_ids.append(overlay["id"])
        at = overlay["at"]
        if "node" in at and at["node"] not in node_ids:
            issues.append(SceneIssue(source, f"{path}.at.node", f"no node {at['node']!r}"))
        if "anchor" in at and at["anchor"] not in anchors:
            issues.append(SceneIssue(source, f"{path}.at.anchor", f"no anchor {at['anchor']!r}"))
        stop = overlay.get("trigger", {}).get("stop")
        if stop is not None and stop not in stops:
            issues.append(SceneIssue(source, f"{path}.trigger.stop", f"no tour stop {stop!r}"))
        needs = {"label": "text", "panel": "text", "narration": "text", "reconstruction": "asset", "path": "points"}[overlay["kind"]]
        if needs not in overlay:
            issues.append(SceneIssue(source, f"{path}.{needs}", f"a {overlay['kind']} needs {needs}"))
    tour_ids: list[str] = []
    for t, tour in enumerate(doc.get("tours", [])):
        if tour["id"] in tour_ids:
            issues.append(SceneIssue(source, f"$.tours[{t}].id", f"duplicate tour id {tour['id']!r}"))
        tour_ids.append(tour["id"])
        seen: list[str] = []
        for s, stop in enumerate(tour["stops"]):
            if stop["id"] in seen:
                issues.append(SceneIssue(source, f"$.tours[{t}].stops[{s}].id", f"duplicate stop id {stop['id']!r}"))
            seen.append(stop["id"])
            for k, overlay in enumerate(stop.get("overlays", [])):
                if overlay not in overlay_ids:
                    issues.append(SceneIssue(source, f"$.tours[{t}].stops[{s}].overlays[{k}]", f"no overlay {overlay!r}"))
    return issues


def load_file(path: Path) -> Scene:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneError([SceneIssue(path.name, "$", f"cannot read: {exc}")]) from None
    except json.JSONDecodeError as exc:
        raise SceneError([SceneIssue(path.name, "$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise SceneError([SceneIssue(path.name, "$", f"invalid JSON: {exc}")]) from None
    except RecursionError:
        raise SceneError([SceneIssue(path.name, "$", "invalid JSON: nested too deeply")]) from None
    return dataclasses.replace(validate(document, path.name), source=path)


def load_directory(directory: Path) -> tuple[dict[str, Scene], list[SceneIssue]]:
    """Load every ``*.json`` scene; invalid files are reported, not fatal."""
    scenes: dict[str, Scene] = {}
    issues: list[SceneIssue] = []
    for path in sorted(directory.glob("*.json")):
        try:
            scene = load_file(path)
        except SceneError as err:
            issues.extend(err.issues)
            continue
        if scene.id in scenes:
            issues.append(SceneIssue(path.name, "$.id", f"scene id {scene.id!r} is already used by another file"))
            continue
        scenes[scene.id] = scene
    return scenes, issues
