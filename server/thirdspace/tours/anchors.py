"""Printable markers for a scene's physical anchors: a QR code per anchor that opens the scene there.

Each code encodes ``BASE/?scene=SCENE&anchor=ANCHOR`` (and ``&room=ROOM`` when a
museum pins a room), so a phone's camera opens the tour on the right scene and the
page knows which marker it stands at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PAGE_PX = (1240, 1754)  # A4 at 150 dpi


def anchor_url(base: str, scene: str, anchor: str, room: str | None = None) -> str:
    query = {"scene": scene, "anchor": anchor} | ({"room": room} if room else {})
    return f"{base.rstrip('/')}/?{urlencode(query)}"


def pages(document: dict[str, Any], base: str, room: str | None = None) -> Iterator[tuple[str, str, Any]]:
    """One A4 image per anchor: the code, the anchor's name, the scene's title and the printed size to keep."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    language = document["default_language"]
    font = ImageFont.load_default(size=44)
    small = ImageFont.load_default(size=28)
    for anchor in document.get("anchors", []):
        url = anchor_url(base, document["id"], anchor["id"], room)
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=20, border=4)
        code.add_data(url)
        code.make(fit=True)
        image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
        side = 900
        image = image.resize((side, side), Image.Resampling.NEAREST)
        page = Image.new("RGB", PAGE_PX, "white")
        page.paste(image, ((PAGE_PX[0] - side) // 2, 240))
        draw = ImageDraw.Draw(page)
        name = (anchor.get("name") or {}).get(language, anchor["id"])
        title = document["title"].get(language, document["id"])
        size_cm = round(anchor.get("marker_size_m", 0.15) * 100, 1)
        draw.text((PAGE_PX[0] // 2, 120), title, fill="black", font=font, anchor="mm")
        draw.text((PAGE_PX[0] // 2, 1220), name, fill="black", font=font, anchor="mm")
        draw.text(
            (PAGE_PX[0] // 2, 1300),
            f"Print so that the code is {size_cm} cm wide. Anchor: {anchor['id']}",
            fill="black",
            font=small,
            anchor="mm",
        )
        draw.text((PAGE_PX[0] // 2, 1350), url, fill="black", font=small, anchor="mm")
        yield anchor["id"], url, page


def print_anchors(document: dict[str, Any], out: Path, base: str, room: str | None = None) -> list[str]:
    """Write the markers to a PDF (a page each) or PNG (one sheet, or one file per anchor for several); the URLs."""
    rendered = list(pages(document, base, room))
    if not rendered:
        raise ValueError(f"scene {document['id']!r} has no anchors")
    images = [page for _, _, page in rendered]
    if out.suffix.lower() == ".pdf":
        images[0].save(out, "PDF", resolution=150.0, save_all=True, append_images=images[1:])
    elif out.suffix.lower() == ".png":
        if len(images) == 1:
            images[0].save(out)
        else:
            for anchor_id, _, page in rendered:
                page.save(out.with_name(f"{out.stem}-{anchor_id}.png"))
    else:
        raise ValueError(f"{out.name}: write a .pdf or a .png")
    return [url for _, url, _ in rendered]
