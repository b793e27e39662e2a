"""Encoding and decoding of protocol frames: pure functions, no I/O.

Control messages are JSON objects; the decoder validates each client message
against :data:`CLIENT_MESSAGES` and raises :class:`ProtocolError` naming the
field.  Poses are fixed-layout little-endian binary frames read and written
with a numpy structured dtype; snapshots are written by the sync kernels
(``thirdspace.sync``) and read by ``thirdspace.sync.decode``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from thirdspace.chat.moderation import clean
from thirdspace.protocol.constants import (
    AVATAR_STYLES,
    CLOSE_INVALID_PAYLOAD,
    DEFAULT_AVATAR,
    FRAME_POSE,
    MAX_CANDIDATE_CHARS,
    MAX_CHAT_CHARS,
    MAX_NAME_CHARS,
    MAX_SDP_CHARS,
    PART_FLOATS,
    PARTS,
    POSE_DTYPE,
    POSE_FRAME_SIZE,
    PROTOCOL_VERSION,
)


class ProtocolError(Exception):
    """A client message that cannot be accepted.

    With ``close_code`` set the connection must be closed with it; otherwise the
    client gets an ``error`` message with ``code`` and ``field`` and carries on.
    """

    def __init__(self, code: str, message: str, field: str | None = None, close_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.close_code = close_code
        self.message_type: str | None = None  # the "type" of the refused message, when it had a known one

    def to_message(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.field is not None:
            msg["field"] = self.field
        return msg


LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _text(value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ProtocolError("bad_request", f"{field} must be a string", field)
    value = value.strip()
    if not value and not allow_empty:
        raise ProtocolError("bad_request", f"{field} must not be empty", field)
    if len(value) > max_chars:
        raise ProtocolError("too_long", f"{field} is longer than {max_chars} characters", field)
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ProtocolError("bad_request", f"{field} contains control characters", field)
    return value


def _shown(value: Any, field: str, max_chars: int) -> str:
    """A text others will see (a name, a report's reason), cleaned as chat lines are; refused if nothing visible is left."""
    cleaned = clean(_text(value, field, max_chars))
    if not cleaned:
        raise ProtocolError("bad_request", f"{field} is empty once invisible characters are removed", field)
    return cleaned


def _pattern(value: Any, field: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > 35:
        raise ProtocolError("bad_request", f"{field} must be {what}", field)
    return value


@dataclass(frozen=True)
class Hello:
    protocol: int
    scene: str
    name: str
    language: str
    colour: str
    room: str = ""  # a room to join (from a redirect or a move) or to resume in
    resume: str = ""  # the token of an earlier welcome: take the same place again
    avatar: str = DEFAULT_AVATAR  # one of AVATAR_STYLES


ROOM_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
RESUME_TOKEN = re.compile(r"^[0-9]{1,5}\.[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Chat:
    text: str


@dataclass(frozen=True)
class Ping:
    nonce: Any


def _decode_hello(msg: dict[str, Any]) -> Hello:
    protocol = msg.get("protocol")
    if type(protocol) is not int:
        raise ProtocolError("bad_request", "protocol must be an integer", "protocol")
    if protocol != PROTOCOL_VERSION:
        raise ProtocolError("unsupported_protocol", f"this server speaks protocol {PROTOCOL_VERSION}, not {protocol}", "protocol")
    scene = msg.get("scene")
    if not isinstance(scene, str) or not scene:
        raise ProtocolError("bad_request", "scene must be a scene id", "scene")
    return Hello(
        protocol=protocol,
        scene=scene,
        name=_shown(msg.get("name"), "name", MAX_NAME_CHARS),
        language=_pattern(msg.get("language", "en"), "language", LANGUAGE_TAG, "a BCP 47 language tag"),
        colour=_pattern(msg.get("colour", "#4a90d9"), "colour", COLOUR, "a colour like #4a90d9").lower(),
        room=_optional(msg.get("room"), "room", ROOM_ID, "a room id"),
        resume=_optional(msg.get("resume"), "resume", RESUME_TOKEN, "the resume token of an earlier welcome"),
        avatar=_avatar(msg.get("avatar")),
    )


AVATAR_ID = re.compile(r"^[a-z0-9-]{1,32}$")


def _avatar(value: Any) -> str:
    """An avatar style id; missing, or a well-formed id this server does not know, is the default style."""
    if value is None or value == "":
        return DEFAULT_AVATAR
    if not isinstance(value, str) or not AVATAR_ID.fullmatch(value):
        raise ProtocolError("bad_request", f"avatar must be a style id, one of {', '.join(AVATAR_STYLES)}", "avatar")
    return value if value in AVATAR_STYLES else DEFAULT_AVATAR


def _optional(value: Any, field: str, pattern: re.Pattern[str], what: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ProtocolError("bad_request", f"{field} must be {what}", field)
    return value


def _decode_chat(msg: dict[str, Any]) -> Chat:
    return Chat(text=_text(msg.get("text"), "text", MAX_CHAT_CHARS))


def _decode_ping(msg: dict[str, Any]) -> Ping:
    nonce = msg.get("nonce")
    if nonce is not None and not isinstance(nonce, (int, str)):
        raise ProtocolError("bad_request", "nonce must be an integer or a string", "nonce")
    return Ping(nonce=nonce)


@dataclass(frozen=True)
class Watch:
    scene: str


def _decode_watch(msg: dict[str, Any]) -> Watch:
    scene = msg.get("scene")
    if not isinstance(scene, str) or not scene:
        raise ProtocolError("bad_request", "scene must be a scene id", "scene")
    return Watch(scene=scene)


@dataclass(frozen=True)
class Quick:
    phrase: str
    thing: str | None


def _decode_quick(msg: dict[str, Any]) -> Quick:
    phrase, thing = msg.get("phrase"), msg.get("thing")
    if not isinstance(phrase, str) or not phrase or len(phrase) > 64:
        raise ProtocolError("bad_request", "phrase must be a quick-chat phrase id", "phrase")
    if thing is not None and (not isinstance(thing, str) or not thing or len(thing) > 64):
        raise ProtocolError("bad_request", "thing must be a node id", "thing")
    return Quick(phrase, thing)


@dataclass(frozen=True)
class Report:
    message: int
    reason: str


def _decode_report(msg: dict[str, Any]) -> Report:
    message = msg.get("message")
    if type(message) is not int or message < 1:
        raise ProtocolError("bad_request", "message must be a chat line's id", "message")
    return Report(message, _shown(msg.get("reason", "no reason given"), "reason", 500))


TOUR_ACTIONS = ("start", "join", "leave", "next", "prev", "goto", "lead")


@dataclass(frozen=True)
class TourAction:
    action: str
    tour: str
    stop: str | None = None
    to: int | None = None


def _decode_tour(msg: dict[str, Any]) -> TourAction:
    action, tour, stop, to = msg.get("action"), msg.get("tour"), msg.get("stop"), msg.get("to")
    if action not in TOUR_ACTIONS:
        raise ProtocolError("bad_request", f"action must be one of {', '.join(TOUR_ACTIONS)}", "action")
    if not isinstance(tour, str) or not tour or len(tour) > 64:
        raise ProtocolError("bad_request", "tour must be a tour id", "tour")
    if action == "goto" and (not isinstance(stop, str) or not stop or len(stop) > 64):
        raise ProtocolError("bad_request", "goto needs the stop id", "stop")
    if action == "lead" and type(to) is not int:
        raise ProtocolError("bad_request", "lead needs the visitor id to hand the lead to", "to")
    return TourAction(action, tour, stop if action == "goto" else None, to if action == "lead" else None)


@dataclass(frozen=True)
class VoiceState:
    listen: bool
    speak: bool
    announce: bool


def _flag(msg: dict[str, Any], name: str) -> bool:
    value = msg.get(name, False)
    if not isinstance(value, bool):
        raise ProtocolError("bad_request", f"{name} must be true or false", name)
    return value


def _decode_voice(msg: dict[str, Any]) -> VoiceState:
    return VoiceState(_flag(msg, "listen"), _flag(msg, "speak"), _flag(msg, "announce"))


SIGNAL_KINDS = ("offer", "answer", "candidate")


@dataclass(frozen=True)
class Signal:
    to: int
    kind: str
    payload: dict[str, Any]  # {"sdp": ...} or {"candidate": {"candidate", "sdpMid", "sdpMLineIndex"}}


def _decode_signal(msg: dict[str, Any]) -> Signal:
    to, kind = msg.get("to"), msg.get("kind")
    if type(to) is not int or not 1 <= to <= 65535:
        raise ProtocolError("bad_request", "to must be a visitor id", "to")
    if kind not in SIGNAL_KINDS:
        raise ProtocolError("bad_request", f"kind must be one of {', '.join(SIGNAL_KINDS)}", "kind")
    if kind != "candidate":
        sdp = msg.get("sdp")
        if not isinstance(sdp, str) or not sdp:
            raise ProtocolError("bad_request", f"an {kind} needs its sdp", "sdp")
        if len(sdp) > MAX_SDP_CHARS:
            raise ProtocolError("too_long", f"sdp is longer than {MAX_SDP_CHARS} characters", "sdp")
        return Signal(to, kind, {"sdp": sdp})
    candidate = msg.get("candidate")
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        raise ProtocolError("bad_request", "candidate must be an RTCIceCandidateInit object", "candidate")
    line, mid, index = candidate["candidate"], candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
    if len(line) > MAX_CANDIDATE_CHARS:
        raise ProtocolError("too_long", f"candidate is longer than {MAX_CANDIDATE_CHARS} characters", "candidate")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 32):
        raise ProtocolError("bad_request", "candidate.sdpMid must be a short string or null", "candidate")
    if index is not None and (type(index) is not int or not 0 <= index <= 15):
        raise ProtocolError("bad_request", "candidate.sdpMLineIndex must be 0 to 15 or null", "candidate")
    return Signal(to, kind, {"candidate": {"candidate": line, "sdpMid": mid, "sdpMLineIndex": index}})


ClientMessage = Hello | Chat | Quick | Report | Ping | Watch | TourAction | VoiceState | Signal

CLIENT_MESSAGES: dict[str, Callable[[dict[str, Any]], ClientMessage]] = {
    "tour": _decode_tour,
    "hello": _decode_hello,
    "chat": _decode_chat,
    "quick": _decode_quick,
    "report": _decode_report,
    "ping": _decode_ping,
    "watch": _decode_watch,
    "voice": _decode_voice,
    "signal": _decode_signal,
}


def decode_control(data: str | bytes) -> ClientMessage:
    """Decode one client text frame into a message value."""
    try:
        msg = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "text frames must be JSON", close_code=CLOSE_INVALID_PAYLOAD) from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", "a control message must be a JSON object", close_code=CLOSE_INVALID_PAYLOAD)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "type must be a string", "type")
    decoder = CLIENT_MESSAGES.get(kind)
    if decoder is None:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}", "type")
    try:
        return decoder(msg)
    except ProtocolError as err:
        err.message_type = kind
        raise


def encode_control(msg: dict[str, Any]) -> bytes:
    """Encode a server message as UTF-8 JSON (sent as a text frame)."""
    return orjson.dumps(msg)


def decode_pose(data: bytes) -> tuple[int, int, np.ndarray]:
    """Read an uplink pose frame into (flags, ack, parts (3, 7) float32); ProtocolError (close 1007) when malformed."""
    if len(data) != POSE_FRAME_SIZE:
        raise ProtocolError("bad_frame", f"a pose frame is {POSE_FRAME_SIZE} bytes, got {len(data)}", close_code=CLOSE_INVALID_PAYLOAD)
    if data[0] != FRAME_POSE:
        raise ProtocolError("bad_frame", f"unknown binary frame kind {data[0]}", close_code=CLOSE_INVALID_PAYLOAD)
    parts = np.frombuffer(data, dtype="<f4", count=len(PARTS) * PART_FLOATS, offset=4).reshape(len(PARTS), PART_FLOATS)
    return data[1], data[2] | data[3] << 8, parts


def encode_pose(parts: np.ndarray, flags: int = 0, ack: int = 0) -> bytes:
    """Write an uplink pose frame; ``parts`` is (3, 7): head, left, right as px py pz qx qy qz qw.

    ``ack`` (with FLAG_ACK in ``flags``) is the sequence number of the newest snapshot decoded."""
    frame = np.zeros(1, dtype=POSE_DTYPE)
    frame["kind"] = FRAME_POSE
    frame["flags"] = flags
    frame["ack"] = ack & 0xFFFF
    frame["parts"] = parts
    return frame.tobytes()
