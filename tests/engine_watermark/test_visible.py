"""The visible credit: drawn only in its corner box, legible on light, dark and busy art, any size, any script."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import visible_credit as wm

from .images import contrast_ratio, flat, luminance, noise, shapes

BACKGROUNDS = {
    "white": lambda s: flat(s, (255, 255, 255)),
    "black": lambda s: flat(s, (0, 0, 0)),
    "yellow": lambda s: flat(s, (250, 240, 80)),
    "busy": lambda s: noise(s),
    "shapes": lambda s: shapes(s),
}


def _text_core_mask(layout: wm.CreditLayout, size: tuple[int, int]) -> np.ndarray:
    """Pixels covered by the letters themselves (eroded, to leave out anti-aliased edges)."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(layout.text_xy, layout.text, font=layout.font, fill=255)
    arr = np.asarray(mask) > 160
    return arr


def _band_mask(layout: wm.CreditLayout, size: tuple[int, int]) -> np.ndarray:
    """Box pixels well away from letters and their outline."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(layout.text_xy, layout.text, font=layout.font, fill=255,
                              stroke_width=layout.stroke + 1, stroke_fill=255)
    x0, y0, x1, y1 = layout.box
    inner = np.zeros(size[::-1], dtype=bool)
    inner[y0 + 1 : y1 - 1, x0 + 2 : x1 - 2] = True
    return inner & (np.asarray(mask) == 0)


@pytest.mark.parametrize("size", [64, 256, 512, 1024])
@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_credit_touches_only_its_box_and_is_legible(size, background):
    img = BACKGROUNDS[background](size)
    out = wm.add_visible_credit(img, artist="aoi_art", maker="Aoi soft pastel")
    layout = wm.credit_layout(img.size, artist="aoi_art", maker="Aoi soft pastel")
    x0, y0, x1, y1 = layout.box
    assert 0 <= x0 < x1 <= size and 0 <= y0 < y1 <= size
    changed = np.any(np.asarray(out) != np.asarray(img), axis=-1)
    outside = changed.copy()
    outside[y0:y1, x0:x1] = False
    assert not outside.any()
    if background != "black":  # a dark box on black changes only the letters
        assert changed[y0:y1, x0:x1].mean() > 0.5  # the box really is drawn
    assert (x1 - x0) * (y1 - y0) < 0.2 * size * size or size < 128  # and stays a corner, not a curtain

    pixels = np.asarray(out)
    text = luminance(pixels[_text_core_mask(layout, img.size)])
    band = luminance(pixels[_band_mask(layout, img.size)])
    assert text.size > 10 and band.size > 10
    # the letters against the median band, and against its brightest tenth (busy art shows through)
    assert contrast_ratio(float(np.median(text)), float(np.median(band))) >= 4.5
    assert contrast_ratio(float(np.percentile(text, 25)), float(np.percentile(band, 90))) >= 3.0


def test_text_shortens_on_narrow_images_and_scales_up_on_large_ones():
    small = wm.credit_layout((64, 64), artist="aoi_art", maker="Aoi soft pastel")
    large = wm.credit_layout((1024, 1024), artist="aoi_art", maker="Aoi soft pastel")
    assert small.text == "AI @aoi_art"
    assert large.text == "AI · Aoi soft pastel by @aoi_art"
    assert large.font.size >= 4 * small.font.size
    tiny = wm.credit_layout((24, 24), artist="a_very_long_handle_indeed", maker="x")
    assert tiny.text == "AI"


def test_handles_are_normalised():
    assert wm.credit_layout((1024, 1024), artist="@aoi", maker="  Aoi \n soft ").text == "AI · Aoi soft by @aoi"
    assert wm.credit_layout((1024, 1024), artist="", maker="Aoi").text == "AI · Aoi"
    assert wm.credit_layout((1024, 1024), artist="aoi", maker="", label="AI-generated").text == "AI-generated · @aoi"


def test_japanese_names_do_not_crash():
    img = shapes(512)
    out = wm.add_visible_credit(img, artist="aoi", maker="あおいの絵")
    layout = wm.credit_layout(img.size, artist="aoi", maker="あおいの絵")
    assert out.size == img.size
    # with a CJK font installed the name is drawn; without one the undrawable name is left out, never boxes
    assert layout.text in ("AI · あおいの絵 by @aoi", "AI · @aoi")
    mixed = wm.credit_layout(img.size, artist="aoi", maker="Aoiの絵")
    assert mixed.text in ("AI · Aoiの絵 by @aoi", "AI · Aoi by @aoi")


def test_missing_font_file_falls_back(tmp_path):
    layout = wm.credit_layout((512, 512), artist="aoi", maker="Aoi", font_path=tmp_path / "nope.ttf")
    assert layout.text == "AI · Aoi by @aoi"


def test_visible_credit_accepts_any_mode():
    for mode in ("RGBA", "L", "P", "CMYK"):
        out = wm.add_visible_credit(Image.new(mode, (300, 200)), artist="aoi", maker="Aoi")
        assert out.mode == "RGB" and out.size == (300, 200)
