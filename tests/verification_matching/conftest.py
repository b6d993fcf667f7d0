"""Shared synthetic pictures: drawn once per session, since hashing is the slow part of these tests."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from verification.hashing import fingerprint
from verification.imaging import load_image
from verification.matching import Portfolio, PortfolioEntry
from verification.synthetic import draw_illustration

OWN = [(1, "flat"), (2, "lineart"), (3, "textured"), (4, "pastel"), (5, "dark")]
LOOKALIKES = [(101, "flat"), (102, "lineart"), (103, "textured"), (104, "pastel")]


def jpeg_roundtrip(img: Image.Image, quality: int = 85) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return load_image(buf.getvalue())


@pytest.fixture(scope="session")
def own_images() -> dict[int, Image.Image]:
    return {seed: draw_illustration(seed, size=(384, 384), style=style) for seed, style in OWN}


@pytest.fixture(scope="session")
def lookalike_images() -> dict[int, Image.Image]:
    return {seed: draw_illustration(seed, size=(384, 384), style=style) for seed, style in LOOKALIKES}


@pytest.fixture(scope="session")
def portfolio(own_images) -> Portfolio:
    return Portfolio([PortfolioEntry(id=f"own-{seed}.png", fingerprint=fingerprint(img),
                                     source_url=f"https://example.social/post/{seed}")
                      for seed, img in own_images.items()])
