"""The JavaScript client's protocol constants equal the server's."""

import re

import pytest

from thirdspace.config import PROJECT_ROOT
from thirdspace.protocol import constants
from thirdspace.sync import layout

JS = (PROJECT_ROOT / "web_client" / "src" / "protocol.js").read_text("utf-8")
JS_CONSTANTS = {name: int(value, 0) for name, value in re.findall(r"export const (\w+) = (0x[0-9a-f]+|\d+);", JS)}
PYTHON = {**vars(constants), **vars(layout)}


@pytest.mark.parametrize("name", sorted(set(JS_CONSTANTS) - {"PARTS"}))
def test_js_constant_matches_python(name):
    assert JS_CONSTANTS[name] == PYTHON[name]


def test_every_wire_constant_is_mirrored():
    wanted = {"PROTOCOL_VERSION", "FRAME_POSE", "FRAME_SNAPSHOT_V2", "FLAG_ACK", "POSE_FRAME_SIZE", "POS_STEPS_PER_M", "QUAT_BITS",
              "WIDTH_ABSOLUTE", "NEW_COUNT_BITS", "ID_BITS", "FLAG_BITS", "SNAPSHOT_V2_HEADER_SIZE", "SNAPSHOT_FULL"}  # fmt: skip
    assert wanted <= set(JS_CONSTANTS)
    assert JS_CONSTANTS["PARTS"] == len(constants.PARTS)


@pytest.mark.parametrize("span", [0.001, 1, 14, 24, 100, 1000, 4096])
def test_js_axis_bits_formula_matches(span):
    # protocol.js: max(1, floor(log2(steps)) + 1) == Python's bit_length
    steps = round(span * 512)
    js = max(1, 0 if steps == 0 else steps.bit_length())
    assert js == layout.axis_bits(span)
