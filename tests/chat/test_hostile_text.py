"""Text that hides, reverses or disguises itself: blank-looking lines, names cleaned like chat, the blocklist's matching.

Unit tests of chat/moderation.py, then real sockets: what another visitor is shown.
"""

from __future__ import annotations

import asyncio
import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import demo_scene, start_server
from tests.curate.conftest import fresh_data_dir
from thirdspace.chat.moderation import BIDI_CONTROLS, Blocklist, clean, is_blank, match_key
from thirdspace.client import JoinError, ThirdSpaceClient
from thirdspace.config import Settings
from thirdspace.rooms.room import Room, RoomRules
from thirdspace.scenes.model import validate

BLANK_LINES = [
    "\u3164",  # HANGUL FILLER
    "\u3164" * 40,
    "\u2800" * 12,  # BRAILLE PATTERN BLANK
    "\u115f\u1160",  # Hangul choseong and jungseong fillers
    "\uffa0\uffa0",  # HALFWIDTH HANGUL FILLER
    "\u180e\u2800 \u3000\u2003",  # Mongolian vowel separator, blanks and spaces of other widths
    "\u034f\u17b4\u17b5\u2061\U0001d173",  # combining grapheme joiner, Khmer inherent vowels, an invisible operator, ...
    "\ufe0f\ufe0f",  # variation selectors with nothing to select
    "\U000e0041\U000e0042\U000e007f",  # tag characters with no flag
    "\u3164\u200b\u2800\u202e\u00a0",
]


@pytest.mark.parametrize("line", BLANK_LINES)
def test_a_line_that_only_looks_blank_cleans_to_nothing(line):
    assert clean(line) == ""


@pytest.mark.parametrize(
    "line, kept",
    [
        ("hi\u2800there", "hi\u2800there"),  # a blank inside a line is the sender's business
        ("\u2800\u2800hello\u3164", "hello"),  # at its ends it is trimmed
        ("I \u2764\ufe0f it", "I \u2764\ufe0f it"),  # an emoji keeps its presentation selector
        ("\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", None),  # the flag of England
        ("\u1100\u1160 \u115f\u1161", None),  # conjoining jamo, each with a filler in its place
        ("\u8fbb\U000e0100", None),  # an ideographic variation sequence
    ],
)
def test_what_is_needed_to_show_a_line_is_kept(line, kept):
    assert clean(line) == (line if kept is None else kept)


@given(st.text(max_size=80))
def test_cleaning_is_stable_and_leaves_something_visible_or_nothing(text):
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    assert cleaned == "" or not is_blank(cleaned)
    assert not set(cleaned) & BIDI_CONTROLS


def room(blocklist: list[str] | None = None) -> tuple[Room, int]:
    document = demo_scene("gallery")
    document["chat"] = {"blocklist": blocklist or ["badword"]}
    r = Room("gallery-1", validate(document), RoomRules())
    a, _ = r.join("Ama", "en", "#000000", now=0)
    return r, a.id


@pytest.mark.parametrize("line", ["\u3164\u3164\u3164", "\u2800\u2800", "\u115f\u1160\uffa0", "\u2800 \u3164 \u200b"])
def test_the_room_refuses_a_blank_looking_line_as_an_empty_one(line):
    r, a = room()
    refusal = r.chat(a, line, now=0)[0].message
    assert (refusal["type"], refusal["code"], refusal["field"]) == ("error", "bad_request", "text")
    assert refusal["message"] == "text is empty once invisible characters are removed"
    assert list(r.chat_log) == []


BLOCKED = Blocklist(["idiot", "badword", "сука", "कमीना", "バカ", "cop", "mbaya sana"])


@pytest.mark.parametrize(
    "line",
    [
        "you idi\u0640\u0640ot",  # Arabic tatweel stretching the word
        "ɪᴅɪᴏᴛ",  # small capitals
        "what an ɪᴅɪᴏᴛ!",
        "idi\u0585t",  # Armenian oh, within a Latin word
        "id\uab75ot",  # Cherokee small v, which looks like i
        "\u0456d\u0456\u043e\u0442",  # Cyrillic і, о and т in a Latin word: т's skeleton is the small capital ᴛ
        "I\u0430m an \u0456d\u0456ot",
        "b\u0430d-word",  # a look-alike split by a hyphen
        "\u0456 d \u0456 \u043e t",  # look-alikes spelt out
        "mbaya s\u0430na",  # in one word of a phrase
        "\u0441y\u043a\u0430",  # a Cyrillic term written with a Latin y
        "สวัสดีidiot",  # a whole Latin word right after Thai, with no space
        "馬鹿とバカだ",  # inside Japanese
        "कमीना",
    ],
)
def test_the_blocklist_sees_through_look_alikes(line):
    assert BLOCKED.matches(line), match_key(line)


@pytest.mark.parametrize(
    "line",
    [
        "สวัสดีidiotic",  # "idiotic" next to Thai text is still not "idiot"
        "ครับ idiotic ครับ",
        "कमान",  # kamaan (a bow): the same letters as कमीना without its vowel signs
        "कमाना",  # kamaana (to earn)
        "ハカ",  # haka: バカ without its voicing mark
        "\u0441\u043e\u0440",  # Russian сор (litter): its letters look like "cop", but it is a Russian word
        "\u03ba\u03bf\u03c0",  # Greek κοπ
        "cyka",  # a Latin word is not the Cyrillic entry
        "idiotic analysis",
    ],
)
def test_the_blocklist_does_not_match_across_scripts(line):
    assert not BLOCKED.matches(line), match_key(line)


@given(st.text(alphabet=st.sampled_from("idotаіоꭵօᴅɪᴏᴛ\u0640 .-ครับ馬鹿"), max_size=30))
def test_matching_any_mix_of_look_alikes_never_fails(text):
    BLOCKED.matches(text)


def test_a_blocked_term_written_with_vowel_signs_needs_them():
    assert Blocklist(["कमान"]).matches("कमान") and not Blocklist(["कमान"]).matches("कमीना")


# -- real sockets ---------------------------------------------------------------------------------


async def test_blank_looking_lines_get_an_error_and_reach_nobody(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Filler") as sender:
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "Reader", room=sender.room) as reader:
            assert reader.room == sender.room
            await sender.send_chat("\u3164" * 20)
            await sender.send_chat("\u2800" * 20)
            await sender.wait_for(lambda c: len(c.errors) >= 2)
            await sender.send_chat("after the blanks")
            await reader.wait_for(lambda c: any(m["text"] == "after the blanks" for m in c.chat))
            assert [(e["code"], e["field"]) for e in sender.errors] == [("bad_request", "text")] * 2
            mine = [m["text"] for m in reader.chat if m["from"] == sender.id]
            assert mine == ["after the blanks"]


async def test_a_name_with_bidi_controls_is_shown_cleaned_and_an_invisible_one_is_refused(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Watcher") as watcher:
        async with await ThirdSpaceClient.connect(server.ws, "gallery", "\u202eAma\u2066 Lé\u2069\u200f", room=watcher.room) as ama:
            await watcher.wait_for(lambda c: ama.id in c.visitors)
            assert watcher.visitors[ama.id]["name"] == "Ama Lé"
            assert ama.welcome["visitors"][[v["id"] for v in ama.welcome["visitors"]].index(ama.id)]["name"] == "Ama Lé"
            await ama.send_chat("hello")
            line = await watcher.wait_for(lambda c: next((m for m in c.chat if m["from"] == ama.id), None))
            assert line["name"] == "Ama Lé"
        for name in ("\u200b\u200c\u200d", "\u3164", "\u2800\u2800", "\u202e"):
            with pytest.raises(JoinError) as refused:
                await ThirdSpaceClient.connect(server.ws, "gallery", name, room=watcher.room)
            assert (refused.value.message["code"], refused.value.message["field"]) == ("bad_request", "name")
        await asyncio.sleep(0.2)
        shown = [v["name"] for v in watcher.visitors.values()]
        assert all(name.strip() and "\u202e" not in name and "\u200b" not in name for name in shown), shown


@pytest.fixture
async def strict(server, tmp_path):
    """A server whose scene "strict" blocks "idiot"."""
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    document = copy.deepcopy(demo_scene("gallery"))
    document["id"] = "strict"
    document["chat"] = {"blocklist": ["idiot"]}
    (scenes / "strict.json").write_text(json.dumps(document), "utf-8")
    settings = Settings.load(environ={}, scenes_dir=scenes, data_dir=fresh_data_dir(server, tmp_path / "data"))
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


async def test_a_name_with_a_blocked_word_is_refused_in_the_hello(strict):
    async with await ThirdSpaceClient.connect(strict.ws, "strict", "Watcher") as watcher:
        for name in ("Idiot", "the ɪᴅɪᴏᴛ", "idi\u0640ot", "idi\u0585t", "\u202eidiot"):
            with pytest.raises(JoinError) as refused:
                await ThirdSpaceClient.connect(strict.ws, "strict", name, room=watcher.room)
            assert (refused.value.message["code"], refused.value.message["field"]) == ("blocked", "name"), name
        async with await ThirdSpaceClient.connect(strict.ws, "strict", "สวัสดีidiotic", room=watcher.room) as fine:
            await watcher.wait_for(lambda c: fine.id in c.visitors)
        await asyncio.sleep(0.2)
        assert [m["visitor"]["name"] for m in watcher.messages if m.get("type") == "join"] == ["สวัสดีidiotic"]
