"""The JavaScript client's protocol constants equal the server's."""

import re

import pytest

from thirdspace.config import PROJECT_ROOT
from thirdspace.protocol import constants

JS = (PROJECT_ROOT / "web_client" / "src" / "protocol.js").read_text("utf-8")
JS_CONSTANTS = {name: int(value, 0) for name, value in re.findall(r"export const (\w+) = (0x[0-9a-f]+|\d+);", JS)}


@pytest.mark.parametrize(
    "name",
    [
        "PROTOCOL_VERSION",
        "FRAME_POSE",
        "FRAME_SNAPSHOT",
        "PART_FLOATS",
        "FLAG_LEFT",
        "FLAG_RIGHT",
        "FLAG_TELEPORT",
        "POSE_FRAME_SIZE",
        "SNAPSHOT_HEADER_SIZE",
        "SNAPSHOT_ENTRY_SIZE",
        "MAX_CHAT_CHARS",
        "MAX_NAME_CHARS",
    ],
)
def test_js_constant_matches_python(name):
    assert JS_CONSTANTS[name] == getattr(constants, name)


def test_js_part_count_matches():
    assert JS_CONSTANTS["PARTS"] == len(constants.PARTS)
