"""Every number on the wire, in one place.

``web_client/src/protocol.js`` mirrors these; ``tests/protocol/test_constants.py``
keeps the two equal.
"""

from __future__ import annotations

import numpy as np

PROTOCOL_VERSION = 2

# Binary frame kinds (first byte of every binary frame).
FRAME_POSE = 0x01  # client -> server
FRAME_SNAPSHOT_V2 = 0x03  # server -> client: quantised, interest-managed, delta-encoded

# Tracked parts, in wire order.
PARTS = ("head", "left", "right")
PART_FLOATS = 7  # px py pz qx qy qz qw

# Pose flags (uplink byte 1; the first 3 bits of every avatar in a snapshot).
FLAG_LEFT = 0x01  # left hand tracked
FLAG_RIGHT = 0x02  # right hand tracked
FLAG_TELEPORT = 0x04  # this pose follows a teleport: no speed check
FLAG_ACK = 0x08  # uplink only: the u16 after the flags acknowledges a snapshot
FLAGS_KNOWN = FLAG_LEFT | FLAG_RIGHT | FLAG_TELEPORT | FLAG_ACK

# Little-endian layouts, used by numpy to read and write whole frames at once.
POSE_DTYPE = np.dtype([("kind", "u1"), ("flags", "u1"), ("ack", "<u2"), ("parts", "<f4", (len(PARTS), PART_FLOATS))])

POSE_FRAME_SIZE = POSE_DTYPE.itemsize  # 88

# Limits.
MAX_FRAME_BYTES = 16 * 1024  # a client frame may be this long; a longer one is closed with 1009
MAX_NAME_CHARS = 64

# Avatar styles a hello may name (web_client/src/avatars.js draws them; tests/web/test_avatar_hello.py keeps
# the two lists equal). A well-formed id the server does not know means the default, so a newer client still joins.
AVATAR_STYLES = ("traveller", "kente", "kimono", "kurta", "poncho", "djellaba", "kanga", "nordic")
DEFAULT_AVATAR = AVATAR_STYLES[0]
MAX_CHAT_CHARS = 500
MAX_SDP_CHARS = 10_000  # a voice offer or answer (an Opus-only SDP is 2 to 4 KB)
MAX_CANDIDATE_CHARS = 1_000  # one ICE candidate line

# WebSocket close codes (RFC 6455 section 7.4.1).
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_INVALID_PAYLOAD = 1007  # undecodable JSON or UTF-8, wrong binary length, unknown frame kind
CLOSE_POLICY = 1008  # anything but a hello first, or too many invalid messages
CLOSE_MESSAGE_TOO_BIG = 1009  # a client frame longer than MAX_FRAME_BYTES
CLOSE_KICKED = 4003  # a moderator removed the visitor from the room (the reason says for how long)
CLOSE_ROOM_CLOSED = 4004  # a moderator closed the room (a "closed" message with their words came first)
CLOSE_FLOOD = 4008  # poses or messages far over the connection's budget, or on after rate_limited replies: wait, then reconnect
CLOSE_SLOW_READER = 4009  # the client left frames unread for the read deadline (it is usually gone before this arrives)
CLOSE_MOVED = 4005  # this node is shutting down: a "move" message said where the room went; resume there
