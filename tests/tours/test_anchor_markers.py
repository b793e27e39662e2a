"""`thirdspace anchors print`: one QR code per anchor that opens the scene at that anchor."""

from __future__ import annotations

import subprocess
import sys

import qrcode
from PIL import Image

from tests.conftest import demo_scene
from thirdspace.tours.anchors import PAGE_PX, anchor_url, print_anchors


def test_the_codes_encode_the_scene_and_anchor(tmp_path):
    document = demo_scene("gallery")
    urls = print_anchors(document, tmp_path / "markers.png", "https://museum.example/", room="gallery-1")
    assert urls == [
        "https://museum.example/?scene=gallery&anchor=gallery-door&room=gallery-1",
        "https://museum.example/?scene=gallery&anchor=east-wall&room=gallery-1",
    ]
    for anchor_id, url in zip(("gallery-door", "east-wall"), urls, strict=True):
        page = Image.open(tmp_path / f"markers-{anchor_id}.png").convert("L")
        assert page.size == PAGE_PX
        expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        expected.add_data(url)
        expected.make(fit=True)
        matrix = expected.get_matrix()  # includes the quiet border
        module = 900 / len(matrix)
        left = (PAGE_PX[0] - 900) // 2
        read = [[page.getpixel((int(left + (x + 0.5) * module), int(240 + (y + 0.5) * module))) < 128 for x in range(len(matrix))]
                for y in range(len(matrix))]  # fmt: skip
        assert read == matrix


def test_the_command_writes_a_pdf_page_per_anchor(tmp_path):
    out = tmp_path / "anchors.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "thirdspace", "anchors", "print", "gallery", "-o", str(out), "--url", "https://museum.example",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [anchor_url("https://museum.example", "gallery", a) for a in ("gallery-door", "east-wall")]
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page\r") + data.count(b"/Type /Page ") >= 1
    missing = subprocess.run([sys.executable, "-m", "thirdspace", "anchors", "print", "market", "-o", str(tmp_path / "m.pdf"),
                              "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert missing.returncode == 2 and "no anchors" in missing.stderr
