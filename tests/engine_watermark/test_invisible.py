"""The invisible trace id: survives PNG and JPEG 75 with the visible credit drawn, and never appears uninvited."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from imwatermark import WatermarkDecoder
from PIL import Image

from engine import invisible_mark as wm
from engine.canvas import MIN_SIDE
from engine.visible_credit import add_visible_credit
from engine.watermark import watermark_image

from .images import flat, gallery, gradient, noise, reencode, shapes

TRACE_ID = 0x9C3A_5E17_42B1  # 48 bits, both halves busy


@pytest.fixture(scope="module")
def marked() -> dict[str, Image.Image]:
    """Every gallery image at 512 px and at the tiny model's 64 px, through the full visible + invisible pass."""
    out = {}
    for size in (64, 512):
        for kind, img in gallery(size).items():
            if f"{kind}@{size}" in CASES:
                out[f"{kind}@{size}"] = watermark_image(img, trace_id=TRACE_ID, artist="aoi_art", maker="Aoi soft")
    return out


# every kind at 512 px; the tiny model's 64 px outputs (upscaled to 512 first) on the three hardest kinds
CASES = [f"{k}@512" for k in gallery(8)] + ["flat-white@64", "line-art@64", "noise@64"]


@pytest.mark.parametrize("kind", CASES)
def test_trace_id_survives_png_and_jpeg75(marked, kind):
    img = marked[kind]
    assert min(img.size) >= MIN_SIDE  # small outputs are upscaled before marking
    assert wm.read_trace_id(reencode(img, "PNG")) == TRACE_ID
    assert wm.read_trace_id(reencode(img, "JPEG", quality=75)) == TRACE_ID


def test_trace_id_survives_repeated_jpeg(marked):
    img = marked["shapes@512"]
    for quality in (90, 80, 75):
        img = reencode(img, "JPEG", quality=quality)
    assert wm.read_trace_id(img) == TRACE_ID


def test_error_correction_repairs_a_damaged_region(marked):
    """A scribble over a sixth of the picture wrecks the blocks under it; the rest still out-votes them."""
    img = reencode(marked["soft-noise@512"], "JPEG", quality=75)
    damaged = np.asarray(img).copy()
    damaged[:85, :, :] = np.random.default_rng(3).integers(0, 256, (85, damaged.shape[1], 3))
    assert wm.read_trace_id(Image.fromarray(damaged)) == TRACE_ID


@pytest.mark.parametrize("trace_id", [0, 1, 2**32 + 7, wm.MAX_TRACE_ID])
def test_extreme_ids_round_trip(trace_id):
    img = wm.embed_trace_id(shapes(512, seed=4), trace_id)
    assert wm.read_trace_id(reencode(img, "JPEG", quality=75)) == trace_id


@pytest.mark.parametrize("bad", [-1, wm.MAX_TRACE_ID + 1])
def test_out_of_range_ids_are_refused(bad):
    with pytest.raises(ValueError):
        wm.embed_trace_id(shapes(512), bad)


def test_mark_is_faint(marked):
    """PSNR against the credited, unmarked canvas stays near 40 dB (the stock encoder reaches 15 dB on noise)."""
    for kind in ("flat-white", "noise", "shapes"):
        base = gallery(512)[kind]
        credited = add_visible_credit(base, artist="aoi_art", maker="Aoi soft")
        diff = np.asarray(marked[f"{kind}@512"], dtype=np.float64) - np.asarray(credited, dtype=np.float64)
        psnr = 10 * np.log10(255**2 / np.mean(diff**2))
        assert psnr > 37, (kind, psnr)


def test_stock_imwatermark_decoder_reads_the_u_plane():
    img = reencode(wm.embed_trace_id(shapes(512), TRACE_ID), "PNG")
    bgr = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    bits = WatermarkDecoder("bits", wm.PAYLOAD_BITS).decode(
        bgr, "dwtDctSvd", scales=[0, wm.SCALE, 0], block=wm.BLOCK)
    assert list(np.asarray(bits, dtype=np.uint8)) == list(wm.encode_payload(TRACE_ID))


def test_no_false_positives_on_200_unmarked_images():
    rng = np.random.default_rng(2024)
    found = []
    for i in range(200):
        size = int(rng.integers(64, 400))
        match i % 5:
            case 0:
                img = Image.fromarray(rng.integers(0, 256, (size, size + 13, 3), dtype=np.uint8))
            case 1:
                img = flat(size, tuple(int(c) for c in rng.integers(0, 256, 3)))
            case 2:
                img = shapes(size, seed=i)
            case 3:
                img = noise(size, seed=i, blur=float(rng.uniform(0.5, 4)))
            case _:
                img = reencode(gradient(size).rotate(float(rng.uniform(0, 90))), "JPEG", quality=75)
        if wm.read_trace_id(img) is not None:
            found.append(i)
    assert found == []


def test_tiny_and_odd_inputs():
    assert wm.read_trace_id(Image.new("RGB", (16, 16), "white")) is None
    tiny = watermark_image(noise(32), trace_id=5, artist="a", maker="b")
    assert min(tiny.size) == MIN_SIDE and wm.read_trace_id(tiny) == 5
    wide = wm.embed_trace_id(Image.new("RGBA", (700, 300), (10, 200, 30, 128)), 77)  # alpha, odd aspect
    assert wide.mode == "RGB" and wide.size == (1195, 512)
    assert wm.read_trace_id(reencode(wide, "JPEG", quality=75)) == 77
    grey = wm.embed_trace_id(Image.new("L", (600, 600), 200), 78)
    assert wm.read_trace_id(reencode(grey, "JPEG", quality=75)) == 78


def test_a_credit_drawn_after_the_mark_does_not_erase_it():
    """Our order is credit first, but a credit (or sticker) drawn later over a corner still leaves the id."""
    marked = wm.embed_trace_id(shapes(512, seed=5), TRACE_ID)
    late = add_visible_credit(marked, artist="someone_else_entirely", maker="A much longer maker name")
    assert wm.read_trace_id(reencode(late, "JPEG", quality=75)) == TRACE_ID
