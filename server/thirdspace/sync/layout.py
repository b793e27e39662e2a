"""The numbers that define the version 2 snapshot format (see docs/protocol.md).

``web_client/src/protocol.js`` mirrors them; a test keeps the two equal.
"""

from __future__ import annotations

import math

POS_STEPS_PER_M = 512  # position quantum 1/512 m: error at most 0.98 mm
QUAT_BITS = 11  # smallest-three components: rotation error at most 0.14 degrees
QUAT_MAX = (1 << QUAT_BITS) - 1
QUAT_PACKED_BITS = 2 + 3 * QUAT_BITS  # index of the dropped component, then the other three
QUAT_INDEX_SHIFT = 3 * QUAT_BITS
QUAT_RANGE = math.sqrt(0.5)  # the three smallest components lie in [-1/sqrt(2), 1/sqrt(2)]
WIDTH_BITS = 4  # a delta's bit width is sent in 4 bits
WIDTH_ABSOLUTE = 15  # ... and this width means "absolute value follows"
QUAT_DELTA_MAX_WIDTH = QUAT_BITS  # wider rotation deltas are sent absolute
NEW_COUNT_BITS = 8  # "new avatars" count, minus one
ID_BITS = 16
FLAG_BITS = 3
SNAPSHOT_V2_HEADER_SIZE = 6  # kind u8, flags u8, seq u16, baseline u16
SNAPSHOT_FULL = 0x01  # header flag: no baseline, every avatar is new


def axis_bits(span_m: float) -> int:
    """Bits needed for one quantised coordinate across ``span_m`` metres."""
    return max(1, int(round(span_m * POS_STEPS_PER_M)).bit_length())
