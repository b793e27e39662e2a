import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thirdspace.protocol.codec import (
    Chat,
    Hello,
    Ping,
    ProtocolError,
    decode_control,
    decode_pose,
    encode_pose,
)
from thirdspace.protocol.constants import FLAG_ACK, FRAME_POSE, POSE_FRAME_SIZE

floats32 = st.floats(width=32, allow_nan=False)
parts_arrays = arrays(np.float32, (3, 7), elements=floats32)


@given(parts=parts_arrays, flags=st.integers(0, 255), ack=st.integers(0, 0xFFFF))
def test_pose_round_trip(parts, flags, ack):
    data = encode_pose(parts, flags, ack)
    assert len(data) == POSE_FRAME_SIZE
    got_flags, got_ack, got_parts = decode_pose(data)
    assert (got_flags, got_ack) == (flags, ack)
    np.testing.assert_array_equal(got_parts, parts)


def test_pose_layout_is_little_endian_and_fixed():
    parts = np.arange(21, dtype=np.float32).reshape(3, 7)
    data = encode_pose(parts, flags=0x0B, ack=0x0102)
    assert data[:4] == bytes([FRAME_POSE, 0x0B, 0x02, 0x01])
    assert np.frombuffer(data[4:], "<f4").tolist() == list(range(21))


@given(st.binary(max_size=200))
def test_decode_pose_accepts_only_exact_pose_frames(data):
    if len(data) == POSE_FRAME_SIZE and data[0] == FRAME_POSE:
        decode_pose(data)
    else:
        with pytest.raises(ProtocolError) as info:
            decode_pose(data)
        assert info.value.close_code == 1007


def hello(**fields):
    base = {"type": "hello", "protocol": 2, "scene": "gallery", "name": "Ama", "language": "sw", "colour": "#A0B0C0"}
    return orjson.dumps({**base, **fields})


def test_hello_decodes():
    message = decode_control(hello())
    assert message == Hello(protocol=2, scene="gallery", name="Ama", language="sw", colour="#a0b0c0")


def test_chat_and_ping_decode():
    assert decode_control(b'{"type": "chat", "text": "  salaam  "}') == Chat("salaam")
    assert decode_control(b'{"type": "ping", "nonce": 7}') == Ping(7)


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (hello(protocol="1"), "bad_request", "protocol"),
        (hello(protocol=1), "unsupported_protocol", "protocol"),
        (hello(scene=5), "bad_request", "scene"),
        (hello(name=""), "bad_request", "name"),
        (hello(name="x" * 65), "too_long", "name"),
        (hello(name="a\nb"), "bad_request", "name"),
        (hello(language="english language"), "bad_request", "language"),
        (hello(colour="red"), "bad_request", "colour"),
        (b'{"type": "chat", "text": 5}', "bad_request", "text"),
        (b'{"type": "chat", "text": "' + b"x" * 501 + b'"}', "too_long", "text"),
        (b'{"type": "dance"}', "unknown_type", "type"),
        (b'{"type": ["chat"]}', "bad_request", "type"),
        (b'{"text": "no type"}', "bad_request", "type"),
        (b'{"type": "ping", "nonce": [1]}', "bad_request", "nonce"),
    ],
)
def test_bad_control_messages_name_the_field(data, code, field):
    with pytest.raises(ProtocolError) as info:
        decode_control(data)
    assert (info.value.code, info.value.field, info.value.close_code) == (code, field, None)
    assert info.value.to_message()["field"] == field


@pytest.mark.parametrize("data", [b"{", b"[1, 2]", b'"hello"', b"\xff\xfe", b""])
def test_undecodable_text_closes_with_1007(data):
    with pytest.raises(ProtocolError) as info:
        decode_control(data)
    assert info.value.close_code == 1007


@given(st.binary(max_size=300))
def test_decode_control_never_raises_anything_but_protocol_error(data):
    try:
        decode_control(data)
    except ProtocolError:
        pass


def test_the_byte_example_in_docs_protocol_md_is_what_the_codec_writes():
    import re

    from thirdspace.config import PROJECT_ROOT

    doc = (PROJECT_ROOT / "docs" / "protocol.md").read_text("utf-8")
    block = doc.split("## Example, byte by byte", 1)[1].split("```")[1]
    hex_bytes = []
    for line in block.splitlines():
        for token in line.split():
            if not re.fullmatch(r"[0-9a-f]{2}", token):
                break
            hex_bytes.append(token)
    parts = np.zeros((3, 7), np.float32)
    parts[:, 6] = 1
    parts[0, :3] = (1.5, 1.6, -2)
    assert bytes.fromhex("".join(hex_bytes)) == encode_pose(parts, FLAG_ACK, 3)[:32]


@pytest.mark.parametrize(
    "field, value", [("colour", "#abcdef\n"), ("language", "en\n"), ("room", "gallery-1\n"), ("resume", "12.abcdefgh\n")]
)
def test_hello_fields_with_a_trailing_newline_are_refused(field, value):
    hello = {"type": "hello", "protocol": 2, "scene": "gallery", "name": "A", field: value}
    with pytest.raises(ProtocolError) as err:
        decode_control(orjson.dumps(hello))
    assert err.value.field == field


@pytest.mark.parametrize(
    "name",
    [
        "\u200b\u200c\u200d",  # zero-width characters only
        "\u3164\u3164",  # Hangul fillers
        "\u2800\u2800\u2800",  # Braille blanks
        "\u202e\u2066\u2069\u200f",  # bidirectional controls only
        "\ufeff\u00ad\u034f\u115f\ufe0f",  # other default-ignorables
    ],
)
def test_a_name_that_shows_nothing_is_refused(name):
    with pytest.raises(ProtocolError) as err:
        decode_control(hello(name=name))
    assert (err.value.code, err.value.field) == ("bad_request", "name")
    assert "empty once invisible characters are removed" in err.value.message


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("\u202eAma", "Ama"),  # a right-to-left override before the name
        ("Ama\u202e nimdA", "Ama nimdA"),  # or inside it, to make what follows read backwards
        ("\u2066Bo\u2069 \u200fLé", "Bo Lé"),  # isolates and marks
        ("Chi\u200bara\u2060", "Chiara"),
        ("\u0645\u0631\u064a\u0645", "\u0645\u0631\u064a\u0645"),  # an Arabic name stays as written
        ("\u0645\u06cc\u200c\u0631\u0627", "\u0645\u06cc\u200c\u0631\u0627"),  # a Persian non-joiner inside a word stays
    ],
)
def test_a_name_is_cleaned_like_a_chat_line(sent, kept):
    assert decode_control(hello(name=sent)).name == kept


def test_a_report_reason_is_cleaned_and_may_not_be_blank():
    assert decode_control(b'{"type": "report", "message": 3, "reason": "spam\\u202e!"}').reason == "spam!"
    with pytest.raises(ProtocolError) as err:
        decode_control(b'{"type": "report", "message": 3, "reason": "\\u2800\\u3164"}')
    assert (err.value.code, err.value.field) == ("bad_request", "reason")
