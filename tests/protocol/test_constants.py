"""The JavaScript client's protocol constants equal the server's."""

import json
import re
import shutil
import subprocess

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


SPANS = [0.001, 0.002, 1, 14, 24, 100, 1000, 4096, 10_000]


def test_js_axis_bits_matches_python():
    script = f"import('./web_client/src/protocol.js').then(m => console.log(JSON.stringify({SPANS}.map(m.axisBits))))"
    result = subprocess.run([shutil.which("node"), "-e", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [layout.axis_bits(span) for span in SPANS]
