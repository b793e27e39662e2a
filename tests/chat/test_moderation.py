"""Moderation: cleaning, the blocklist key, rate limits and duplicates, against abuse strings."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import demo_scene
from thirdspace.chat.moderation import BIDI_CONTROLS, MAX_COMBINING, Blocklist, clean, match_key
from thirdspace.client import ThirdSpaceClient
from thirdspace.rooms.room import Room, RoomRules
from thirdspace.scenes.model import validate


def test_clean_strips_bidi_controls_and_invisible_characters():
    assert clean("pay\u202ereversed\u202c here") == "payreversed here"
    assert clean("\u2066isolated\u2069 \u200fmark") == "isolated mark"
    assert clean("zero\u200bwidth\ufeff") == "zerowidth"
    assert clean("ab\u200dcd") == "abcd"  # a joiner between Latin letters hides nothing useful
    assert clean("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs its non-joiner
    assert clean("👩\u200d💻") == "👩\u200d💻"  # and emoji sequences their joiner
    assert clean("   spaced   ") == "spaced"


def test_clean_caps_combining_marks_and_normalises():
    zalgo = "h" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307" * 10 + "i"
    cleaned = clean(zalgo)
    assert cleaned.startswith("h") and cleaned.endswith("i")
    assert sum(1 for c in cleaned if 0x300 <= ord(c) <= 0x36F) <= MAX_COMBINING
    assert clean("e\u0301") == "\u00e9"  # NFC
    assert clean("नमस्ते") == "नमस्ते"  # ordinary marks in Devanagari are kept


@given(st.text(max_size=200))
def test_clean_never_leaves_bidi_controls(text):
    assert not (set(clean(text)) & BIDI_CONTROLS)


BLOCKED = Blocklist(["badword", "脏话", "mbaya sana"])


@pytest.mark.parametrize(
    "line",
    [
        "badword",
        "BADWORD!",
        "B4DW0RD",
        "ｂａｄｗｏｒｄ",
        "bаdword",
        "b a d w o r d",
        "b.a.d.w.o.r.d",
        "bad-word",
        "bádwörd",
        "他说脏话了",
        "Mbaya  SANA",
    ],
)
def test_the_blocklist_sees_through_disguises(line):
    assert BLOCKED.matches(line), match_key(line)


@pytest.mark.parametrize("line", ["a bad world", "badwords are words", "this is fine", "analysis", "mbaya"])
def test_the_blocklist_leaves_ordinary_lines_alone(line):
    assert not BLOCKED.matches(line)


def room(**rules) -> tuple[Room, int, int]:
    document = demo_scene("gallery")
    document["chat"] = {"blocklist": ["badword"]}
    r = Room("gallery-1", validate(document), RoomRules(**rules))
    a, _ = r.join("Ama", "en", "#000000", now=0)
    b, _ = r.join("Bo", "fr", "#000000", now=0)
    return r, a.id, b.id


def test_room_refuses_blocked_duplicate_and_empty_lines():
    r, a, _ = room()
    assert r.chat(a, "nice b4dw0rd", now=0)[0].message["code"] == "blocked"
    assert r.chat(a, "\u202e\u200b", now=1)[0].message["code"] == "bad_request"
    assert r.chat(a, "hello there", now=2)[0].message["type"] == "chat"
    assert r.chat(a, "Hello  there!", now=3)[0].message["code"] == "duplicate"
    assert r.chat(a, "hello there", now=40)[0].message["type"] == "chat"  # after the window


def test_a_flood_is_held_to_a_burst_then_one_line_every_two_seconds():
    r, a, b = room(chat_burst=5, chat_per_s=0.5)
    sent = [r.chat(a, f"line {i}", now=i * 0.01)[0].message for i in range(50)]
    assert sum(m["type"] == "chat" for m in sent) == 5
    assert sent[5]["code"] == "rate_limited"
    assert r.chat(a, "after a second", now=1.5)[0].message["code"] == "rate_limited"
    assert r.chat(a, "after two seconds", now=2.6)[0].message["type"] == "chat"
    assert r.chat(b, "the other visitor is not slowed", now=0.5)[0].message["type"] == "chat"


async def test_a_flooder_does_not_slow_anyone_else(server):
    async with (
        await ThirdSpaceClient.connect(server.ws, "caravanserai", "Flood") as flooder,
        await ThirdSpaceClient.connect(server.ws, "caravanserai", "Calm") as calm,
    ):
        long_line = "x" * 10_000
        await flooder.send({"type": "chat", "text": long_line})
        error = await flooder.wait_for(lambda c: c.errors)
        assert error[0]["code"] == "too_long"
        for i in range(40):
            await flooder.send_chat(f"spam {i} \u202e\u200d" + "\u0301" * 30)
        await calm.send_chat("Is anyone here?")
        await calm.wait_for(lambda c: any(m["text"] == "Is anyone here?" for m in c.chat), timeout=2)
        assert calm.errors == []  # the flooder's rate limit is the flooder's alone
        await asyncio.sleep(0.3)
        spam = [m for m in calm.chat if m["text"].startswith("spam")]
        assert len(spam) <= 5  # the burst, nothing more
        assert all("\u202e" not in m["text"] and m["text"].count("\u0301") <= 3 for m in spam)
        assert any(e["code"] == "rate_limited" for e in flooder.errors)
