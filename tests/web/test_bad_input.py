"""Bad input on the WebSocket: an error message or the right close code, and
nobody else in the room notices."""

import asyncio
import contextlib

import orjson
import pytest
import websockets

from thirdspace.client import ThirdSpaceClient
from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.constants import MAX_FRAME_BYTES, POSE_FRAME_SIZE
from thirdspace.web.keys import SETTINGS

MM = 0.001  # positions travel quantised to within a millimetre


@pytest.fixture
async def bystanders(server):
    """Two visitors chatting and moving in the room the offender joins."""
    a = await ThirdSpaceClient.connect(server.ws, "gallery", "bystander-a")
    b = await ThirdSpaceClient.connect(server.ws, "gallery", "bystander-b")
    yield a, b
    # Everyone else carried on: they still move and chat.
    await a.send_pose((2.0, 1.6, 1.0))
    await b.wait_for(lambda c: a.id in c.poses and abs(c.poses[a.id][0, 0] - 2.0) < MM)
    await a.send_chat("still here")
    await b.wait_for(lambda c: any(m["text"] == "still here" for m in c.chat))
    assert not a.closed and not b.closed
    await a.close()
    await b.close()


def hello(scene="gallery"):
    return orjson.dumps({"type": "hello", "protocol": 2, "scene": scene, "name": "offender"}).decode()


async def joined(server):
    ws = await websockets.connect(server.ws)
    await ws.send(hello())
    assert orjson.loads(await ws.recv())["type"] == "welcome"
    return ws


async def next_control(ws, skip=frozenset({"join", "leave", "chat"})):
    while True:
        data = await asyncio.wait_for(ws.recv(), 5)
        if isinstance(data, str):
            message = orjson.loads(data)
            if message["type"] not in skip:
                return message


async def closed_with(ws) -> int:
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


async def test_invalid_json_closes_1007(server, bystanders):
    ws = await joined(server)
    await ws.send("{not json")
    assert await closed_with(ws) == 1007


async def test_invalid_utf8_text_closes_1007(server, bystanders):
    ws = await joined(server)
    await ws.send(b"\xff\xfe{}", text=True)
    assert await closed_with(ws) == 1007


async def test_unknown_type_gets_an_error_and_the_connection_stays(server, bystanders):
    ws = await joined(server)
    await ws.send('{"type": "teleport-everyone"}')
    error = await next_control(ws)
    assert error == {"type": "error", "code": "unknown_type", "message": "unknown message type 'teleport-everyone'", "field": "type"}
    await ws.send('{"type": "ping", "nonce": 1}')
    assert (await next_control(ws))["type"] == "pong"
    await ws.close()


@pytest.mark.parametrize(
    ("message", "field"),
    [({"type": "chat", "text": 42}, "text"), ({"type": "chat"}, "text"), ({"type": "ping", "nonce": {"a": 1}}, "nonce")],
)
async def test_wrong_field_types_get_an_error_naming_the_field(server, bystanders, message, field):
    ws = await joined(server)
    await ws.send(orjson.dumps(message).decode())
    error = await next_control(ws)
    assert error["type"] == "error" and error["code"] == "bad_request" and error["field"] == field
    await ws.close()


async def test_bad_hello_fields_get_an_error_then_a_good_hello_joins(server, bystanders):
    ws = await websockets.connect(server.ws)
    await ws.send(orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": 7}).decode())
    assert (await next_control(ws))["field"] == "name"
    await ws.send(hello())
    assert (await next_control(ws))["type"] == "welcome"
    await ws.send(hello())
    assert (await next_control(ws))["message"] == "hello was already accepted"
    await ws.close()


def chat_frame(size: int) -> str:
    """A chat line padded with JSON whitespace to exactly ``size`` bytes."""
    frame = orjson.dumps({"type": "chat", "text": "padded"}).decode()
    return frame[:-1] + " " * (size - len(frame)) + "}"


async def test_a_frame_of_the_limit_is_read_and_one_byte_more_closes_1009(server, bystanders):
    ws = await joined(server)
    await ws.send(chat_frame(MAX_FRAME_BYTES))
    assert (await next_control(ws, {"join", "leave"}))["text"] == "padded"
    await ws.send(chat_frame(MAX_FRAME_BYTES + 1))
    assert await closed_with(ws) == 1009


async def test_a_far_larger_frame_closes_1009(server, bystanders):
    ws = await joined(server)
    await ws.send(orjson.dumps({"type": "chat", "text": "x" * MAX_FRAME_BYTES * 4}).decode())
    assert await closed_with(ws) == 1009


@pytest.mark.parametrize("length", [0, 1, POSE_FRAME_SIZE - 1, POSE_FRAME_SIZE + 1, 1000])
async def test_binary_frame_of_wrong_length_closes_1007(server, bystanders, length):
    ws = await joined(server)
    await ws.send(bytes([1]) + bytes(max(0, length - 1)) if length else b"")
    assert await closed_with(ws) == 1007


async def test_unknown_binary_kind_closes_1007(server, bystanders):
    ws = await joined(server)
    await ws.send(bytes([9]) + bytes(POSE_FRAME_SIZE - 1))
    assert await closed_with(ws) == 1007


@pytest.mark.parametrize("first", ['{"type": "chat", "text": "hi"}', "binary"])
async def test_messages_before_hello_close_1008(server, bystanders, first):
    import numpy as np

    ws = await websockets.connect(server.ws)
    await ws.send(encode_pose(np.zeros((3, 7), np.float32)) if first == "binary" else first)
    assert await closed_with(ws) == 1008


async def test_a_stream_of_bad_messages_is_cut_off_with_1008(server, bystanders):
    ws = await joined(server)
    for _ in range(server.app[SETTINGS].max_errors + 1):
        await ws.send('{"type": 1}')
    assert await closed_with(ws) == 1008


async def test_chat_rate_limit_gives_an_error(server, bystanders):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "chatty") as chatty:
        for i in range(8):
            await chatty.send_chat(f"message {i}")
        error = await chatty.wait_for(lambda c: c.errors)
        assert error[0]["code"] == "rate_limited" and error[0]["field"] == "text"
        await chatty.wait_for(lambda c: len([m for m in c.chat if m["from"] == chatty.id]) == 5)


@pytest.mark.parametrize("first", ['{"type": "dance"}', "{}", '{"type": "chat", "text": 5}', "not json", "[1]", b"\xff"])
async def test_anything_but_a_hello_first_closes_1008_even_when_malformed(server, bystanders, first):
    ws = await websockets.connect(server.ws)
    await ws.send(first)
    assert await closed_with(ws) == 1008


async def test_control_characters_in_names_are_refused(server, bystanders):
    ws = await websockets.connect(server.ws)
    await ws.send(orjson.dumps({"type": "hello", "protocol": 2, "scene": "gallery", "name": "a\u0085b"}).decode())
    error = await next_control(ws)
    assert error["field"] == "name" and error["code"] == "bad_request"
    await ws.close()


async def test_refusals_by_the_room_count_towards_the_error_budget(server, bystanders):
    ws = await joined(server)
    await ws.send(orjson.dumps({"type": "chat", "text": "once"}).decode())
    for _ in range(server.app[SETTINGS].max_errors + 1):  # the same line again and again: "duplicate" each time
        await ws.send(orjson.dumps({"type": "chat", "text": "once"}).decode())
    assert await closed_with(ws) == 1008
