"""Chat moderation, pure: cleaning text for display and matching it against a blocklist.

:func:`clean` makes a line (or a visitor's name) safe to show: Unicode NFC, no
bidirectional controls or other default-ignorable characters (the ones that hide or
reorder text), at most a few combining marks on one letter (no "zalgo"), no control
characters; and nothing at all when what is left only looks blank (Hangul fillers,
the Braille blank, spaces of every width).

:class:`Blocklist` matches words, not letters: each word of a line is normalised
(:func:`match_key`: NFKC, case folding, generic accents removed, tatweel and small
capitals folded, the common letter-for-digit swaps) and compared with the entries.
A word that mixes scripts ("idiօt" with an Armenian օ, "bаdword" with a Cyrillic а)
is also compared through its confusable skeleton (Unicode TR 39, from the
``confusable_homoglyphs`` data), so look-alike letters from another script meet the
entry. A word written wholly in one script is never compared through the skeleton:
a Russian or Greek word that merely looks like a blocked English one is left alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable

from confusable_homoglyphs import categories as _categories  # type: ignore[import-untyped]
from confusable_homoglyphs import confusables as _confusables

MAX_COMBINING = 3  # combining marks kept on one base character
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
JOINERS = set("\u200c\u200d")  # kept only inside a word (Persian, Indic scripts and emoji need them)
SELECTORS = {chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0), 0x180B, 0x180C, 0x180D, 0x180F)}
TAGS = {chr(c) for c in range(0xE0020, 0xE0080)}  # emoji tag sequences (the flags of England, Scotland, Wales)
JAMO_FILLERS = set("\u115f\u1160")  # kept inside a sequence of conjoining Hangul jamo, where they belong

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that show nothing.
DEFAULT_IGNORABLE = {
    chr(c)
    for start, end in (
        (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
        (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
        (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    )
    for c in range(start, end + 1)
}  # fmt: skip
# Shown as empty space, though not ignorable: a line (or name) of nothing but these is empty.
BLANK_LOOKING = set("\u2800\u3164\uffa0\u115f\u1160\u180e\U0001d159") | {
    chr(c) for c in range(0x10000) if chr(c).isspace() or unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp")
}
_BLANK_ENDS = "".join(sorted(BLANK_LOOKING))  # stripped from both ends of a line
ALWAYS_REMOVED = (DEFAULT_IGNORABLE - JOINERS - SELECTORS - TAGS - JAMO_FILLERS) | set("\u3164\uffa0")

ACCENTED = {"LATIN", "GREEK", "CYRILLIC", "ARABIC", "COMMON"}  # scripts whose generic combining marks are accents
TATWEEL = "\u0640"  # Arabic elongation: stretches a word without changing it
DIGIT_SWAPS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "|": "l"})

# -- scripts (Unicode Scripts.txt, as the confusable_homoglyphs package ships it) -------------------

_SCRIPT_DATA = _categories.categories_data
_RANGES: list[list[int]] = _SCRIPT_DATA["code_points_ranges"]  # [first, last, script index, category index]
_STARTS = [r[0] for r in _RANGES]
_SCRIPT_NAMES: list[str] = _SCRIPT_DATA["iso_15924_aliases"]
NEUTRAL = {"COMMON", "INHERITED", "Unknown"}  # punctuation, digits, generic marks: no script of their own
# Scripts written without spaces between words: a blocked term is looked for inside their runs.
NO_SPACES = {"CJK", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN", "TAI_THAM", "TAI_LE", "NEW_TAI_LUE", "BALINESE", "JAVANESE", "YI"}
_CJK = {"HAN", "HIRAGANA", "KATAKANA", "BOPOMOFO"}  # one writing system: Japanese and Chinese mix them in a word


@functools.lru_cache(maxsize=8192)
def script(char: str) -> str:
    """The Unicode script of one character, in upper case ("LATIN", "CYRILLIC", "COMMON", ...)."""
    code = ord(char)
    if code < 0x80:
        return "LATIN" if char.isalpha() else "COMMON"
    i = bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= _RANGES[i][1]:
        return _SCRIPT_NAMES[_RANGES[i][2]]
    return "Unknown"


@functools.lru_cache(maxsize=16384)
def _scripts(word: str) -> frozenset[str]:
    """The scripts a word is written in, Han counted with the scripts it is written beside (TR 39's script sets)."""
    if word.isascii():
        return _LATIN if any(c.isalpha() for c in word) else frozenset()
    found = frozenset(script(c) for c in word) - NEUTRAL
    if "HAN" in found and len(found) > 1 and (found <= _JAPANESE or found in _WITH_HAN):
        return _HAN
    if found and found <= _JAPANESE:
        return _HIRAGANA
    return found


_LATIN, _HAN, _HIRAGANA = frozenset({"LATIN"}), frozenset({"HAN"}), frozenset({"HIRAGANA"})
_JAPANESE = frozenset({"HAN", "HIRAGANA", "KATAKANA"})
_WITH_HAN = (frozenset({"HAN", "HANGUL"}), frozenset({"HAN", "BOPOMOFO"}))
_UNSPACED = (NO_SPACES - {"CJK"}) | _CJK  # the scripts of NO_SPACES, as script() names them


def _script_runs(word: str) -> list[tuple[str, str]]:
    """The word cut where its script changes: (script, run); neutral characters stay with their neighbours."""
    runs: list[tuple[str, str]] = []
    current, start = "COMMON", 0
    for i, char in enumerate(word):
        name = script(char)
        if name in NEUTRAL or name == current:
            continue
        name = "CJK" if name in _CJK else name
        if name == current:
            continue
        if current not in NEUTRAL:
            runs.append((current, word[start:i]))
            start = i
        current = name
    runs.append((current, word[start:]))
    return runs


# -- the confusable skeleton (Unicode TR 39) ----------------------------------------------------


def _skeleton_table() -> dict[int, str]:
    """Each confusable character to the one its TR 39 class is written as (its prototype).

    The package keeps the table both ways round (each character with its look-alikes);
    every class is a prototype and the characters mapped to it, so a character with
    several look-alikes is a prototype, and one with a single look-alike maps to it
    (for a pair, the ASCII or Latin one of the two stands for both)."""

    def plain(text: str) -> str:
        return text.replace("\u200e", "").replace("\u200f", "")

    data = {plain(k): [plain(e["c"]) for e in v] for k, v in _confusables.confusables_data.items()}

    def rank(char: str) -> tuple[bool, bool, str]:
        return (not char.isascii(), script(char) != "LATIN", char)

    table: dict[int, str] = {}
    for source, targets in data.items():
        if len(source) != 1 or len(targets) != 1:
            continue
        target = targets[0]
        if len(target) == 1 and len(data.get(target, ())) == 1:  # a pair: either could be the prototype
            target = min(source, target, key=rank)
        if target != source:
            table[ord(source)] = target
    return table


SKELETON = _skeleton_table()


def _latin_folds() -> dict[int, str]:
    """Latin letters that only stand in for a plain one: small capitals (ɪᴅɪᴏᴛ), dotless ı, the IPA's a, g and iota.

    Letters that languages write with (Ewe's ɣ and ʋ, Akan's ɛ and ɔ) are left as they are."""
    folds = {ord("ı"): "i", ord("ɑ"): "a", ord("ɡ"): "g", ord("ɩ"): "i"}
    for code in (*range(0x0250, 0x0300), *range(0x1D00, 0x1DC0), *range(0xA720, 0xA800), *range(0xAB30, 0xAB70)):
        name = unicodedata.name(chr(code), "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name) == len("LATIN LETTER SMALL CAPITAL X"):
            folds[code] = name[-1].lower()
    return folds


LATIN_FOLDS = _latin_folds()


@functools.lru_cache(maxsize=16384)
def skeleton(word: str) -> str:
    """A word's confusable skeleton (TR 39), folded the way :func:`match_key` folds words."""
    text = unicodedata.normalize("NFD", word).translate(SKELETON)
    return unicodedata.normalize("NFC", text).casefold().translate(LATIN_FOLDS)


# -- cleaning -----------------------------------------------------------------------------------


def clean(text: str) -> str:
    """The line as it may be stored and shown (see the module docstring); "" when nothing visible is left."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    marks = 0
    for i, char in enumerate(text):
        if char in ALWAYS_REMOVED:
            continue
        before = out[-1] if out else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if char in JOINERS and not (_wordlike(before) and _wordlike(after)):
            continue
        if char in SELECTORS and (not before or before in BLANK_LOOKING or unicodedata.category(before)[0] in "CZ"):
            continue  # a variation selector chooses how the character before it looks: nothing to choose here
        if char in TAGS and not (before == "\U0001f3f4" or before in TAGS):
            continue
        if char == "\U000e007f" and before not in TAGS:
            continue
        if char in JAMO_FILLERS and not (_jamo(before) or _jamo(after)):
            continue
        category = unicodedata.category(char)
        if category.startswith("M"):
            marks += 1
            if marks > MAX_COMBINING:
                continue
        else:
            marks = 0
        if category in ("Cc", "Cf") and char not in JOINERS and char not in TAGS and char != "\t":
            continue
        out.append(char)
    cleaned = unicodedata.normalize("NFC", "".join(out)).strip(_BLANK_ENDS)
    return "" if is_blank(cleaned) else cleaned


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only whitespace, default-ignorable and blank-looking characters."""
    return all(char in BLANK_LOOKING or char in DEFAULT_IGNORABLE for char in text)


def _wordlike(char: str) -> bool:
    if not char or char.isascii():
        return False
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "So"  # letters, marks, emoji


def _jamo(char: str) -> bool:
    return bool(char) and (0x1100 <= ord(char) <= 0x11FF or 0xA960 <= ord(char) <= 0xA97F or 0xD7B0 <= ord(char) <= 0xD7FF)


# -- matching -----------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """NFKC, case-folded, no default-ignorables or tatweel, accents removed, digits swapped for letters.

    Accents are the generic combining marks on Latin, Greek, Cyrillic and Arabic letters
    (Arabic's vowel points among them); the vowel signs of Devanagari or Thai and the
    Japanese voicing marks are part of their words and stay."""
    if text.isascii():
        return text.lower().translate(DIGIT_SWAPS)
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold()).translate(_DROPPED)
    if {script(c) for c in set(text)} <= ACCENTED | NEUTRAL:
        text = text.translate(_DROPPED_MARKS)  # every generic mark here is an accent
    else:
        text = _GENERIC_MARKS.sub(_unaccented, text)
    return unicodedata.normalize("NFC", text).translate(LATIN_FOLDS).translate(DIGIT_SWAPS)


def _unaccented(found: re.Match[str]) -> str:
    return found[1] if script(found[1]) in ACCENTED else found[0]


_DROPPED = dict.fromkeys(map(ord, DEFAULT_IGNORABLE | {TATWEEL}))
_MARKS = "".join(  # the combining marks of no script of their own (none is special in a regex class)
    chr(c)
    for first, last, index, _ in _RANGES
    if _SCRIPT_NAMES[index] == "INHERITED"
    for c in range(first, last + 1)
    if unicodedata.category(chr(c))[0] == "M"
)
_DROPPED_MARKS = dict.fromkeys(map(ord, _MARKS))
_GENERIC_MARKS = re.compile(f"([^{_MARKS}])([{_MARKS}]+)")  # a character and the generic marks on it


def _words(text: str) -> list[str]:
    """The words of normalised text: runs of letters, marks and digits."""
    if text.isascii():
        return "".join(c if c.isalnum() else " " for c in text).split()
    return "".join(c if c.isalnum() or unicodedata.category(c)[0] == "M" else " " for c in text).split()


def match_key(text: str) -> str:
    """The normalised form words are compared on: words separated by single spaces (a word that mixes scripts by its skeleton)."""
    return " ".join(skeleton(w) if len(_scripts(w)) > 1 else w for w in _words(_normal(text)))


class Blocklist:
    """Terms a scene's curators do not want in its rooms, in any language."""

    def __init__(self, terms: Iterable[str]):
        keys = [_term(term) for term in terms]
        self.terms = {words for words, _ in keys if words}  # each term as its words
        self.words = {" ".join(t) for t in self.terms}
        self.squeezed = {"".join(t) for t in self.terms if len("".join(t)) >= 4}
        self.whole = self.words | self.squeezed  # a single word, or the words of a term run together
        self.lengths = {len(t) for t in self.terms}
        self.skeletons = {s for words, skeletons in keys if words for s in skeletons}

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, text: str) -> bool:
        if not self.terms:
            return False
        tokens = _words(_normal(text))
        if not tokens:
            return False
        padded = f" {' '.join(tokens)} "
        if any(f" {word} " in padded for word in self.whole):
            return True
        if any(a + b in self.squeezed for a, b in zip(tokens, tokens[1:], strict=False)):  # "bad-word", "bad word"
            return True
        scripts = [_scripts(token) for token in tokens]
        skeletons = [skeleton(token) for token in tokens] if any(len(s) > 1 for s in scripts) else []
        for i, token in enumerate(tokens):
            if len(scripts[i]) > 1 and self._disguised(skeletons, i):
                return True
            if scripts[i] & _UNSPACED and self._inside_runs(token):
                return True
        # Spelt out with spaces or dots between the letters ("b a d w o r d", "і d і о t").
        spelt: list[str] = []
        for token in [*tokens, ""]:
            if len(token) == 1:
                spelt.append(token)
                continue
            run, spelt = "".join(spelt), []
            if len(run) > 1 and any(term in run for term in self.whole):
                return True
            if len(run) > 1 and len(_scripts(run)) > 1 and any(term in skeleton(run) for term in self.skeletons):
                return True
            if _scripts(run) & _UNSPACED and self._inside_runs(run):
                return True
        return False

    def _disguised(self, skeletons: list[str], i: int) -> bool:
        """Whether the words around word ``i``, one that mixes scripts, spell a term: compared by their skeletons."""
        for n in self.lengths:
            for start in range(max(0, i - n + 1), min(i, len(skeletons) - n) + 1):
                if " ".join(skeletons[start : start + n]) in self.skeletons:
                    return True
        pairs = [skeletons[i - 1] + skeletons[i]] if i else []
        pairs += [skeletons[i] + skeletons[i + 1]] if i + 1 < len(skeletons) else []
        return any(pair in self.skeletons for pair in pairs)

    def _inside_runs(self, token: str) -> bool:
        """A word with text in a script written without spaces: a term inside such a run, or a whole run that is one."""
        for name, run in _script_runs(token):
            if run in self.whole:
                return True
            if name in NO_SPACES and any(term in run for term in self.whole):
                return True
        return False


@functools.lru_cache(maxsize=8192)
def _term(term: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A blocklist entry as its words, and the skeletons it is compared by in words that mix scripts."""
    words = tuple(_words(_normal(term)))
    squeezed = "".join(words)
    return words, (skeleton(" ".join(words)), *((skeleton(squeezed),) if len(squeezed) >= 4 else ()))


@functools.lru_cache(maxsize=256)
def blocklist_of(terms: tuple[str, ...]) -> Blocklist:
    """The (shared, cached) blocklist of a scene's terms."""
    return Blocklist(terms)
