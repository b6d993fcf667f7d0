"""The one image sniffer: real encodings from Pillow, and things that only look like images."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from data.media import browser_mime, file_extension, sniff, sniff_mime


def _encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt, mime, ext, safe", [
    ("PNG", "image/png", "png", True), ("JPEG", "image/jpeg", "jpg", True), ("GIF", "image/gif", "gif", True),
    ("WEBP", "image/webp", "webp", True), ("BMP", "image/bmp", "bmp", True), ("TIFF", "image/tiff", "tiff", False),
])
def test_every_format_pillow_writes_is_named_by_its_magic(fmt, mime, ext, safe):
    data = _encoded(fmt)
    assert sniff_mime(data) == mime
    assert file_extension(data) == ext
    assert (browser_mime(data) == mime) is safe


@pytest.mark.parametrize("data", [b"", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"RIFF\0\0\0\0WAVEfmt ",
                                  b"\xff\xd8", b"GIF8", b"%PDF-1.7"])
def test_non_images_and_truncated_magic_are_not_images(data):
    assert sniff(data) is None
    assert browser_mime(data) is None
    assert file_extension(data) == "png"
