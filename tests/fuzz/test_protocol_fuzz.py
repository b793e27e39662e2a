"""Fuzzing the WebSocket frame decoders: a value or ProtocolError, never another exception (fuzz.contracts)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from fuzz.contracts import CONTROL_SEEDS, ContractViolation, check_control, check_pose, mutate_json
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.strategies import mutations, wire_json, wire_scalars
from thirdspace.protocol import codec
from thirdspace.protocol.constants import FRAME_POSE, MAX_CHAT_CHARS, MAX_NAME_CHARS, POSE_FRAME_SIZE


def test_every_client_message_type_has_a_valid_seed():
    assert set(CONTROL_SEEDS) == set(codec.CLIENT_MESSAGES), "add a seed for the new message type to fuzz.contracts.CONTROL_SEEDS"
    for kind, message in CONTROL_SEEDS.items():
        value = check_control(orjson.dumps(message))
        assert not isinstance(value, codec.ProtocolError), (kind, value)


def test_the_checks_catch_a_decoder_that_breaks_its_contract(monkeypatch):
    def crash(data):
        raise IndexError("boom")

    monkeypatch.setattr(codec, "decode_control", crash)
    with pytest.raises(IndexError):
        check_control(b"{}")
    monkeypatch.setattr(codec, "decode_control", lambda data: codec.Chat(text="\x00" * 3))
    with pytest.raises(ContractViolation, match="control characters"):
        check_control(b"{}")
    monkeypatch.setattr(codec, "decode_control", lambda data: (_ for _ in ()).throw(codec.ProtocolError("odd", "x", "nowhere")))
    with pytest.raises(ContractViolation, match="unknown error code"):
        check_control(b"{}")
    monkeypatch.setattr(codec, "decode_pose", lambda data: (0, 0, np.zeros((3, 7), np.float32)))
    with pytest.raises(ContractViolation, match="accepted"):
        check_pose(b"short")


@given(st.binary(max_size=400))
@example(b"")
@example(b"\xff\xfe")
@example(b"[" * 5000)
@example(b'{"type":"chat","text":"\xed\xa0\x80"}')  # an encoded lone surrogate
def test_control_frames_of_arbitrary_bytes(data):
    check_control(data)


@given(st.text(max_size=200))
@example('{"type":"chat","text":"\ud800"}')
@example('{"type":"hello","protocol":2,"scene":"x","name":"\\ud800"}')
def test_control_frames_of_arbitrary_text(text):
    check_control(text)
    check_control(text.encode("utf-8", "surrogatepass"))


@given(wire_json)
def test_control_frames_of_arbitrary_json(value):
    frame = orjson.dumps(value)
    check_control(frame)
    check_control(frame.decode())


# Field values that sit on the edges of what the decoders allow.
edge_values = (
    wire_scalars
    | st.sampled_from(
        [
            "",
            " ",
            "\t\n",
            "a" * (MAX_NAME_CHARS + 1),
            "b" * (MAX_CHAT_CHARS + 1),
            " x ",
            "\x7f",
            "\x9f",
            "#ABCDEF\n",
            "en\n",
            "gallery-1\n",
            "1.abcdefgh",
        ]
    )
    | st.sampled_from(list(codec.TOUR_ACTIONS) + list(CONTROL_SEEDS) + ["hello ", "Hello"])
    | st.integers(-3, 3)
    | wire_json
)


@given(st.sampled_from(sorted(CONTROL_SEEDS)), mutations(edge_values))
@example("report", [(2, "set", True)])  # a bool is not a message id
@example("tour", [(2, "set", "lead"), (5, "drop", None)])  # lead without "to"
@example("hello", [(0, "set", [])])  # not an object at all
def test_structured_messages_with_mutated_fields(kind, changes):
    message = mutate_json(CONTROL_SEEDS[kind], changes)
    check_control(orjson.dumps(message))


numbers = st.from_regex(r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?\Z")


@given(st.sampled_from(["report", "ping", "hello", "tour"]), numbers)
@example("report", "1e400")
@example("ping", "123456789012345678901234567890")
def test_numbers_written_out_in_json_text(kind, number):
    field = {"report": "message", "ping": "nonce", "hello": "protocol", "tour": "to"}[kind]
    message = {**CONTROL_SEEDS[kind], field: "@"}
    if kind == "tour":
        message["action"] = "lead"
    check_control(orjson.dumps(message).replace(b'"@"', number.encode()))


@given(st.binary(max_size=2 * POSE_FRAME_SIZE))
def test_binary_frames_of_any_length(data):
    check_pose(data)


@given(st.binary(min_size=POSE_FRAME_SIZE, max_size=POSE_FRAME_SIZE), st.sampled_from([FRAME_POSE, 0, 3, 255]))
def test_pose_sized_frames_of_any_kind_and_contents(data, kind):
    check_pose(bytes([kind]) + data[1:])


@given(
    st.lists(st.floats(width=32), min_size=21, max_size=21),
    st.integers(0, 255),
    st.integers(0, 0xFFFF),
)
def test_poses_with_any_floats_decode_to_the_same_bits(values, flags, ack):
    frame = codec.encode_pose(np.array(values, np.float32).reshape(3, 7), flags, ack)
    flags_out, ack_out, parts = check_pose(frame)
    assert (flags_out, ack_out) == (flags, ack)
    assert parts.tobytes() == np.array(values, np.float32).tobytes()
