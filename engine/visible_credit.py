"""The visible credit drawn on every generated image.

Visible credit: "AI · <maker> by @<artist>" in white with a dark outline on a semi-opaque dark box in the
bottom-right corner, font size about 3.5% of the shorter side (at least 8 px), shortened to "AI @<artist>" or
"AI" when the image is too narrow. The font is the one bundled with Pillow (no system font needed); it has no
CJK glyphs, so for names it cannot draw we use ``font_path`` or a common system CJK font when one is installed,
and otherwise drop the characters it cannot draw (the maker part disappears if nothing is left).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.canvas import prepare_canvas

log = logging.getLogger("mimic.watermark")

_CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansJP-Regular.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/meiryo.ttc",
)
_MIN_FONT = 8
_BOX_ALPHA = 176  # of 255: dark enough for white text on white art, light enough to see the art through


@dataclass(frozen=True)
class CreditLayout:
    text: str
    font: ImageFont.FreeTypeFont
    box: tuple[int, int, int, int]  # left, top, right, bottom: the only pixels the credit touches
    text_xy: tuple[int, int]
    stroke: int


def _load_font(path: str | Path | None, size: int) -> ImageFont.FreeTypeFont:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size)


def _missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> set[str]:
    """Characters the font would draw as its 'missing glyph' box."""
    notdef = font.getmask("\ue000")
    notdef_key = (notdef.size, bytes(notdef))
    missing = set()
    for ch in set(text):
        if ch.isspace():
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == notdef_key:
            missing.add(ch)
    return missing


def _pick_font(text: str, size: int, font_path: str | Path | None) -> tuple[ImageFont.FreeTypeFont, set[str]]:
    """The first font that draws all of ``text``, else the bundled one and the characters it cannot draw."""
    candidates: list[str | Path | None] = [font_path] if font_path else []
    candidates.append(None)
    candidates.extend(p for p in _CJK_FONT_CANDIDATES if Path(p).is_file())
    for path in candidates:
        try:
            font = _load_font(path, size)
        except OSError:
            log.warning("credit font %s cannot be loaded; trying the next one", path)
            continue
        if not _missing_glyphs(font, text):
            return font, set()
    font = _load_font(None, size)
    return font, _missing_glyphs(font, text)


def _credit_texts(artist: str, maker: str, label: str) -> list[str]:
    """Credit texts from the fullest to the shortest."""
    handle = "@" + artist if artist else ""
    if maker and handle:
        full = f"{label} · {maker} by {handle}"
    elif maker or handle:
        full = f"{label} · {maker or handle}"
    else:
        full = label
    short = f"{label} {handle}".strip()
    return list(dict.fromkeys([full, short, label]))


def credit_text(*, artist: str, maker: str, label: str = "AI") -> str:
    """The fullest credit, as text (for metadata; no font involved)."""
    artist = " ".join(artist.split()).lstrip("@")
    return _credit_texts(artist, " ".join(maker.split()), " ".join(label.split()) or "AI")[0]


def credit_layout(size: tuple[int, int], *, artist: str, maker: str, label: str = "AI",
                  font_path: str | Path | None = None) -> CreditLayout:
    """Where and how the credit is drawn on an image of ``size``; ``box`` bounds every pixel it changes."""
    width, height = size
    font_size = max(_MIN_FONT, round(min(width, height) * 0.035))
    pad = max(2, font_size // 3)
    margin = max(1, font_size // 3)
    stroke = font_size // 14  # a thin dark outline from 14 px up; below that it would eat the letters
    artist = " ".join(artist.split()).lstrip("@")
    maker = " ".join(maker.split())
    label = " ".join(label.split()) or "AI"
    font, missing = _pick_font(label + maker + artist, font_size, font_path)
    if missing:
        artist, maker, label = ("".join(ch for ch in part if ch not in missing).strip() for part in (artist, maker, label))
        label = label or "AI"
    texts = _credit_texts(artist, maker, label)
    for text in texts:
        left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
        box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
        if box_w + 2 * margin <= width or text == texts[-1]:
            x1, y1 = width - margin, height - margin
            x0, y0 = max(0, x1 - box_w), max(0, y1 - box_h)
            return CreditLayout(text, font, (x0, y0, x1, y1), (x0 + pad - left, y0 + pad - top), stroke)
    raise AssertionError("unreachable: the last text is always laid out")


def add_visible_credit(img: Image.Image, *, artist: str, maker: str, label: str = "AI",
                       font_path: str | Path | None = None) -> Image.Image:
    """An RGB copy of ``img`` with the credit drawn in its bottom-right corner (see CreditLayout.box)."""
    base = prepare_canvas(img, min_side=1)
    layout = credit_layout(base.size, artist=artist, maker=maker, label=label, font_path=font_path)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    x0, y0, x1, y1 = layout.box
    draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=max(1, (y1 - y0) // 5), fill=(0, 0, 0, _BOX_ALPHA))
    out = Image.alpha_composite(base.convert("RGBA"), overlay)
    ImageDraw.Draw(out).text(layout.text_xy, layout.text, font=layout.font, fill=(255, 255, 255, 255),
                             stroke_width=layout.stroke, stroke_fill=(0, 0, 0, 255))
    return out.convert("RGB")
