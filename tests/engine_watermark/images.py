"""Drawn test images: flat fills, shapes, line art, and textures (noise, gradients)."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def flat(size: int, colour: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (size, size), colour)


def shapes(size: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(5, max(6, size // 4)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(0, 0, 0), width=3, fill=fill)
    return img


def line_art(size: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        draw.line([tuple(rng.integers(0, size, 2)), tuple(rng.integers(0, size, 2))], fill="black", width=2)
    return img


def noise(size: int, seed: int = 0, blur: float = 0.0) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    return img.filter(ImageFilter.GaussianBlur(blur)) if blur else img


def gradient(size: int) -> Image.Image:
    ramp = np.linspace(0, 255, size)
    rgb = np.stack([np.tile(ramp, (size, 1)), np.tile(ramp, (size, 1)).T, np.full((size, size), 100.0)], -1)
    return Image.fromarray(rgb.astype(np.uint8))


def gallery(size: int) -> dict[str, Image.Image]:
    return {
        "flat-white": flat(size, (255, 255, 255)),
        "flat-pastel": flat(size, (240, 200, 220)),
        "flat-blue": flat(size, (0, 0, 255)),
        "shapes": shapes(size),
        "line-art": line_art(size),
        "noise": noise(size),
        "soft-noise": noise(size, blur=3),
        "gradient": gradient(size),
    }


def reencode(img: Image.Image, fmt: str, **options) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB pixels."""
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]


def contrast_ratio(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)
