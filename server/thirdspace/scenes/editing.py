"""Edits to scene documents, diffs between revisions, and what visitors may see.

Pure functions on plain documents: each edit returns a new document (the input is
never changed) and raises :class:`EditError` naming the JSON path it refuses.
The caller validates the result with :func:`thirdspace.scenes.model.validate`.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

NODE_FIELDS = {"id", "asset", "parent", "position", "rotation", "scale", "name", "description"}
TEXT_FIELDS = ("name", "description")


class EditError(ValueError):
    def __init__(self, path: str, message: str, status: int = 400):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.status = status


def _node_index(document: dict[str, Any], node_id: str) -> int:
    for i, node in enumerate(document["nodes"]):
        if node["id"] == node_id:
            return i
    raise EditError("$.nodes", f"no node {node_id!r}", 404)


def add_node(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(node) - NODE_FIELDS)
    if unknown:
        raise EditError(f"$.{unknown[0]}", f"unknown node field; known: {', '.join(sorted(NODE_FIELDS))}")
    if any(existing["id"] == node.get("id") for existing in document["nodes"]):
        raise EditError("$.id", f"there is already a node {node.get('id')!r}", 409)
    out = copy.deepcopy(document)
    out["nodes"].append(copy.deepcopy(node))
    return out


def update_node(document: dict[str, Any], node_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Move, rotate, scale, reparent, re-asset or retitle a node; ``None`` removes an optional field."""
    unknown = sorted(set(changes) - (NODE_FIELDS - {"id"}))
    if unknown:
        raise EditError(f"$.{unknown[0]}", f"cannot change this field; changeable: {', '.join(sorted(NODE_FIELDS - {'id'}))}")
    out = copy.deepcopy(document)
    node = out["nodes"][_node_index(out, node_id)]
    for key, value in changes.items():
        if value is None:
            node.pop(key, None)
        elif key in TEXT_FIELDS and isinstance(value, dict) and isinstance(node.get(key), dict):
            merged = {**node[key], **value}  # per-language edits; a null removes that language
            node[key] = {lang: text for lang, text in merged.items() if text is not None}
            if not node[key]:
                del node[key]
        else:
            node[key] = copy.deepcopy(value)
    return out


def remove_node(document: dict[str, Any], node_id: str) -> dict[str, Any]:
    """Remove a node, everything under it, and the overlays placed on them."""
    _node_index(document, node_id)
    doomed = {node_id}
    grew = True
    while grew:
        before = len(doomed)
        doomed |= {n["id"] for n in document["nodes"] if n.get("parent") in doomed}
        grew = len(doomed) > before
    out = copy.deepcopy(document)
    out["nodes"] = [n for n in out["nodes"] if n["id"] not in doomed]
    # Overlays placed on those nodes go with them, and so do tour stops' mentions of those overlays.
    gone = {o["id"] for o in out.get("overlays", []) if o["at"].get("node") in doomed}
    if gone:
        out["overlays"] = [o for o in out["overlays"] if o["id"] not in gone]
        for tour in out.get("tours", []):
            for stop in tour["stops"]:
                if "overlays" in stop:
                    stop["overlays"] = [o for o in stop["overlays"] if o not in gone]
    return out


def text_paths(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, texts) for every multilingual text: title, description, nodes.ID.name, nodes.ID.description."""
    for key in ("title", "description"):
        if isinstance(document.get(key), dict):
            yield key, document[key]
    for node in document["nodes"]:
        for key in TEXT_FIELDS:
            if isinstance(node.get(key), dict):
                yield f"nodes.{node['id']}.{key}", node[key]
    for overlay in document.get("overlays", []):
        for key in ("title", "text"):
            if isinstance(overlay.get(key), dict):
                yield f"overlays.{overlay['id']}.{key}", overlay[key]
    for tour in document.get("tours", []):
        yield f"tours.{tour['id']}.title", tour["title"]
        for stop in tour["stops"]:
            for key in ("title", "narration"):
                if isinstance(stop.get(key), dict):
                    yield f"tours.{tour['id']}.stops.{stop['id']}.{key}", stop[key]


def missing_texts(document: dict[str, Any], source: str, target: str, scope: str = "") -> list[tuple[str, str]]:
    """(path, text in ``source``) for every text under ``scope`` (a path or its start, such as ``nodes.pagoda``;
    empty for the whole scene) that is written in ``source`` and not yet in ``target``."""
    return [
        (path, texts[source])
        for path, texts in text_paths(document)
        if (not scope or under(path, scope)) and texts.get(source) and target not in texts
    ]


def under(path: str, scope: str) -> bool:
    """Whether a text path is ``scope`` itself or lies under it (``nodes.pagoda.name`` under ``nodes.pagoda``)."""
    return path == scope or path.startswith(scope + ".")


def set_text(document: dict[str, Any], path: str, language: str, text: str | None) -> dict[str, Any]:
    out = copy.deepcopy(document)
    parts = path.split(".")
    if parts in (["title"], ["description"]):
        holder, key = out, parts[0]
    elif len(parts) == 3 and parts[0] == "nodes" and parts[2] in TEXT_FIELDS:
        holder, key = out["nodes"][_node_index(out, parts[1])], parts[2]
    elif len(parts) == 3 and parts[0] == "overlays" and parts[2] in ("title", "text"):
        holder, key = _find(out.get("overlays", []), parts[1], "$.path"), parts[2]
    elif len(parts) == 3 and parts[0] == "tours" and parts[2] == "title":
        holder, key = _find(out.get("tours", []), parts[1], "$.path"), "title"
    elif len(parts) == 5 and parts[0] == "tours" and parts[2] == "stops" and parts[4] in ("title", "narration"):
        holder, key = _find(_find(out.get("tours", []), parts[1], "$.path")["stops"], parts[3], "$.path"), parts[4]
    else:
        raise EditError(
            "$.path",
            "a text path is title, description, nodes.NODE.name|description, overlays.OVERLAY.title|text, "
            "tours.TOUR.title or tours.TOUR.stops.STOP.title|narration",
        )
    texts = dict(holder.get(key) or {})
    if text is None:
        texts.pop(language, None)
    else:
        texts[language] = text
    if texts:
        holder[key] = texts
    else:
        holder.pop(key, None)
    return out


def _find(items: list[dict[str, Any]], item_id: str, path: str) -> dict[str, Any]:
    for item in items:
        if item["id"] == item_id:
            return item
    raise EditError(path, f"no {item_id!r}", 404)


def text_subject(scene_id: str, path: str, language: str, text: str) -> str:
    """The review-queue subject of one text in one language (changing the text makes a new subject)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{scene_id}:{path}:{language}:{digest}"


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed between two documents: scene fields, and nodes added, removed and changed (field by field)."""
    scene = {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted((set(before) | set(after)) - {"nodes"})
        if before.get(key) != after.get(key)
    }
    old = {n["id"]: n for n in before["nodes"]}
    new = {n["id"]: n for n in after["nodes"]}
    changed = {}
    for node_id in sorted(old.keys() & new.keys()):
        fields = {
            key: {"from": old[node_id].get(key), "to": new[node_id].get(key)}
            for key in sorted(set(old[node_id]) | set(new[node_id]))
            if old[node_id].get(key) != new[node_id].get(key)
        }
        if fields:
            changed[node_id] = fields
    return {
        "scene": scene,
        "nodes": {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()), "changed": changed},
    }


def visitor_view(
    document: dict[str, Any], asset_visible: Callable[[str], bool], text_review: Callable[[str, str, str], str | None]
) -> dict[str, Any]:
    """The document visitors receive: nodes keep their place but lose assets not approved for them, and
    machine-translated texts a person has not approved are left out (the default-language title is always
    kept).  ``text_review(path, language, text)`` is a text's review status, None for one no machine made;
    the approved machine translations are listed in ``machine_translated`` (path -> languages) for marking."""
    out = copy.deepcopy(document)
    out.get("chat", {}).pop("blocklist", None)  # the room applies it; visitors do not get the list
    out.pop("machine_translated", None)  # only the review queue says what a machine made
    for node in out["nodes"]:
        if "asset" in node and not asset_visible(node["asset"]):
            del node["asset"]
    hidden = {o["id"] for o in out.get("overlays", []) if "asset" in o and not asset_visible(o["asset"])}
    if hidden:  # a reconstruction no person has approved is left out, and so are the stops' mentions of it
        out["overlays"] = [o for o in out["overlays"] if o["id"] not in hidden]
        for tour in out.get("tours", []):
            for stop in tour["stops"]:
                if "overlays" in stop:
                    stop["overlays"] = [o for o in stop["overlays"] if o not in hidden]
    machine: dict[str, list[str]] = {}
    for path, texts in list(text_paths(out)):
        for language, text in list(texts.items()):
            status = text_review(path, language, text)
            if status == "approved":
                machine.setdefault(path, []).append(language)
            elif status is not None and not (path == "title" and language == out["default_language"]):
                del texts[language]
    stops = [stop for tour in out.get("tours", []) for stop in tour["stops"]]
    for holder in (out, *out["nodes"], *out.get("overlays", []), *out.get("tours", []), *stops):
        for key in ("description", "text", "narration", *TEXT_FIELDS, "title"):
            if not isinstance(holder.get(key), dict) or holder[key]:
                continue
            if key == "title" and (holder in out.get("tours", []) or holder in stops):
                holder[key] = {out["default_language"]: holder["id"]}  # a tour or a stop keeps a title
            elif not (key == "title" and holder is out):
                del holder[key]
    if machine:
        out["machine_translated"] = {path: sorted(languages) for path, languages in machine.items()}
    return out


def machine_share(view: dict[str, Any], generated: dict[str, bool]) -> dict[str, int]:
    """How much of what visitors get a machine made: the objects (nodes with an asset) and how many of those
    assets are generated, and the texts (one per path and language) and how many are machine translations."""
    objects = [node["asset"] for node in view["nodes"] if "asset" in node]
    texts = sum(len(texts) for _, texts in text_paths(view))
    return {
        "objects": len(objects),
        "generated_objects": sum(1 for asset_id in objects if generated.get(asset_id)),
        "texts": texts,
        "machine_texts": sum(len(languages) for languages in view.get("machine_translated", {}).values()),
    }
