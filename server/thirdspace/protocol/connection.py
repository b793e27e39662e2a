"""One visitor connection's protocol, without I/O.

:class:`Connection` holds the rules of ``docs/protocol.md`` that belong to a
connection rather than to a room: a ``hello`` (or a curator's ``watch``) comes
first, frame size limits, which frames close the connection with which code,
``ping``, and the error budget.  It is fed what arrived, with the time, and
answers with what to do::

    connection = Connection(max_errors=20)
    for event in connection.receive_text(frame, now):
        match event:
            case Send(data): ...             # queue a text frame
            case Close(code, reason): ...    # close the WebSocket with this code
            case Request(message, now): ...  # a hello, watch, chat, tour, report or pose for the services

A service that carries out a :class:`Request` tells the connection how it went:
:meth:`Connection.joined` after a hello placed the visitor,
:meth:`Connection.watching` after a watch was accepted, :meth:`Connection.refuse`
when it refused (which counts against the error budget and may close), and the
events those return are handled like the others.  Nothing here awaits, reads a
clock or touches a socket, so every rule is tested without a server, in the
manner of the ``websockets`` library's ``protocol.py`` and of ``h11``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from thirdspace.protocol.codec import (
    Chat,
    Hello,
    Ping,
    ProtocolError,
    Quick,
    Report,
    Signal,
    TourAction,
    VoiceState,
    Watch,
    decode_control,
    decode_pose,
    encode_control,
)
from thirdspace.protocol.constants import CLOSE_MESSAGE_TOO_BIG, CLOSE_POLICY, MAX_FRAME_BYTES

# Not the client's fault (a voice peer that just left is a race): no part of the error budget.
UNCOUNTED_ERRORS = frozenset({"rate_limited", "unavailable", "not_paired"})


@dataclass(frozen=True)
class Pose:
    """A decoded uplink pose frame."""

    flags: int
    ack: int
    parts: np.ndarray  # (3, 7) float32: head, left, right as px py pz qx qy qz qw


Message = Hello | Watch | Chat | Quick | TourAction | Report | VoiceState | Signal | Pose


@dataclass(frozen=True)
class Request:
    """Something the client asked for that a service carries out (a room, the store)."""

    message: Message
    now: float  # the monotonic time the frame arrived


@dataclass(frozen=True)
class Send:
    """Queue a control message (a text frame) for the client."""

    data: bytes


@dataclass(frozen=True)
class Close:
    """Close the connection with ``code``; nothing more is read from it."""

    code: int
    reason: str


Event = Request | Send | Close


class State(enum.Enum):
    OPENING = "opening"  # waiting for a hello (or a watch); a faulty hello may be corrected
    MEMBER = "member"  # a hello was accepted: the visitor is in a room
    WATCHING = "watching"  # a curator's connection that follows a draft instead of joining
    CLOSED = "closed"


class Connection:
    """The protocol state of one visitor's WebSocket connection."""

    def __init__(self, max_errors: int = 20, max_frame_bytes: int = MAX_FRAME_BYTES):
        self.max_errors = max_errors
        self.max_frame_bytes = max_frame_bytes
        self.state = State.OPENING
        self.errors = 0  # invalid messages so far (errors in UNCOUNTED_ERRORS excepted)
        self.left_on_purpose = False  # the client closed with 1000/1001, or broke the WebSocket protocol: no resume window

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    # -- what arrived --------------------------------------------------------------------

    def receive_text(self, data: bytes | str, now: float) -> list[Event]:
        """A text frame (a control message)."""
        if self.closed:
            return []
        if len(data) > self.max_frame_bytes:
            return self._too_big(len(data))
        try:
            message = decode_control(data)
        except ProtocolError as err:
            if self.state is State.OPENING and err.message_type not in ("hello", "watch"):
                return self.close(CLOSE_POLICY, "send hello first")  # only a hello may come first, even a faulty one
            if err.close_code is not None:
                return self.close(err.close_code, err.message)
            return self.refuse(err)
        if isinstance(message, Ping):
            return [Send(encode_control({"type": "pong", "nonce": message.nonce}))]
        if isinstance(message, Watch):
            if self.state is State.MEMBER:
                return self.refuse(ProtocolError("bad_request", "a visitor's connection cannot also watch a draft", "type"))
            return [Request(message, now)]
        if self.state is State.OPENING:
            if isinstance(message, Hello):
                return [Request(message, now)]
            return self.close(CLOSE_POLICY, "send hello first")
        if self.state is State.WATCHING:
            return self.refuse(ProtocolError("bad_request", "a watching connection cannot join a room", "type"))
        if isinstance(message, Hello):
            return self.refuse(ProtocolError("bad_request", "hello was already accepted", "type"))
        return [Request(message, now)]

    def receive_binary(self, data: bytes, now: float) -> list[Event]:
        """A binary frame (a pose)."""
        if self.closed:
            return []
        if len(data) > self.max_frame_bytes:
            return self._too_big(len(data))
        if self.state is not State.MEMBER:
            return self.close(CLOSE_POLICY, "send hello first")
        try:
            flags, ack, parts = decode_pose(data)
        except ProtocolError as err:
            assert err.close_code is not None
            return self.close(err.close_code, err.message)
        return [Request(Pose(flags, ack, parts), now)]

    def receive_close(self, code: int | None) -> None:
        """The client closed the connection (``code`` from its close frame, None without one)."""
        self.left_on_purpose = self.left_on_purpose or code in (1000, 1001)
        self.state = State.CLOSED

    def receive_violation(self) -> None:
        """The WebSocket layer closed the connection for a protocol violation (such as a frame over its size limit)."""
        self.left_on_purpose = True
        self.state = State.CLOSED

    # -- what the services decided ---------------------------------------------------------

    def joined(self) -> None:
        """A hello placed the visitor in a room."""
        if self.state is State.OPENING:
            self.state = State.MEMBER

    def watching(self, scene: str, revision: int) -> list[Event]:
        """A watch was accepted: the answer to send."""
        if self.closed:
            return []
        self.state = State.WATCHING
        return [Send(encode_control({"type": "watching", "scene": scene, "revision": revision}))]

    def refuse(self, error: ProtocolError | dict[str, Any]) -> list[Event]:
        """A request was refused (by the decoder, a room or the store): an ``error`` reply, or a 1008 close
        once more than ``max_errors`` invalid messages have come (rate limits and outages are not counted)."""
        if self.closed:
            return []
        message = error.to_message() if isinstance(error, ProtocolError) else error
        if message["code"] not in UNCOUNTED_ERRORS:
            self.errors += 1
            if self.errors > self.max_errors:
                return self.close(CLOSE_POLICY, "too many invalid messages")
        return [Send(encode_control(message))]

    def close(self, code: int, reason: str) -> list[Event]:
        """Close from the server's side (a rule broken here, or a service's decision such as a redirect)."""
        if self.closed:
            return []
        self.state = State.CLOSED
        return [Close(code, reason)]

    def _too_big(self, size: int) -> list[Event]:
        return self.close(CLOSE_MESSAGE_TOO_BIG, f"a frame is at most {self.max_frame_bytes} bytes, this one {size}")
