"""The images inside a glTF asset: checked from their headers first, then decoded, within limits.

An image is a texture's pixels, packed in the GLB as PNG, JPEG, WebP or KTX2.  Decoding one costs
memory in proportion to its pixels, not its bytes: a 900 KB PNG can claim 30,000 x 30,000 pixels
(2.7 GB once decoded).  So each image is first read only as far as its header (Pillow opens lazily),
and refused unless

- its format is the one its ``mimeType`` says,
- it is at most ``max_side`` pixels wide and high, and
- all of the asset's images together stay within ``max_pixels``;

then PNG, JPEG and WebP images are decoded in full (``Image.verify`` and ``Image.load``), so a file
that only starts like an image is refused too.  KTX2 images (compressed GPU formats that Pillow cannot
decode) are checked from their header and level index: sizes, and every mip level inside the file.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is set to the same per-image limit.
This runs in an asset worker process (``thirdspace.services.assets``), never on the server's event loop.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image

from thirdspace.assets.checks import ImportRefused
from thirdspace.assets.gltf import Gltf

DEFAULT_MAX_SIDE = 8192
DEFAULT_MAX_PIXELS = 8192 * 8192
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
FORMAT_NAMES = {"PNG": "a PNG", "JPEG": "a JPEG", "WEBP": "a WebP", "KTX2": "a KTX2"}
KTX2_IDENTIFIER = b"\xabKTX 20\xbb\r\n\x1a\n"
KTX2_HEADER = struct.Struct("<9I")  # vkFormat, typeSize, width, height, depth, layers, faces, levels, supercompression
KTX2_INDEX = struct.Struct("<4I2Q")  # dfd offset and length, kvd offset and length, sgd offset and length
KTX2_LEVEL = struct.Struct("<3Q")  # byteOffset, byteLength, uncompressedByteLength


@dataclass(frozen=True)
class ImageInfo:
    index: int
    format: str  # PNG, JPEG, WEBP or KTX2
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def image_bytes(gltf: Gltf, index: int) -> bytes:
    """The bytes of ``images[index]`` of a checked, merged GLB (every image is in a buffer view by then)."""
    image = gltf.document["images"][index]
    view = gltf.document["bufferViews"][image["bufferView"]]
    start = view.get("byteOffset", 0)
    return gltf.binary[start : start + view["byteLength"]]


def check_images(gltf: Gltf, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[ImageInfo]:
    """Check every image of ``gltf``: headers first (all of them, before any decoding), then decoding; raise ImportRefused."""
    Image.MAX_IMAGE_PIXELS = min(max_side * max_side, max_pixels)
    infos: list[ImageInfo] = []
    total = 0
    for index, image in enumerate(gltf.document.get("images", [])):
        info = read_header(image_bytes(gltf, index), image.get("mimeType"), index, max_side)
        total += info.pixels
        if total > max_pixels:
            raise ImportRefused(
                f"image {index}: the asset's images come to {total} pixels with this one ({info.width} x {info.height}); "
                f"the limit for all of an asset's images together is {max_pixels} pixels (import_max_image_pixels)",
                f"images[{index}]",
            )
        infos.append(info)
    for info in infos:
        if info.format != "KTX2":
            decode(image_bytes(gltf, info.index), info)
    return infos


def read_header(data: bytes, mime: object, index: int, max_side: int) -> ImageInfo:
    """The image's format and size from its header alone; refuse a format other than ``mime`` or a side over ``max_side``."""
    field = f"images[{index}]"
    if mime == "image/ktx2":
        info = _ktx2_header(data, index)
    elif mime in PILLOW_FORMATS:
        info = _pillow_header(data, index, PILLOW_FORMATS[mime], max_side)
    else:
        raise ImportRefused(f"image {index}: mimeType {mime!r} is not one of {', '.join(sorted(PILLOW_FORMATS) + ['image/ktx2'])}", field)
    if not 1 <= info.width <= max_side or not 1 <= info.height <= max_side:
        raise ImportRefused(
            f"image {index}: its header says {info.width} x {info.height} pixels; "
            f"the limit is {max_side} pixels a side (import_max_image_side)",
            field,
        )
    return info


def _pillow_header(data: bytes, index: int, expected: str, max_side: int) -> ImageInfo:
    field = f"images[{index}]"
    claimed = FORMAT_NAMES[expected]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the side limit below says it better
            with Image.open(io.BytesIO(data), formats=list(PILLOW_FORMATS.values())) as image:
                found, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        size = _png_size(data)
        said = f"{size[0]} x {size[1]} pixels" if size else "more pixels than allowed"
        raise ImportRefused(
            f"image {index}: its header says {said}; the limit is {max_side} pixels a side (import_max_image_side)", field
        ) from None
    except MemoryError:
        raise
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, ...) for files it cannot read
        raise ImportRefused(f"image {index}: not {claimed} image as its mimeType says ({_reason(exc)})", field) from None
    if found != expected:
        mime = next(m for m, f in PILLOW_FORMATS.items() if f == expected)
        raise ImportRefused(
            f"image {index}: the data is {FORMAT_NAMES.get(found or '', repr(found))} image, but its mimeType says {mime}", field
        )
    return ImageInfo(index, expected, width, height)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


def decode(data: bytes, info: ImageInfo) -> None:
    """Decode every pixel (after the header checks passed); refuse an image that does not decode."""
    field = f"images[{info.index}]"
    try:
        with Image.open(io.BytesIO(data), formats=[info.format]) as image:
            image.verify()  # chunk checksums and structure (PNG), without keeping the pixels
        with Image.open(io.BytesIO(data), formats=[info.format]) as image:
            if image.size != (info.width, info.height):
                raise ValueError(f"its size changed from {info.width} x {info.height} to {image.size[0]} x {image.size[1]}")
            image.load()
    except MemoryError:
        raise
    except Exception as exc:
        raise ImportRefused(f"image {info.index}: {FORMAT_NAMES[info.format]} image that does not decode ({_reason(exc)})", field) from None


def _ktx2_header(data: bytes, index: int) -> ImageInfo:
    field = f"images[{index}]"
    if not data.startswith(KTX2_IDENTIFIER):
        raise ImportRefused(f"image {index}: not a KTX2 image as its mimeType says (no KTX2 identifier)", field)
    header_end = len(KTX2_IDENTIFIER) + KTX2_HEADER.size
    if len(data) < header_end + KTX2_INDEX.size:
        raise ImportRefused(f"image {index}: a KTX2 image cut short in its header ({len(data)} bytes)", field)
    _, _, width, height, depth, layers, faces, levels, _ = KTX2_HEADER.unpack_from(data, len(KTX2_IDENTIFIER))
    if depth > 1 or layers > 1 or faces != 1:
        raise ImportRefused(f"image {index}: a KTX2 texture must be one 2D image (depth {depth}, layers {layers}, faces {faces})", field)
    if levels > 32:
        raise ImportRefused(f"image {index}: a KTX2 image of {levels} mip levels (at most 32 make sense)", field)
    start = header_end + KTX2_INDEX.size
    if len(data) < start + KTX2_LEVEL.size * max(1, levels):
        raise ImportRefused(f"image {index}: a KTX2 image cut short in its level index", field)
    for level in range(max(1, levels)):
        offset, length, _ = KTX2_LEVEL.unpack_from(data, start + level * KTX2_LEVEL.size)
        if length < 1 or offset + length > len(data):
            raise ImportRefused(f"image {index}: KTX2 mip level {level} spans bytes {offset}..{offset + length} of {len(data)}", field)
    return ImageInfo(index, "KTX2", width, height)


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
