"""trace_image: the invisible id first (survives re-encoding and stripped metadata), then C2PA, then XMP."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from engine import provenance as pv
from engine.finalize import finalize_image
from engine.trace import TraceError, read_invisible, trace_image
from engine.watermark import watermark_image

from .images import gallery, reencode, shapes
from .pngbytes import assemble, strip_chunks

TRACE_ID = 2**40 + 12345


@pytest.fixture(scope="module")
def final_png(signing_var_dir) -> bytes:
    return finalize_image(shapes(512, seed=9), trace_id=TRACE_ID, artist="aoi", maker="Aoi", prompt="p",
                             generator="g", var_dir=signing_var_dir)


def test_original_file_gives_everything(final_png):
    result = trace_image(final_png)
    assert result.trace_id == TRACE_ID and result.source == "watermark"
    assert result.xmp["trace_id"] == TRACE_ID
    assert result.c2pa["generation"]["trace_id"] == TRACE_ID


def test_reencoded_copy_without_metadata_still_traces(final_png):
    img = Image.open(io.BytesIO(final_png)).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)  # Pillow writes no XMP/C2PA here: metadata stripped
    result = trace_image(buf.getvalue())
    assert result.trace_id == TRACE_ID and result.source == "watermark"
    assert result.xmp is None and result.c2pa is None


def test_shrunk_copies_are_found_at_the_original_size():
    marked = watermark_image(gallery(1024)["soft-noise"], trace_id=99, artist="a", maker="b")
    for side in (900, 700):
        copy = reencode(marked.resize((side, side), Image.Resampling.LANCZOS), "JPEG", quality=85)
        assert read_invisible(copy) == 99


def test_metadata_is_the_fallback_when_the_mark_is_gone(signing_var_dir, signing_identity):
    # an unmarked image with only metadata: the signed C2PA manifest wins over XMP
    cert, key = signing_identity
    png = pv.encode_png(shapes(300), xmp_fields={"trace_id": 5})
    signed = pv.sign_c2pa(png, "image/png", title="t", generator="g", trace_id=6, artist="a", maker="m",
                          cert_path=cert, key_path=key)
    result = trace_image(signed)
    assert (result.trace_id, result.source) == (6, "c2pa")
    only_xmp = strip_chunks(signed, b"caBX")
    assert (trace_image(only_xmp).trace_id, trace_image(only_xmp).source) == (5, "xmp")


def test_unmarked_images_give_nothing():
    rng = np.random.default_rng(11)
    for i in range(6):
        img = Image.fromarray(rng.integers(0, 256, (200 + 50 * i, 300, 3), dtype=np.uint8))
        assert trace_image(img).trace_id is None
        result = trace_image(_png(shapes(300 + 40 * i, seed=i)))
        assert (result.trace_id, result.source, result.xmp, result.c2pa) == (None, None, None, None)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("bad", [b"", b"hello", b"\x89PNG\r\n\x1a\n\x00\x00", b"GIF89a" + b"\x00" * 10])
def test_bad_input_is_a_polite_error(bad):
    with pytest.raises(TraceError, match="not an image"):
        trace_image(bad)


def test_huge_images_are_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)  # claims 400 MP in a few bytes
    bomb = assemble([(b"IHDR", header), (b"IDAT", zlib.compress(b"")), (b"IEND", b"")])
    with pytest.raises(TraceError, match="too large"):
        trace_image(bomb)
    with pytest.raises(TraceError, match="too large"):
        trace_image(_png(Image.new("RGB", (300, 300))), max_pixels=1000)
