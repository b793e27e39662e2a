"""Machine translation of chat, the pure part: the Translator interface and the ``none`` backend.

A :class:`Translator` turns text from one language into another (``translate``) and
says which languages it knows (``languages``); ``none`` (the default) translates
nothing, so listeners get the original with its language and quick-chat phrases in
their own language from the curated tables.  The backends that do I/O (LibreTranslate
over HTTP, Argos in a worker thread), ``make_translator`` and the room fan-out
(``ChatTranslations``) live in :mod:`thirdspace.services.translation`.
"""

from __future__ import annotations

from typing import Protocol


class TranslationError(Exception):
    pass


class Translator(Protocol):
    name: str

    async def translate(self, text: str, source: str, target: str) -> str: ...

    async def languages(self) -> set[str]: ...


class NoTranslator:
    name = "none"

    async def translate(self, text: str, source: str, target: str) -> str:
        raise TranslationError("no translation backend is configured")

    async def languages(self) -> set[str]:
        return set()


def primary(language: str) -> str:
    """The primary language subtag, which translation works with: "pt-BR" -> "pt"."""
    return language.split("-")[0].lower()
