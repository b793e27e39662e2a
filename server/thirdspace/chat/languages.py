"""Which language a line is in: an offline identifier (py3langid, its model in the wheel), for flagging only.

The sender's chosen language is the source of every line; the identifier only
says when a line looks like another of the room's languages. Short lines are not
judged: a few words are too little to tell.
"""

from __future__ import annotations

from functools import cache

MIN_CHARS = 20  # shorter lines are not judged
MIN_CONFIDENCE = 0.9


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return identifier, frozenset(identifier.nb_classes)  # set_languages narrows nb_classes: keep the full list


def mismatch(text: str, declared: str, room_languages: set[str]) -> str | None:
    """The room language a line seems to be in when it is not the declared one, else None."""
    declared = declared.split("-")[0].lower()
    candidates = sorted({language.split("-")[0].lower() for language in room_languages} | {declared})
    if len(text) < MIN_CHARS or len(candidates) < 2:
        return None
    identifier, supported = _identifier()
    known = [language for language in candidates if language in supported]
    if declared not in known or len(known) < 2:
        return None
    identifier.set_languages(known)
    language, confidence = identifier.classify(text)
    return language if language != declared and confidence >= MIN_CONFIDENCE else None
