"""The matcher accepts edited copies of posted pictures and rejects same-style look-alikes."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from verification.hashing import fingerprint, hamming64, to_signed64, to_unsigned64, trim_borders
from verification.matching import Portfolio, PortfolioEntry, match

from .conftest import jpeg_roundtrip


def crop_area(img: Image.Image, share: float, x: float = 0.5, y: float = 0.3) -> Image.Image:
    w, h = img.size
    cw, ch = int(w * share ** 0.5), int(h * share ** 0.5)
    left, top = int((w - cw) * x), int((h - ch) * y)
    return img.crop((left, top, left + cw, top + ch))


def with_border(img: Image.Image, colour=(0, 0, 0), share: float = 0.08) -> Image.Image:
    return ImageOps.expand(img, border=int(img.width * share), fill=colour)


def with_text(img: Image.Image) -> Image.Image:
    out = img.copy()
    ImageDraw.Draw(out).text((10, out.height - 30), "@artist do not repost", fill=(255, 0, 80),
                             font_size=22, stroke_width=2, stroke_fill=(0, 0, 0))
    return out


def colour_shift(img: Image.Image) -> Image.Image:
    arr = np.asarray(img.convert("HSV")).astype(np.int16)
    arr[..., 0] = (arr[..., 0] + 12) % 256
    arr[..., 2] = np.clip(arr[..., 2] * 0.9, 0, 255)
    return Image.fromarray(arr.astype(np.uint8), "HSV").convert("RGB")


EDITS = {
    "jpeg60": lambda im: jpeg_roundtrip(im, 60),
    "resize30": lambda im: jpeg_roundtrip(im.resize((im.width * 3 // 10, im.height * 3 // 10)), 90),
    "flip": lambda im: jpeg_roundtrip(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "border": lambda im: jpeg_roundtrip(with_border(im, (250, 30, 90))),
    "text": lambda im: jpeg_roundtrip(with_text(im)),
    "colour": lambda im: jpeg_roundtrip(colour_shift(im)),
    "crop30": lambda im: jpeg_roundtrip(crop_area(im, 0.30)),
    "flipped_crop50": lambda im: jpeg_roundtrip(crop_area(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.5)),
    "crop60_upscaled": lambda im: jpeg_roundtrip(crop_area(im, 0.6, 0.2, 0.6).resize((400, 400))),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_copies_match_their_original(edit, own_images, portfolio):
    seed = 1 if edit in ("jpeg60", "crop30", "border") else 2 if edit in ("resize30", "flip", "flipped_crop50") else 3
    candidate = fingerprint(EDITS[edit](own_images[seed]), candidate=True)
    verdict = match(candidate, portfolio)
    assert verdict.verdict == "match", verdict.reason
    assert verdict.matched == f"own-{seed}.png"
    assert verdict.score >= 0.5
    assert f"https://example.social/post/{seed}" in verdict.reason
    if edit == "flipped_crop50":
        assert verdict.stage == "geometry" and "mirrored" in verdict.reason


@pytest.mark.parametrize("seed", [101, 102, 103, 104])
def test_same_style_lookalikes_do_not_match(seed, lookalike_images, portfolio):
    for variant in (lookalike_images[seed], crop_area(lookalike_images[seed], 0.4)):
        verdict = match(fingerprint(jpeg_roundtrip(variant), candidate=True), portfolio)
        assert verdict.verdict == "no_match", verdict.reason
        assert verdict.matched is None and verdict.score < 0.5


def test_reason_names_the_post_and_its_date(own_images):
    entry = PortfolioEntry("42", fingerprint(own_images[4]), source_url="https://bsky.app/profile/a/post/1",
                           posted_at=datetime(2024, 5, 1, tzinfo=timezone.utc))
    verdict = match(fingerprint(jpeg_roundtrip(own_images[4]), candidate=True), Portfolio([entry]))
    assert verdict.verdict == "match"
    assert "https://bsky.app/profile/a/post/1 posted 2024-05-01" in verdict.reason
    assert "/64" in verdict.reason


def test_empty_portfolio_is_no_match(own_images):
    verdict = match(fingerprint(own_images[1], candidate=True), Portfolio([]))
    assert verdict.verdict == "no_match" and "empty" in verdict.reason


def test_hash_storage_is_signed_64_bit(own_images):
    fp = fingerprint(own_images[1])
    assert -(1 << 63) <= fp.phash < (1 << 63)
    assert to_unsigned64(fp.phash) == fp.phash_variants[0]
    assert to_signed64(to_unsigned64(-5)) == -5
    assert hamming64(-1, 0) == 64
    assert len(fp.pdq) == 32 and len(fp.pdq_hex) == 64


def test_trim_borders_removes_nested_frames(own_images):
    inner = np.asarray(own_images[1])
    framed = np.asarray(with_border(with_border(own_images[1], (255, 255, 255), 0.05), (0, 0, 0), 0.05))
    assert abs(trim_borders(framed).shape[0] - trim_borders(inner).shape[0]) <= 2
