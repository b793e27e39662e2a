"""Scene files against the store: which files changed since their scene was stored, and what changed.

The store is the source of truth once a scene is in it. A file in ``scenes/`` whose content differs
from the scene's draft head and that was modified after that revision was written is *changed*:
``thirdspace scene import FILE`` (or ``serve --reimport-scenes``) brings it in as a new draft revision.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from thirdspace.scenes.editing import diff

IMPORT_AUTHOR = "import"


def changed_since_stored(path: Path, document: dict[str, Any], head: dict[str, Any]) -> bool:
    """True when the file says something else than the draft head ``head`` and was saved after it."""
    if document == head["document"]:
        return False
    written = datetime.fromisoformat(head["created_at"].replace("Z", "+00:00")).timestamp()
    return path.stat().st_mtime > written


def import_message(path: Path) -> str:
    return f"imported from {path.name}"


def describe(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The difference between two documents, one line per change, for a terminal or a log."""
    changes = diff(before, after)
    lines = [line for key, value in changes["scene"].items() for line in _field("  scene ", key, value["from"], value["to"])]
    nodes = changes["nodes"]
    lines += [f"  + node {node_id}" for node_id in nodes["added"]]
    lines += [f"  - node {node_id}" for node_id in nodes["removed"]]
    for node_id, fields in nodes["changed"].items():
        lines += [line for key, value in fields.items() for line in _field(f"  ~ node {node_id} ", key, value["from"], value["to"])]
    return lines


def _field(prefix: str, key: str, before: Any, after: Any) -> list[str]:
    """One line for a field, or one per entry that differs when both sides are objects (texts per language)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            f"{prefix}{key}.{k}: {_short(before.get(k))} -> {_short(after.get(k))}"
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)
        ]
    return [f"{prefix}{key}: {_short(before)} -> {_short(after)}"]


def summary(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The same difference in a few words: which scene fields changed and how many nodes."""
    changes = diff(before, after)
    nodes = changes["nodes"]
    parts = [f"{key} changed" for key in changes["scene"]]
    for label, count in (("added", len(nodes["added"])), ("removed", len(nodes["removed"])), ("changed", len(nodes["changed"]))):
        if count:
            parts.append(f"{count} node{'s' if count > 1 else ''} {label}")
    return ", ".join(parts) or "no change"


def _short(value: Any, limit: int = 60) -> str:
    text = "(none)" if value is None else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
