"""Which languages a scene's overlays and tour stops speak, and what each language still lacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from thirdspace.scenes.editing import text_paths

TEXT_KINDS = ("label", "panel", "narration")


def scene_languages(document: dict[str, Any]) -> list[str]:
    """Every language any text of the scene is written in, and those it declares, the default language first."""
    found: set[str] = set(document["title"]) | set(document.get("description") or {}) | set(document.get("languages", []))
    for holder in (*document["nodes"], *document.get("overlays", []), *document.get("tours", [])):
        for key in ("name", "description", "title", "text"):
            found |= set(holder.get(key) or {})
    for tour in document.get("tours", []):
        for stop in tour["stops"]:
            found |= set(stop.get("title") or {}) | set(stop.get("narration") or {})
    default = document["default_language"]
    return [default, *sorted(found - {default})]


def report(document: dict[str, Any]) -> dict[str, Any]:
    """Per language: overlays without text (or narration without audio or captions) and stops without title or narration.

    A visitor reading a language with gaps sees the default language there, with a note.
    """
    out: dict[str, Any] = {"default_language": document["default_language"], "languages": {}}
    for language in scene_languages(document):
        missing_text, missing_audio, missing_captions, missing_stops = [], [], [], []
        for overlay in document.get("overlays", []):
            if overlay["kind"] in TEXT_KINDS and language not in (overlay.get("text") or {}):
                missing_text.append(overlay["id"])
            if overlay["kind"] == "narration":
                if language not in (overlay.get("audio") or {}):
                    missing_audio.append(overlay["id"])
                if language not in (overlay.get("captions") or {}):
                    missing_captions.append(overlay["id"])
        for tour in document.get("tours", []):
            for stop in tour["stops"]:
                lacks = [key for key in ("title", "narration") if key in stop and language not in stop[key]]
                if lacks:
                    missing_stops.append({"tour": tour["id"], "stop": stop["id"], "missing": lacks})
        out["languages"][language] = {
            "complete": not (missing_text or missing_audio or missing_captions or missing_stops),
            "overlays_without_text": missing_text,
            "narration_without_audio": missing_audio,
            "narration_without_captions": missing_captions,
            "stops_missing": missing_stops,
        }
    return out


def text_counts(document: dict[str, Any], status: Callable[[str, str, str], str | None]) -> dict[str, dict[str, int]]:
    """Per language, how its texts were made: written by a person, machine-translated and approved, pending or
    rejected, or missing.  ``status(path, language, text)`` is a machine translation's review status, None for
    a text no machine made (a person's, or one a person edited)."""
    paths = list(text_paths(document))
    out = {}
    for language in scene_languages(document):
        counts = {"human": 0, "machine_approved": 0, "machine_pending": 0, "machine_rejected": 0, "missing": 0}
        for path, texts in paths:
            text = texts.get(language)
            if not text:
                counts["missing"] += 1
                continue
            made = status(path, language, text)
            counts["human" if made is None else f"machine_{made}"] += 1
        out[language] = counts
    return out
