"""The canvas every generated image is finished on: RGB, transparency flattened onto white, and at least MIN_SIDE
on its shorter side, because the invisible mark needs that many blocks to survive JPEG (engine/invisible_mark.py).
The credit is drawn on it, the mark embedded in it, and the content fingerprint taken of it."""
from __future__ import annotations

from PIL import Image

MIN_SIDE = 512


def prepare_canvas(img: Image.Image, min_side: int = MIN_SIDE) -> Image.Image:
    """An RGB copy whose shorter side is at least ``min_side`` (upscaled with Lanczos when needed)."""
    if img.mode == "RGBA" or (img.mode == "P" and "transparency" in img.info):
        background = Image.new("RGB", img.size, "white")
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        img = background
    img = img.convert("RGB")
    short = min(img.size)
    if short >= min_side:
        return img.copy()
    factor = min_side / short
    size = (max(min_side, round(img.width * factor)), max(min_side, round(img.height * factor)))
    return img.resize(size, Image.Resampling.LANCZOS)
