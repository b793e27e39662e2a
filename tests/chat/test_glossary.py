"""Glossary masking: curated terms come through machine translation exactly, or the original is kept."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from thirdspace.chat.glossary import Term, mask, unmask

CARAVANSERAI = Term({"en": "caravanserai", "fr": "caravansérail", "ar": "خان"})
INJERA = Term({"en": "injera", "am": "እንጀራ"}, do_not_translate=True)
SILK_ROAD = Term({"en": "Silk Road", "fr": "route de la soie", "zh": "丝绸之路"})
GLOSSARY = [CARAVANSERAI, INJERA, SILK_ROAD]


def test_terms_are_masked_and_restored_in_the_listeners_language():
    masked = mask("We ate injera at the Caravanserai on the Silk Road.", GLOSSARY, "en")
    assert masked.text == "We ate [[0]] at the [[1]] on the [[2]]."
    translated = "Nous avons mangé [[0]] au [[1]] sur la [[2]]."
    assert unmask(translated, masked, "fr") == "Nous avons mangé injera au caravansérail sur la route de la soie."
    assert unmask("[[1]] [[0]] [[2]]", masked, "zh") == "Caravanserai injera 丝绸之路"  # no Chinese rendering: as the speaker wrote it


def test_terms_inside_other_words_are_left_alone():
    assert mask("caravanserais", [CARAVANSERAI], "en").found == ()


def test_a_lost_or_duplicated_token_gives_up():
    masked = mask("the caravanserai", [CARAVANSERAI], "en")
    assert unmask("le", masked, "fr") is None
    assert unmask("le [[0]] [[0]]", masked, "fr") is None
    assert unmask("le [[0]] [[1]]", masked, "fr") is None


WORDS = st.sampled_from(["the", "we", "rested", "at", "caravanserai", "Silk Road", "injera", "tea", "and", "Caravanserai", "road"])


class Mangler:
    """A translator double that reorders, drops and duplicates tokens (and words) as engines do."""

    def __init__(self, data):
        self.data = data

    def __call__(self, text: str) -> str:
        pieces = re.split(r"(\[\[\d+\]\])", text)
        pieces = [p for p in pieces if p]
        action = self.data.draw(st.sampled_from(["keep", "reorder", "drop", "duplicate", "invent"]))
        if action == "reorder":
            pieces = self.data.draw(st.permutations(pieces))
        elif action == "drop" and pieces:
            del pieces[self.data.draw(st.integers(0, len(pieces) - 1))]
        elif action == "duplicate" and pieces:
            pieces.append(pieces[self.data.draw(st.integers(0, len(pieces) - 1))])
        elif action == "invent":
            pieces.append("[[9]]")
        return " ".join(pieces).upper()  # an engine changes every word it translates


@given(st.lists(WORDS, max_size=12), st.sampled_from(["fr", "ar", "zh", "sw"]), st.data())
def test_the_curated_term_or_the_original_never_a_broken_term(words, target, data):
    original = " ".join(words)
    masked = mask(original, GLOSSARY, "en")
    translated = Mangler(data)(masked.text)
    result = unmask(translated, masked, target)
    if result is None:
        return  # the listener gets the original, flagged
    assert "[[" not in result and "]]" not in result
    for term, found in masked.found:
        rendering = term.render(target, found)
        assert rendering in result
    renderings = [term.render(target, found) for term, found in masked.found]
    for rendering in set(renderings):
        assert result.count(rendering) >= renderings.count(rendering)
