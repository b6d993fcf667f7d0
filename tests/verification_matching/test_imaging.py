"""load_image: every bad input gets a polite reason; good inputs come out as plain RGB."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from verification.imaging import ImageRejected, load_image


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 15_200, height: int = 15_200) -> bytes:
    """A 231-megapixel PNG header with a tiny IDAT: a few hundred bytes that would decode to 693 MB."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 3)
    idat = zlib.compress(row * 4, 9)  # only a sliver of the data; enough for a decoder to start allocating
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def rejected(data, **kw) -> str:
    with pytest.raises(ImageRejected) as info:
        load_image(data, **kw)
    assert info.value.reason and info.value.reason[0].islower() or info.value.reason[0].isupper()
    return info.value.reason


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert "empty" in rejected(path)
    assert "empty" in rejected(b"")


def test_text_file_is_not_an_image():
    assert "not an image" in rejected(b"hello, this is a text file\n" * 10)


def test_truncated_png_and_jpeg_are_corrupt():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    data = png_bytes(img)
    assert "truncated or corrupt" in rejected(data[: len(data) // 2])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    assert "truncated or corrupt" in rejected(buf.getvalue()[: len(buf.getvalue()) // 3])


def test_svg_is_rejected_with_advice():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    assert "SVG" in rejected(svg)
    assert "SVG" in rejected(b'  <svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')


def test_decompression_bomb_is_rejected_from_its_header_alone():
    data = bomb_png()
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        reason = rejected(data, max_pixels=40_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "megapixels" in reason and "231" in reason
    assert peak < 20_000_000  # the 693 MB canvas was never allocated


def test_bomb_beyond_pillows_own_guard_is_still_polite():
    reason = rejected(bomb_png(19_000, 19_000), max_pixels=10**12)  # Pillow's own guard fires first
    assert "bomb" in reason and "361 megapixels" in reason


def test_huge_side_is_rejected_even_with_few_pixels():
    data = bomb_png(30_000, 20)
    assert "sides longer" in rejected(data)


def test_oversized_file_is_rejected_before_reading(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(b"\x00" * 2000)
    assert "limit" in rejected(path, max_bytes=1000)


def test_animated_gif_is_rejected():
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert "animated" in rejected(buf.getvalue())


def test_still_gif_is_fine():
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).convert("P").save(buf, "GIF")
    assert load_image(buf.getvalue()).mode == "RGB"


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (300, 100), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    out = load_image(buf.getvalue())
    assert out.size == (100, 300)


def test_alpha_is_flattened_onto_white():
    img = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    img.paste((0, 0, 255, 255), (0, 0, 20, 40))
    out = np.asarray(load_image(png_bytes(img)))
    assert out.shape == (40, 40, 3)
    assert tuple(out[5, 30]) == (255, 255, 255)
    assert tuple(out[5, 5]) == (0, 0, 255)


def test_palette_with_transparency_and_la_are_flattened():
    p = Image.new("P", (32, 32), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.info["transparency"] = 0
    assert tuple(np.asarray(load_image(png_bytes(p)))[0, 0]) == (255, 255, 255)
    la = Image.new("LA", (32, 32), (0, 0))
    assert tuple(np.asarray(load_image(png_bytes(la)))[0, 0]) == (255, 255, 255)


def test_cmyk_jpeg_and_16_bit_png_convert_to_rgb():
    buf = io.BytesIO()
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(buf, "JPEG")
    out = np.asarray(load_image(buf.getvalue()))
    assert out[0, 0, 0] > 200 and out[0, 0, 1] < 60
    arr = np.full((32, 32), 65535 // 2, dtype=np.uint16)
    sixteen = Image.fromarray(arr)
    out16 = np.asarray(load_image(png_bytes(sixteen)))
    assert out16.shape == (32, 32, 3) and 120 <= out16[0, 0, 0] <= 135  # mid-grey, not clipped to white


def test_max_side_downscales_big_images():
    img = Image.new("RGB", (3000, 1500), (9, 9, 9))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    assert max(load_image(buf.getvalue(), max_side=1024).size) == 1024
    assert max(load_image(png_bytes(img), max_side=1024).size) == 1024


def test_tiny_image_is_rejected():
    assert "too small" in rejected(png_bytes(Image.new("RGB", (8, 8))))


def test_unreadable_path_is_rejected(tmp_path):
    assert "could not be read" in rejected(tmp_path / "missing.png")
