"""Curated terms through machine translation: mask them before, restore them after, or give up cleanly.

A scene's glossary lists terms (names of places, dishes, rituals, artefacts) with
their rendering per language, and a flag for terms never to translate. Before a
line goes to a translation engine each term found in it is replaced by a token
(``[[0]]``, ``[[1]]``...); afterwards every token must appear exactly once and is
replaced by the term's rendering in the listener's language. If a token was lost,
duplicated or invented, :func:`unmask` returns None and the listener gets the
original line: never a mangled term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TOKEN = re.compile(r"\[\[(\d+)\]\]")


@dataclass(frozen=True)
class Term:
    renderings: dict[str, str]  # language -> how the term is written in it
    do_not_translate: bool = False

    def render(self, language: str, found: str) -> str:
        if self.do_not_translate:
            return found
        return self.renderings.get(language) or self.renderings.get(language.split("-")[0]) or found


@dataclass(frozen=True)
class Masked:
    text: str
    found: tuple[tuple[Term, str], ...]  # per token: the term and the words it replaced


def parse(entries: list[dict[str, Any]] | None) -> list[Term]:
    return [Term(dict(entry["terms"]), bool(entry.get("do_not_translate"))) for entry in entries or []]


def mask(text: str, glossary: list[Term], language: str) -> Masked:
    """Replace each glossary term written in ``language`` (whole words, any case) by a token; longest terms first."""
    spans: list[tuple[int, int, Term]] = []
    candidates = sorted(
        ((term.renderings.get(language) or term.renderings.get(language.split("-")[0]), term) for term in glossary),
        key=lambda pair: -len(pair[0] or ""),
    )
    for written, term in candidates:
        if not written:
            continue
        boundary = r"(?<!\w)" if written[0].isalnum() else ""
        boundary_end = r"(?!\w)" if written[-1].isalnum() else ""
        for match in re.finditer(boundary + re.escape(written) + boundary_end, text, re.IGNORECASE):
            if not any(match.start() < e and s < match.end() for s, e, _ in spans):
                spans.append((match.start(), match.end(), term))
    spans.sort()
    out: list[str] = []
    found: list[tuple[Term, str]] = []
    cursor = 0
    for start, end, term in spans:
        out.append(text[cursor:start])
        out.append(f"[[{len(found)}]]")
        found.append((term, text[start:end]))
        cursor = end
    out.append(text[cursor:])
    return Masked("".join(out), tuple(found))


def unmask(translated: str, masked: Masked, language: str) -> str | None:
    """The translation with each token replaced by its term, or None if any token is not there exactly once."""
    seen = [int(n) for n in TOKEN.findall(translated)]
    if sorted(seen) != list(range(len(masked.found))):
        return None
    return TOKEN.sub(lambda m: masked.found[int(m.group(1))][0].render(language, masked.found[int(m.group(1))][1]), translated)
