"""Quick chat: common phrases sent by id, shown to each listener from curated per-language tables.

Exact and instant, with no translation engine. A phrase may name a thing in the
scene (``{thing}``): the listener's page fills in that node's name in their own
language, from the scene document.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def phrases() -> dict[str, dict[str, str]]:
    return json.loads(resources.files("thirdspace.chat").joinpath("phrases.json").read_text("utf-8"))


def needs_thing(phrase: str) -> bool:
    return "{thing}" in phrases()[phrase]["en"]


def render(phrase: str, language: str, thing: str = "") -> str:
    table = phrases()[phrase]
    template = table.get(language) or table.get(language.split("-")[0]) or table["en"]
    return template.replace("{thing}", thing)


def node_name(document: dict[str, Any], node_id: str, language: str) -> str:
    node = next(n for n in document["nodes"] if n["id"] == node_id)
    names = node.get("name") or {}
    return names.get(language) or names.get(language.split("-")[0]) or names.get(document["default_language"]) or node_id
