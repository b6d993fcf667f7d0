"""Trace an image found anywhere back to its generation.

The invisible mark comes first: it survives re-encoding, JPEG and stripped metadata. Metadata is read too: a
C2PA manifest whose signature still validates, then the XMP packet (anyone can write XMP, so it is the weakest
witness). ``TraceResult.source`` says which one gave the id. Reading is CPU work: call through asyncio.to_thread.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from engine.provenance import read_c2pa, read_xmp
from engine.invisible_mark import read_trace_id

DEFAULT_MAX_PIXELS = 40_000_000
MAX_BYTES = 64 * 1024 * 1024
# originals are made at these sizes; a copy shrunk by a site is scaled back up to each (a cheap second chance)
_ORIGINAL_SHORT_SIDES = (512, 768, 1024)


class TraceError(ValueError):
    """The input cannot be traced (not an image, corrupt, too large); the message is safe to show."""


@dataclass(frozen=True)
class TraceResult:
    trace_id: int | None
    xmp: dict | None
    c2pa: dict | None
    source: str | None = None  # "watermark", "c2pa", "xmp", None; "content" (see bot/core/content_index.py)


def _open_image(data: bytes, max_pixels: int) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise TraceError(f"that file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > max_pixels:
                raise TraceError(f"that image is too large ({img.width}x{img.height} pixels)")
            img.load()
    except TraceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TraceError("that image is too large to read") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise TraceError("that file is not an image I can read (PNG, JPEG or WebP)") from None
    return img


def read_invisible(img: Image.Image) -> int | None:
    """The invisible trace id, trying the image as it is and then at the sizes originals are made at."""
    img = img.convert("RGB")
    found = read_trace_id(img)
    if found is not None:
        return found
    short = min(img.size)
    for side in _ORIGINAL_SHORT_SIDES:
        if side <= short + 8:
            continue
        scale = side / short
        resized = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)
        found = read_trace_id(resized)
        if found is not None:
            return found
    return None


def trace_image(data: bytes | Image.Image, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                decoded: Image.Image | None = None) -> TraceResult:
    """Everything the image says about where it came from. Raises TraceError for unreadable input.

    `decoded`: the picture of `data`, already decoded (reduced, within a memory budget) by the caller, so the
    bytes are read only for their metadata and never decoded a second time at full size."""
    if isinstance(data, Image.Image):
        found = read_invisible(data)
        return TraceResult(found, None, None, "watermark" if found is not None else None)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TraceError("expected image bytes or a PIL image")
    data = bytes(data)
    if decoded is not None:
        if len(data) > MAX_BYTES:
            raise TraceError(f"that file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        img = decoded
    else:
        img = _open_image(data, max_pixels)
    found = read_invisible(img)
    source = "watermark" if found is not None else None
    xmp = read_xmp(data) or None
    c2pa = read_c2pa(data)
    if found is None and c2pa and c2pa.get("validation_state") != "Invalid" and c2pa.get("generation"):
        found, source = _as_int(c2pa["generation"].get("trace_id")), "c2pa"
    if found is None and xmp and xmp.get("trace_id") is not None:
        found, source = xmp["trace_id"], "xmp"
    return TraceResult(found, xmp, c2pa, source if found is not None else None)


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
