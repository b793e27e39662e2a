"""The visitor connection's rules (docs/protocol.md), without a server: frames in, events out."""

import numpy as np
import orjson
import pytest

from thirdspace.protocol.codec import Chat, Hello, ProtocolError, Quick, Report, TourAction, Watch, encode_pose
from thirdspace.protocol.connection import Close, Connection, Pose, Request, Send, State
from thirdspace.protocol.constants import FLAG_ACK, MAX_FRAME_BYTES, POSE_FRAME_SIZE

NOW = 100.0
PARTS = np.array([[0, 1.6, 0, 0, 0, 0, 1]] * 3, np.float32)
HELLO = {"type": "hello", "protocol": 2, "scene": "gallery", "name": "Ama"}


def text(message) -> bytes:
    return orjson.dumps(message)


def sent(events) -> list[dict]:
    return [orjson.loads(e.data) for e in events if isinstance(e, Send)]


def member(**options) -> Connection:
    connection = Connection(**options)
    [request] = connection.receive_text(text(HELLO), NOW)
    assert isinstance(request.message, Hello)
    connection.joined()
    return connection


def test_a_hello_first_is_a_request_for_the_rooms():
    connection = Connection()
    [request] = connection.receive_text(text(HELLO | {"language": "sw", "colour": "#AA3300"}), NOW)
    assert request == Request(Hello(2, "gallery", "Ama", "sw", "#aa3300"), NOW)
    assert connection.state is State.OPENING  # until the rooms place the visitor
    connection.joined()
    assert connection.state is State.MEMBER


@pytest.mark.parametrize(
    "frame",
    [
        text({"type": "chat", "text": "hi"}),
        text({"type": "tour", "action": "join", "tour": "t"}),
        text({"type": "nonsense"}),
        text({"type": 5}),
        text({"no": "type"}),
        text([1, 2]),
        b"not json",
        b"\xff\xfe{}",  # not UTF-8
        b"",
    ],
    ids=["chat", "tour", "unknown type", "type not a string", "no type", "array", "not json", "not utf-8", "empty"],
)
def test_anything_but_a_hello_first_closes_with_1008(frame):
    connection = Connection()
    assert connection.receive_text(frame, NOW) == [Close(1008, "send hello first")]
    assert connection.closed
    assert connection.receive_text(text(HELLO), NOW) == []  # nothing more is read


def test_a_pose_first_closes_with_1008():
    connection = Connection()
    assert connection.receive_binary(encode_pose(PARTS), NOW) == [Close(1008, "send hello first")]


def test_a_ping_is_answered_before_and_after_the_hello():
    connection = Connection()
    assert sent(connection.receive_text(text({"type": "ping", "nonce": "a"}), NOW)) == [{"type": "pong", "nonce": "a"}]
    assert sent(connection.receive_text(text({"type": "ping"}), NOW)) == [{"type": "pong", "nonce": None}]
    connection.receive_text(text(HELLO), NOW)
    connection.joined()
    assert sent(connection.receive_text(text({"type": "ping", "nonce": 7}), NOW)) == [{"type": "pong", "nonce": 7}]


@pytest.mark.parametrize(
    "fields, code, field",
    [
        ({"protocol": 1}, "unsupported_protocol", "protocol"),
        ({"protocol": "2"}, "bad_request", "protocol"),
        ({"scene": ""}, "bad_request", "scene"),
        ({"name": ""}, "bad_request", "name"),
        ({"name": "x" * 65}, "too_long", "name"),
        ({"name": "a\u0007b"}, "bad_request", "name"),
        ({"language": "not a tag"}, "bad_request", "language"),
        ({"colour": "red"}, "bad_request", "colour"),
        ({"room": "no spaces"}, "bad_request", "room"),
        ({"resume": "7"}, "bad_request", "resume"),
    ],
)
def test_a_faulty_hello_is_answered_and_may_be_corrected(fields, code, field):
    connection = Connection()
    [reply] = sent(connection.receive_text(text(HELLO | fields), NOW))
    assert (reply["type"], reply["code"], reply["field"]) == ("error", code, field)
    assert connection.errors == 1 and not connection.closed
    [request] = connection.receive_text(text(HELLO), NOW)
    assert isinstance(request.message, Hello)


def test_a_hello_the_rooms_refuse_is_answered_and_counted():
    connection = Connection()
    connection.receive_text(text(HELLO | {"scene": "nowhere"}), NOW)
    [reply] = sent(connection.refuse(ProtocolError("unknown_scene", "no scene 'nowhere'", "scene")))
    assert reply == {"type": "error", "code": "unknown_scene", "message": "no scene 'nowhere'", "field": "scene"}
    assert connection.errors == 1 and connection.state is State.OPENING


def test_control_messages_of_a_member_are_requests():
    connection = member()
    messages = [
        ({"type": "chat", "text": "  hello  "}, Chat("hello")),
        ({"type": "quick", "phrase": "hello"}, Quick("hello", None)),
        ({"type": "tour", "action": "goto", "tour": "t", "stop": "s"}, TourAction("goto", "t", "s")),
        ({"type": "report", "message": 3}, Report(3, "no reason given")),
    ]
    for message, value in messages:
        assert connection.receive_text(text(message), NOW) == [Request(value, NOW)]
    assert connection.errors == 0


def test_a_pose_of_a_member_is_a_request():
    connection = member()
    [request] = connection.receive_binary(encode_pose(PARTS, FLAG_ACK, ack=9), NOW + 1)
    assert isinstance(request.message, Pose) and request.now == NOW + 1
    assert (request.message.flags, request.message.ack) == (FLAG_ACK, 9)
    np.testing.assert_array_equal(request.message.parts, PARTS)


@pytest.mark.parametrize(
    "message, code, field",
    [
        (HELLO, "bad_request", "type"),  # a second hello
        ({"type": "dance"}, "unknown_type", "type"),
        ({"type": 3}, "bad_request", "type"),
        ({"type": "chat", "text": ""}, "bad_request", "text"),
        ({"type": "chat", "text": "x" * 501}, "too_long", "text"),
        ({"type": "chat"}, "bad_request", "text"),
        ({"type": "quick", "phrase": ""}, "bad_request", "phrase"),
        ({"type": "tour", "action": "fly", "tour": "t"}, "bad_request", "action"),
        ({"type": "tour", "action": "lead", "tour": "t"}, "bad_request", "to"),
        ({"type": "report", "message": "3"}, "bad_request", "message"),
        ({"type": "ping", "nonce": [1]}, "bad_request", "nonce"),
        ({"type": "watch", "scene": "gallery"}, "bad_request", "type"),  # a visitor's connection cannot also watch
    ],
)
def test_a_member_gets_an_error_for_a_bad_message_and_carries_on(message, code, field):
    connection = member()
    [reply] = sent(connection.receive_text(text(message), NOW))
    assert (reply["code"], reply["field"]) == (code, field)
    assert connection.state is State.MEMBER and connection.errors == 1


@pytest.mark.parametrize("frame", [b"not json", b"[]", b"\xff"], ids=["not json", "not an object", "not utf-8"])
def test_a_text_frame_that_is_not_a_json_object_closes_a_member_with_1007(frame):
    connection = member()
    [close] = connection.receive_text(frame, NOW)
    assert isinstance(close, Close) and close.code == 1007


@pytest.mark.parametrize(
    "frame",
    [encode_pose(PARTS)[:-1], encode_pose(PARTS) + b"\0", b"\x02" + encode_pose(PARTS)[1:], b""],
    ids=["short", "long", "unknown kind", "empty"],
)
def test_a_malformed_pose_closes_with_1007(frame):
    connection = member()
    [close] = connection.receive_binary(frame, NOW)
    assert isinstance(close, Close) and close.code == 1007
    assert connection.receive_binary(encode_pose(PARTS), NOW) == []


def test_a_frame_of_exactly_the_limit_is_read_and_one_byte_more_closes_with_1009():
    connection = member()
    padded = orjson.dumps({"type": "chat", "text": "hello", "pad": ""})
    limit = padded[:-2] + b" " * (MAX_FRAME_BYTES - len(padded)) + padded[-2:]
    assert len(limit) == MAX_FRAME_BYTES
    [request] = connection.receive_text(limit, NOW)
    assert request.message == Chat("hello")
    [close] = connection.receive_text(limit + b" ", NOW)
    assert isinstance(close, Close) and close.code == 1009
    assert Connection().receive_binary(b"\x01" * (MAX_FRAME_BYTES + 1), NOW)[0].code == 1009
    assert POSE_FRAME_SIZE < MAX_FRAME_BYTES


def test_the_error_budget_counts_every_refusal_and_the_next_one_closes_with_1008():
    connection = member(max_errors=4)
    refusals = [
        lambda: connection.receive_text(text({"type": "dance"}), NOW),  # the decoder's
        lambda: connection.refuse({"type": "error", "code": "duplicate", "message": "you just said that", "field": "text"}),  # a room's
        lambda: connection.refuse(ProtocolError("unknown_tour", "no tour 't' in this scene")),
        lambda: connection.receive_text(text(HELLO), NOW),
    ]
    for refuse in refusals:
        [reply] = refuse()
        assert isinstance(reply, Send)
    assert connection.errors == 4
    assert connection.refuse(ProtocolError("blocked", "no")) == [Close(1008, "too many invalid messages")]
    assert connection.closed


def test_rate_limits_and_outages_are_not_counted():
    connection = member(max_errors=1)
    for _ in range(5):
        [reply] = sent(connection.refuse(ProtocolError("rate_limited", "too many messages; try again in 1 s", "text")))
        assert reply["code"] == "rate_limited"
        [reply] = sent(connection.refuse(ProtocolError("unavailable", "try again shortly")))
        assert reply["code"] == "unavailable"
    assert connection.errors == 0 and not connection.closed


def test_faulty_hellos_count_towards_the_budget_too():
    connection = Connection(max_errors=2)
    for _ in range(2):
        assert sent(connection.receive_text(text(HELLO | {"protocol": 1}), NOW))[0]["code"] == "unsupported_protocol"
    assert connection.receive_text(text(HELLO | {"protocol": 1}), NOW) == [Close(1008, "too many invalid messages")]


def test_a_watch_first_is_a_request_and_a_watching_connection_cannot_join():
    connection = Connection()
    [request] = connection.receive_text(text({"type": "watch", "scene": "gallery"}), NOW)
    assert request.message == Watch("gallery")
    assert sent(connection.watching("gallery", 12)) == [{"type": "watching", "scene": "gallery", "revision": 12}]
    assert connection.state is State.WATCHING
    for message in (HELLO, {"type": "chat", "text": "hi"}):
        [reply] = sent(connection.receive_text(text(message), NOW))
        assert (reply["code"], reply["field"]) == ("bad_request", "type")
    [again] = connection.receive_text(text({"type": "watch", "scene": "market"}), NOW)  # another draft
    assert again.message == Watch("market")
    assert connection.receive_binary(encode_pose(PARTS), NOW) == [Close(1008, "send hello first")]


def test_a_refused_watch_leaves_the_connection_open_for_a_hello():
    connection = Connection()
    connection.receive_text(text({"type": "watch", "scene": "gallery"}), NOW)
    [reply] = sent(connection.refuse(ProtocolError("forbidden", "watching a draft needs the curator role", "type")))
    assert reply["code"] == "forbidden" and connection.state is State.OPENING
    [request] = connection.receive_text(text(HELLO), NOW)
    assert isinstance(request.message, Hello)


def test_a_bad_watch_first_is_answered():
    connection = Connection()
    [reply] = sent(connection.receive_text(text({"type": "watch"}), NOW))
    assert (reply["code"], reply["field"]) == ("bad_request", "scene")


@pytest.mark.parametrize("code, leaves", [(1000, True), (1001, True), (None, False), (1006, False), (4000, False)])
def test_a_close_with_1000_or_1001_is_a_leave_and_anything_else_keeps_the_place(code, leaves):
    connection = member()
    connection.receive_close(code)
    assert connection.closed and connection.left_on_purpose is leaves


def test_a_websocket_protocol_violation_is_a_leave():
    connection = member()
    connection.receive_violation()
    assert connection.closed and connection.left_on_purpose


def test_a_server_close_is_sent_once():
    connection = member()
    assert connection.close(1000, "redirected") == [Close(1000, "redirected")]
    assert connection.close(1008, "again") == []
    assert connection.refuse(ProtocolError("bad_request", "late")) == []
    assert connection.watching("gallery", 1) == []
