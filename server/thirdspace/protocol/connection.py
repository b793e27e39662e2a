"""One visitor connection's protocol, without I/O.

:class:`Connection` holds the rules of ``docs/protocol.md`` that belong to a
connection rather than to a room: a ``hello`` (or a curator's ``watch``) comes
first, frame size limits, which frames close the connection with which code,
``ping``, the error budget and the other per-connection budgets of
:class:`Budgets` (poses, control messages, patience with a client that keeps
going after ``rate_limited``, the hello deadline and the read deadline).  It is
fed what arrived, with the time, and answers with what to do::

    connection = Connection(max_errors=20, opened_at=now)
    for event in connection.receive_text(frame, now):
        match event:
            case Send(data): ...             # queue a text frame
            case Close(code, reason): ...    # close the WebSocket with this code
            case Request(message, now): ...  # a hello, watch, chat, tour, report or pose for the services

:meth:`Connection.check` is called with the time and how long the oldest unsent
frame has waited, whenever a frame arrives and at least every
:meth:`Connection.check_every` seconds; it enforces the deadlines.

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
import math
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
from thirdspace.protocol.constants import (
    CLOSE_FLOOD,
    CLOSE_INVALID_PAYLOAD,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_POLICY,
    CLOSE_SLOW_READER,
    FLAG_ACK,
    FRAME_POSE,
    MAX_FRAME_BYTES,
    POSE_FRAME_SIZE,
)

# Not the client's fault (a voice peer that just left is a race): no part of the error budget.
UNCOUNTED_ERRORS = frozenset({"rate_limited", "unavailable", "not_paired"})


@dataclass(frozen=True)
class Budgets:
    """What one connection may spend (docs/protocol.md, "Limits").  Rates are per second."""

    poses_per_s: float = 30.0  # 1.5 times the default tick rate; poses beyond it are dropped
    pose_burst: float = 60.0  # poses that may arrive at once after a network stall
    dropped_pose_allowance: float = 120.0  # dropped poses a client may run up; refilled at a quarter of poses_per_s
    control_per_s: float = 40.0  # text frames (chat, quick, tour, voice signalling, ping, ...)
    control_burst: float = 200.0  # above the voice signalling limit's burst (120): a set change sends a burst of ICE candidates
    rate_limited_allowance: float = 20.0  # rate_limited replies a client may run up; refilled one per 2 s
    hello_timeout_s: float = 5.0  # a connection that has not said hello (or watch) by then is closed
    read_timeout_s: float = 20.0  # a frame the client has not taken for this long: it stopped reading, the connection is dropped

    @classmethod
    def for_tick(cls, tick_hz: float, **overrides: float) -> Budgets:
        """Pose budgets that follow the room's tick rate (1.5 poses per tick, 3 s of burst and allowance)."""
        rate = 1.5 * tick_hz
        return cls(poses_per_s=rate, pose_burst=2 * rate, dropped_pose_allowance=4 * rate, **overrides)


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` a second from the first time it is used; :meth:`take` spends one."""

    __slots__ = ("capacity", "rate", "tokens", "at")

    def __init__(self, capacity: float, rate: float, now: float | None = None):
        self.capacity, self.rate, self.tokens, self.at = capacity, rate, capacity, now

    def take(self, now: float) -> bool:
        if self.at is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds from the last :meth:`take` until there is a token again."""
        return max(0.0, (1.0 - self.tokens) / self.rate)

    def drain(self, now: float, seconds: float) -> None:
        """Empty the bucket and owe ``seconds`` of refill."""
        self.tokens, self.at = -seconds * self.rate, now


@dataclass(frozen=True, slots=True)
class Pose:
    """An uplink pose frame of the right length and kind; the room reads its floats (``rooms/inbox.py``)."""

    flags: int
    ack: int
    frame: bytes

    @property
    def parts(self) -> np.ndarray:
        """(3, 7) float32: head, left, right as px py pz qx qy qz qw."""
        return decode_pose(self.frame)[2]


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

    def __init__(
        self,
        max_errors: int = 20,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        budgets: Budgets | None = None,
        opened_at: float | None = None,
    ):
        self.max_errors = max_errors
        self.max_frame_bytes = max_frame_bytes
        self.budgets = budgets = budgets or Budgets()
        self.opened_at = opened_at  # None: from the first frame or check
        self.state = State.OPENING
        self.errors = 0  # invalid messages so far (errors in UNCOUNTED_ERRORS excepted)
        self.left_on_purpose = False  # the client closed with 1000/1001, or broke the WebSocket protocol: no resume window
        self.poses_dropped = 0  # poses over the pose budget, dropped
        self._poses = TokenBucket(budgets.pose_burst, budgets.poses_per_s)
        self._pose_allowance = TokenBucket(budgets.dropped_pose_allowance, budgets.poses_per_s / 4)
        self._control = TokenBucket(budgets.control_burst, budgets.control_per_s)
        self._control_allowance = TokenBucket(2 * budgets.control_burst, budgets.control_per_s / 4)
        self._patience = TokenBucket(budgets.rate_limited_allowance, 0.5)
        self._throttled_at = float("-inf")  # when the last rate_limited reply for the control budget went out
        self._ack: int | None = None  # the newest snapshot the client's poses acknowledged
        self._ack_at: float | None = None  # when that acknowledgement first came (or the first pose, before any)
        self._now = 0.0  # the time of the newest frame or check (a refusal from a service is charged then)

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
        self._now = now
        if self.opened_at is None:
            self.opened_at = now
        if not self._control.take(now):
            return self._over_control_budget(now)
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
        self._now = now
        if not self._poses.take(now):
            self.poses_dropped += 1
            if not self._pose_allowance.take(now):
                return self.close(CLOSE_FLOOD, f"poses faster than {self.budgets.poses_per_s:g} a second")
            return []
        if len(data) != POSE_FRAME_SIZE:
            return self.close(CLOSE_INVALID_PAYLOAD, f"a pose frame is {POSE_FRAME_SIZE} bytes, got {len(data)}")
        if data[0] != FRAME_POSE:
            return self.close(CLOSE_INVALID_PAYLOAD, f"unknown binary frame kind {data[0]}")
        flags, ack = data[1], data[2] | data[3] << 8
        # Snapshots go to a member every tick, and a client that reads them acknowledges them in its poses: one whose
        # poses have acknowledged nothing new for read_timeout_s is sending without reading.
        if flags & FLAG_ACK and ack != self._ack:
            self._ack, self._ack_at = ack, now
        elif self._ack_at is None:
            self._ack_at = now
        elif now - self._ack_at >= self.budgets.read_timeout_s:
            return self.close(CLOSE_SLOW_READER, f"no snapshot acknowledged for {self.budgets.read_timeout_s:g} s")
        return [Request(Pose(flags, ack, bytes(data)), now)]

    def check(self, now: float, unsent_for: float = 0.0) -> list[Event]:
        """The deadlines: a hello within ``hello_timeout_s`` of opening, and no frame left unread by the client
        (``unsent_for``: how long the writer has waited to hand the oldest frame to the network) for ``read_timeout_s``."""
        if self.closed:
            return []
        self._now = now
        if self.opened_at is None:
            self.opened_at = now
        if self.state is State.OPENING and now - self.opened_at >= self.budgets.hello_timeout_s:
            return self.close(CLOSE_POLICY, f"no hello within {self.budgets.hello_timeout_s:g} s")
        if unsent_for >= self.budgets.read_timeout_s:
            return self.close(CLOSE_SLOW_READER, f"nothing read for {self.budgets.read_timeout_s:g} s")
        return []

    def check_every(self, now: float) -> float | None:
        """How long until :meth:`check` must next be called though no frame arrives (None: only when frames arrive)."""
        if self.state is State.OPENING:
            opened = now if self.opened_at is None else self.opened_at
            return max(0.0, opened + self.budgets.hello_timeout_s - now)
        return None

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
        if message["code"] == "rate_limited" and not self._patience.take(self._now):
            return self.close(CLOSE_FLOOD, "kept sending after rate_limited replies")
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

    def _over_control_budget(self, now: float) -> list[Event]:
        """A text frame over the control budget: dropped unread, with a ``rate_limited`` reply at most once a second;
        a client that runs up ``2 * control_burst`` dropped frames is closed."""
        if not self._control_allowance.take(now):
            return self.close(CLOSE_FLOOD, f"messages faster than {self.budgets.control_per_s:g} a second")
        if now - self._throttled_at < 1.0:
            return []
        self._throttled_at = now
        wait = self._control.wait()
        return self.refuse(ProtocolError("rate_limited", f"too many messages; try again in {math.ceil(wait * 10) / 10} s", "type"))

    def _too_big(self, size: int) -> list[Event]:
        return self.close(CLOSE_MESSAGE_TOO_BIG, f"a frame is at most {self.max_frame_bytes} bytes, this one {size}")
