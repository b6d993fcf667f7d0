"""Safe image loading shared by the whole project.

Every image that enters mimic (uploads, timeline media, remake inputs) goes through `load_image`, which checks the
header before decoding anything, so a decompression bomb or a giant canvas costs nothing but a few header bytes.
It returns plain RGB: EXIF orientation applied, transparency flattened onto white, palette/CMYK/16-bit converted.

Animated images (GIF, APNG, WebP with several frames) are rejected rather than reduced to their first frame: a
frame-0 pick would let an uploader pass off a still they never posted, and an artwork upload is expected to be a still.
"""
from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_SIDE = 20_000  # a side longer than this is not an illustration, whatever the pixel count
MIN_SIDE = 16  # smaller than this there is nothing to compare


class ImageRejected(ValueError):
    """An input that is not a usable still image; `reason` is a polite sentence for the person who sent it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _read_bytes(data: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        path = Path(data)
        try:
            size = path.stat().st_size
        except OSError:
            raise ImageRejected(f"the file {path.name} could not be read") from None
        if size > max_bytes:
            raise ImageRejected(_too_big(size, max_bytes))
        try:
            raw = path.read_bytes()
        except OSError:
            raise ImageRejected(f"the file {path.name} could not be read") from None
    if not raw:
        raise ImageRejected("the file is empty (0 bytes)")
    if len(raw) > max_bytes:
        raise ImageRejected(_too_big(len(raw), max_bytes))
    return raw


def _too_big(size: int, max_bytes: int) -> str:
    return f"the file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB"


def _looks_like_svg(raw: bytes) -> bool:
    head = raw[:2048].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _open_checked(raw: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse anything too large before a single pixel is decoded."""
    if _looks_like_svg(raw):
        raise ImageRejected("SVG vector files are not accepted; please upload a PNG or JPEG export")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard is global state; we apply our own limit below instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" is {int(found.group(1)) / 1e6:.0f} megapixels," if found else ""
        raise ImageRejected(f"the image{size} far beyond the limit of {max_pixels / 1e6:.0f} megapixels "
                            "(decompression bomb suspected)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected("this is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF expected)") from None
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageRejected("the image has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageRejected(f"the image is {width}×{height} pixels; sides longer than {MAX_SIDE} are not accepted")
    if width * height > max_pixels:
        raise ImageRejected(f"the image is {width}×{height} = {width * height / 1e6:.0f} megapixels; "
                            f"the limit is {max_pixels / 1e6:.0f} megapixels")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(f"the image is only {width}×{height} pixels, too small to compare")
    if getattr(img, "n_frames", 1) > 1:
        raise ImageRejected("animated images are not accepted; please upload a still image (PNG or JPEG)")
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any mode to RGB; transparency is composited onto white, as a viewer on a white page would see it."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif mode not in ("RGB", "RGBA"):
        img = img.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV
    if img.mode == "RGBA":
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img, mask=img.getchannel("A"))
        img = white
    return img


def load_image(data: bytes | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
               max_side: int | None = None) -> Image.Image:
    """Decode `data` (bytes or a path) into an RGB still image, or raise ImageRejected with a readable reason.

    `max_side`, when given, downscales the result so its longer side is at most that many pixels (JPEGs are
    decoded directly at a reduced scale, which is much faster for big photos)."""
    raw = _read_bytes(data, max_bytes)
    img = _open_checked(raw, max_pixels)
    try:
        if max_side and img.format == "JPEG":
            img.draft("RGB", (max_side, max_side))  # DCT-domain downscale: only ever shrinks, keeps >= max_side
        img.load()
        img = ImageOps.exif_transpose(img) or img
        img = _to_rgb(img)
    except ImageRejected:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, Image.DecompressionBombError):
        raise ImageRejected("the image file is truncated or corrupt") from None
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return img

