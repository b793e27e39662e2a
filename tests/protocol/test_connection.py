"""The visitor connection's rules (docs/protocol.md), without a server: frames in, events out."""

import numpy as np
import orjson
import pytest

from thirdspace.protocol.codec import Chat, Hello, ProtocolError, Quick, Report, TourAction, Watch, encode_pose
from thirdspace.protocol.connection import Budgets, Close, Connection, Pose, Request, Send, State
from thirdspace.protocol.constants import CLOSE_FLOOD, CLOSE_SLOW_READER, FLAG_ACK, MAX_FRAME_BYTES, POSE_FRAME_SIZE

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


# -- the per-connection budgets (docs/protocol.md, "Limits") ------------------------------------------------------

BUDGETS = Budgets.for_tick(20.0)  # 30 poses a second, a burst of 60, 120 dropped before the close


def pose(ack: int | None = None) -> bytes:
    return encode_pose(PARTS, FLAG_ACK if ack is not None else 0, ack=ack or 0)


def test_poses_at_the_tick_rate_are_all_requests_for_as_long_as_they_come():
    connection = member(budgets=BUDGETS)
    for i in range(20 * 120):  # two minutes at 20 a second, each acknowledging a new snapshot
        [request] = connection.receive_binary(pose(ack=i % 65536), NOW + i / 20)
        assert isinstance(request, Request)
    assert connection.poses_dropped == 0 and not connection.closed


def test_poses_over_the_budget_are_dropped_and_a_flood_closes_with_4008():
    connection = member(budgets=BUDGETS)
    events = [connection.receive_binary(pose(ack=1), NOW) for _ in range(200)]  # 200 at one instant
    requests = [e for batch in events for e in batch if isinstance(e, Request)]
    assert len(requests) == 60  # the burst
    assert connection.closed and connection.poses_dropped == 121
    assert events[180] == [Close(CLOSE_FLOOD, "poses faster than 30 a second")]
    assert connection.receive_binary(pose(ack=1), NOW + 10) == []


def test_a_little_over_the_rate_is_dropped_without_a_close_and_twice_the_rate_closes_in_the_end():
    slightly = member(budgets=BUDGETS)
    for i in range(35 * 60):  # 35 a second for a minute: 5 a second dropped, the allowance refills 7.5 a second
        slightly.receive_binary(pose(ack=i), NOW + i / 35)
    assert not slightly.closed and slightly.poses_dropped > 0
    doubled = member(budgets=BUDGETS)
    for i in range(60 * 120):  # 60 a second: 30 dropped a second, refilled 7.5: the allowance runs out after ~6 s
        if doubled.receive_binary(pose(ack=i), NOW + i / 60) == [Close(CLOSE_FLOOD, "poses faster than 30 a second")]:
            break
    assert doubled.closed and 4 < i / 60 < 10


def test_text_frames_over_the_control_budget_get_one_rate_limited_a_second_and_a_flood_closes_with_4008():
    connection = member(budgets=Budgets(control_per_s=20, control_burst=100))
    chat = text({"type": "chat", "text": "hi"})
    outcomes = [connection.receive_text(chat, NOW + i / 10_000) for i in range(400)]  # 400 in 40 ms
    assert sum(isinstance(e, Request) for batch in outcomes for e in batch) == 99  # the burst, less the hello
    replies = [m for batch in outcomes for m in sent(batch)]
    assert [m["code"] for m in replies] == ["rate_limited"]  # one reply, not one per dropped frame
    closes = [i for i, batch in enumerate(outcomes) if Close(CLOSE_FLOOD, "messages faster than 20 a second") in batch]
    assert connection.closed and closes == [299]  # 99 taken after the hello, 200 dropped, the next one closes
    assert connection.errors == 0  # rate limits are not errors: the flood close is a budget of its own


def test_chatting_at_the_control_rate_is_never_refused():
    connection = member(budgets=Budgets(control_per_s=20, control_burst=100))
    for i in range(20 * 60):
        assert isinstance(connection.receive_text(text({"type": "ping", "nonce": i}), NOW + i / 20)[0], Send)
    assert not connection.closed


def test_a_client_that_keeps_on_after_rate_limited_replies_is_closed_with_4008():
    connection = member(budgets=Budgets(rate_limited_allowance=20))
    limited = ProtocolError("rate_limited", "too many messages; try again in 1 s", "text")
    for i in range(20):  # a room's chat limit said no 20 times within a second: patience is spent
        connection.receive_text(text({"type": "chat", "text": f"line {i}"}), NOW + i / 20)
        assert sent(connection.refuse(limited))[0]["code"] == "rate_limited"
    connection.receive_text(text({"type": "chat", "text": "one more"}), NOW + 1)
    assert connection.refuse(limited) == [Close(CLOSE_FLOOD, "kept sending after rate_limited replies")]


def test_an_occasional_rate_limited_reply_never_closes():
    connection = member(budgets=Budgets(rate_limited_allowance=20))
    limited = ProtocolError("rate_limited", "too many messages; try again in 1 s", "text")
    for i in range(200):  # one a few seconds, for ten minutes
        connection.receive_text(text({"type": "chat", "text": f"line {i}"}), NOW + i * 3)
        assert sent(connection.refuse(limited))[0]["code"] == "rate_limited"
    assert not connection.closed


def test_no_hello_within_the_hello_timeout_closes_with_1008():
    connection = Connection(budgets=Budgets(hello_timeout_s=5), opened_at=NOW)
    assert connection.check_every(NOW + 1) == pytest.approx(4)
    assert connection.check(NOW + 4.9) == []
    assert connection.receive_text(text({"type": "ping", "nonce": 1}), NOW + 4.95)  # pings do not keep it open
    assert connection.check(NOW + 5) == [Close(1008, "no hello within 5 s")]


def test_after_the_hello_there_is_no_hello_deadline():
    connection = Connection(budgets=Budgets(hello_timeout_s=5), opened_at=NOW)
    connection.receive_text(text(HELLO), NOW + 1)
    connection.joined()
    assert connection.check_every(NOW + 2) is None
    assert connection.check(NOW + 600) == []


def test_a_member_whose_poses_acknowledge_nothing_new_is_closed_with_4009():
    connection = member(budgets=Budgets(read_timeout_s=20))
    for i in range(20 * 19):  # it read snapshot 7 and then stopped reading, but kept sending for 19 s
        assert connection.receive_binary(pose(ack=7), NOW + i / 20)
    assert connection.receive_binary(pose(ack=7), NOW + 20) == [Close(CLOSE_SLOW_READER, "no snapshot acknowledged for 20 s")]
    never = member(budgets=Budgets(read_timeout_s=20))  # a client that never acknowledges at all
    never.receive_binary(pose(), NOW)
    assert never.receive_binary(pose(), NOW + 20) == [Close(CLOSE_SLOW_READER, "no snapshot acknowledged for 20 s")]


def test_a_writer_stuck_on_a_client_that_does_not_read_closes_it_with_4009():
    connection = member(budgets=Budgets(read_timeout_s=20))
    assert connection.check(NOW + 5, unsent_for=19.9) == []
    assert connection.check(NOW + 6, unsent_for=20) == [Close(CLOSE_SLOW_READER, "nothing read for 20 s")]
