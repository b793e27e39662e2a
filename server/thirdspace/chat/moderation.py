"""Chat moderation, pure: cleaning text for display and matching it against a blocklist.

:func:`clean` makes a line safe to show: Unicode NFC, no bidirectional controls or
stray zero-width characters (the ones that hide or reorder text), at most a few
combining marks on one letter (no "zalgo"), no control characters.

:func:`match_key` turns text into the key the blocklist is matched on, so that
"B4DW0RD", "ｂａｄｗｏｒｄ", "bаdword" (a Cyrillic a) and "b a d w o r d" all meet
the entry "badword": NFKC, case folding, no accents, a confusable skeleton and the
common letter-for-digit swaps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_COMBINING = 3  # combining marks kept on one base character
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ALWAYS_INVISIBLE = set("\u200b\u2060\ufeff\u180e\u00ad")
JOINERS = set("\u200c\u200d")  # kept only inside a word (Persian, Indic scripts and emoji need them)

# A confusable skeleton for the letters most used to dodge filters (Unicode TR 39 has the full table).
CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "ω": "w", "ℓ": "l",
    }
)  # fmt: skip
DIGIT_SWAPS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "|": "l"})
SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def clean(text: str) -> str:
    """The line as it may be stored and shown (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    marks = 0
    for i, char in enumerate(text):
        if char in BIDI_CONTROLS or char in ALWAYS_INVISIBLE:
            continue
        if char in JOINERS:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if not (_wordlike(before) and _wordlike(after)):
                continue
        category = unicodedata.category(char)
        if category.startswith("M"):
            marks += 1
            if marks > MAX_COMBINING:
                continue
        else:
            marks = 0
        if category in ("Cc", "Cf") and char not in JOINERS and char not in "\t":
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out)).strip()


def _wordlike(char: str) -> bool:
    if not char or char.isascii():
        return False
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "So"  # letters, marks, emoji


def match_key(text: str) -> str:
    """The normalised form the blocklist compares: words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.category(c).startswith("M"))
    text = text.translate(CONFUSABLES).translate(DIGIT_SWAPS)
    return SEPARATORS.sub(" ", text).strip()


class Blocklist:
    """Terms a scene's curators do not want in its rooms, in any language."""

    def __init__(self, terms: Iterable[str]):
        keys = {match_key(term) for term in terms}
        self.words = {key for key in keys if key}
        self.squeezed = {key.replace(" ", "") for key in self.words if len(key.replace(" ", "")) >= 4}

    def __bool__(self) -> bool:
        return bool(self.words)

    def matches(self, text: str) -> bool:
        key = match_key(text)
        if not key or not self.words:
            return False
        padded = f" {key} "
        if any(f" {word} " in padded for word in self.words | self.squeezed):
            return True
        tokens = key.split(" ")
        if any(a + b in self.squeezed for a, b in zip(tokens, tokens[1:], strict=False)):  # "bad-word", "bad word"
            return True
        # Spelt out with spaces or dots between the letters ("b a d w o r d"), or inside a run of a script
        # written without spaces (Chinese, Japanese, Thai): look inside those runs only, so that ordinary
        # words that happen to contain a term are left alone.
        runs, spelt = [], []
        for token in key.split(" "):
            if len(token) == 1:
                spelt.append(token)
                continue
            if spelt:
                runs.append("".join(spelt))
                spelt = []
            if any(ord(c) >= 0x0E00 for c in token):
                runs.append(token)
        runs.append("".join(spelt))
        return any(term in run for run in runs for term in self.squeezed | self.words)
