"""Machine translation of chat, the service: the backends that do I/O, and a room fan-out.

- ``none`` (the default, :class:`thirdspace.chat.translate.NoTranslator`): nothing is translated.
- ``libretranslate``: any LibreTranslate-compatible server (``POST /translate``,
  ``GET /languages``, optional API key), configured by URL.
- ``argos``: Argos Translate, with the language packages already installed on the machine.

:class:`ChatTranslations` translates each chat line once per language present in
the room (never once per listener), caches results, bounds concurrency, gives up
after a timeout, and runs in tasks of its own so a slow engine never delays a tick.
The interface and the glossary masking it uses are pure and live in :mod:`thirdspace.chat`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp

from thirdspace.chat.glossary import Term, mask, unmask
from thirdspace.chat.translate import NoTranslator, TranslationError, Translator, primary
from thirdspace.metrics import TRANSLATION_SECONDS, TRANSLATIONS

log = logging.getLogger(__name__)


class LibreTranslate:
    """A LibreTranslate-compatible HTTP server."""

    name = "libretranslate"

    def __init__(self, url: str, api_key: str = "", timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self._http

    async def translate(self, text: str, source: str, target: str) -> str:
        body: dict[str, Any] = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        try:
            async with self._session().post(f"{self.url}/translate", json=body) as response:
                if response.status != 200:
                    raise TranslationError(f"{self.url} answered {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            raise TranslationError(f"{self.url}: {exc or type(exc).__name__}") from None
        translated = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(translated, str):
            raise TranslationError(f"{self.url} sent no translatedText")
        return translated

    async def languages(self) -> set[str]:
        try:
            async with self._session().get(f"{self.url}/languages") as response:
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            raise TranslationError(f"{self.url}: {exc or type(exc).__name__}") from None
        return {entry["code"] for entry in data if isinstance(entry, dict) and isinstance(entry.get("code"), str)}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class ArgosTranslator:
    """Argos Translate with the packages installed on this machine (``argospm install translate-en_fr``)."""

    name = "argos"

    def __init__(self):
        try:
            import argostranslate.translate as argos
        except ImportError:
            raise TranslationError("the argos backend needs Argos Translate: pip install argostranslate") from None
        self._argos = argos

    def pairs(self) -> set[tuple[str, str]]:
        pairs = set()
        for language in self._argos.get_installed_languages():
            for translation in getattr(language, "translations_from", []):
                pairs.add((translation.from_lang.code, translation.to_lang.code))
        return pairs

    async def translate(self, text: str, source: str, target: str) -> str:
        if (source, target) not in self.pairs():
            raise TranslationError(f"no installed Argos package translates {source} to {target}")
        return await asyncio.get_running_loop().run_in_executor(None, self._argos.translate, text, source, target)

    async def languages(self) -> set[str]:
        return {code for pair in self.pairs() for code in pair}


def make_translator(backend: str, url: str = "", api_key: str = "", timeout_s: float = 5.0) -> Translator:
    if backend == "none":
        return NoTranslator()
    if backend == "libretranslate":
        if not url:
            raise ValueError("setting translator_url: the libretranslate backend needs the server's URL")
        return LibreTranslate(url, api_key, timeout_s)
    if backend == "argos":
        try:
            return ArgosTranslator()
        except TranslationError as err:
            raise ValueError(f"setting translator: {err}") from None
    raise ValueError(f"setting translator: {backend!r} is not none, libretranslate or argos")


class ChatTranslations:
    """Translations of chat lines for the languages present in a room, off the tick."""

    def __init__(self, translator: Translator, timeout_s: float = 5.0, concurrency: int = 4, cache_size: int = 4096):
        self.translator = translator
        self.timeout_s = timeout_s
        self.semaphore = asyncio.Semaphore(concurrency)
        self.cache: OrderedDict[tuple, str | None] = OrderedDict()
        self.cache_size = cache_size
        self.inflight: dict[tuple, asyncio.Future] = {}
        self.tasks: set[asyncio.Task] = set()
        self.calls = 0  # requests made to the backend

    @property
    def enabled(self) -> bool:
        return not isinstance(self.translator, NoTranslator)

    async def translate(self, text: str, source: str, target: str, glossary: list[Term]) -> tuple[str | None, str]:
        """(translation or None, status): "machine", "failed" or "glossary" (a term would have been mangled)."""
        masked = mask(text, glossary, source)
        key = (masked.text, source, target, tuple(id(term) for term, _ in masked.found))
        if key in self.cache:
            self.cache.move_to_end(key)
            raw = self.cache[key]
        elif key in self.inflight:
            raw = await self.inflight[key]
        else:
            future = asyncio.get_running_loop().create_future()
            self.inflight[key] = future
            raw = None
            try:
                async with self.semaphore:
                    self.calls += 1
                    started = time.perf_counter()
                    raw = await asyncio.wait_for(self.translator.translate(masked.text, source, target), self.timeout_s)
                    TRANSLATION_SECONDS.observe(time.perf_counter() - started)
            except (TranslationError, TimeoutError) as err:
                log.warning("translation %s->%s failed: %s", source, target, err or "timed out")
            finally:
                future.set_result(raw)
                del self.inflight[key]
            self.cache[key] = raw
            if len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
        if raw is None:
            TRANSLATIONS.labels("failed").inc()
            return None, "failed"
        restored = unmask(raw, masked, target)
        if restored is None:
            TRANSLATIONS.labels("glossary").inc()
            return None, "glossary"
        TRANSLATIONS.labels("machine").inc()
        return restored, "machine"

    async def draft(self, texts: list[str], source: str, target: str, glossary: list[Term]) -> list[str | None]:
        """Machine translations of curated texts, in order; None where a glossary term did not come through intact.

        All or nothing: a backend that fails or does not answer within the timeout raises
        :class:`TranslationError` with its reason, and the requests still running are cancelled."""

        async def one(text: str) -> str | None:
            masked = mask(text, glossary, source)
            async with self.semaphore:
                self.calls += 1
                started = time.perf_counter()
                try:
                    raw = await asyncio.wait_for(self.translator.translate(masked.text, source, target), self.timeout_s)
                except TimeoutError:
                    raise TranslationError(f"the translation backend did not answer within {self.timeout_s:g} s") from None
                TRANSLATION_SECONDS.observe(time.perf_counter() - started)
            restored = unmask(raw, masked, target)
            TRANSLATIONS.labels("machine" if restored is not None else "glossary").inc()
            return restored

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(text)) for text in texts]
        except* TranslationError as failed:
            TRANSLATIONS.labels("failed").inc()
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    def fan_out(
        self, message: dict[str, Any], listeners: dict[int, str], glossary: list[Term], deliver: Callable[[list[int], dict[str, Any]], None]
    ) -> asyncio.Task | None:
        """Translate ``message`` once into each listener language and send it to that language's listeners, in the background."""
        if not self.enabled:
            return None
        source = primary(message["language"])
        by_language: dict[str, list[int]] = {}
        for visitor_id, language in listeners.items():
            if visitor_id != message["from"] and primary(language) != source:
                by_language.setdefault(primary(language), []).append(visitor_id)
        if not by_language:
            return None

        async def one(target: str, visitors: list[int]) -> None:
            text, status = await self.translate(message["text"], source, target, glossary)
            update = {"type": "chat_translation", "id": message["id"], "language": target, "status": status, "machine": True}
            if text is not None:
                update["text"] = text
            deliver(visitors, update)

        task = asyncio.create_task(self._all(one(t, v) for t, v in by_language.items()))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    @staticmethod
    async def _all(jobs) -> None:
        await asyncio.gather(*jobs, return_exceptions=True)
