"""Safe image loading shared by the whole project.

Every image that enters mimic (uploads, timeline media, remake inputs) goes through `load_image`, which checks the
header before decoding anything, so a decompression bomb or a giant canvas costs nothing but a few header bytes.
It returns plain RGB: EXIF orientation applied, transparency flattened onto white, palette/CMYK/16-bit converted.

Animated images (GIF, APNG, WebP with several frames) are rejected rather than reduced to their first frame: a
frame-0 pick would let an uploader pass off a still they never posted, and an artwork upload is expected to be a still.
"""
from __future__ import annotations

import io
import os
import re
import stat
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
    """An input that is not a usable still image. `key` and `params` name the reason so that people read it in
    their own language (bot.i18n has a message per key); `reason` is the English sentence for logs and the CLI."""

    def __init__(self, reason: str, key: str, **params):
        super().__init__(reason)
        self.reason, self.key, self.params = reason, key, params

    def __reduce__(self):  # survives pickling (process pools) with its key and params
        return type(self), (self.reason, self.key), {"params": self.params}


def upload_limit(max_upload_bytes: int, transport_limit: int | None = None) -> int:
    """The most bytes one upload may have, wherever it arrives: our MAX_UPLOAD_BYTES, or the transport's own
    limit when that is smaller (Discord's per-server attachment size)."""
    return min(max_upload_bytes, transport_limit) if transport_limit else max_upload_bytes


def check_size(size: int, limit: int) -> None:
    """The one size rule for uploads (Discord, web, CLI and the core alike): over the limit is refused politely."""
    if size > limit:
        raise too_large(size, limit)


def too_large(size: int, max_bytes: int) -> ImageRejected:
    size_mb, limit_mb = f"{size / 1e6:.1f}", f"{max_bytes / 1e6:.0f}"
    return ImageRejected(f"the file is {size_mb} MB; the limit is {limit_mb} MB", "image.too_large",
                         size_mb=size_mb, limit_mb=limit_mb)


def _unreadable(path: Path) -> ImageRejected:
    return ImageRejected(f"the file {path.name} could not be read", "image.unreadable_file", name=path.name)


def _not_a_file(path: Path, mode: int) -> ImageRejected:
    if stat.S_ISDIR(mode):
        return ImageRejected(f"{path.name} is a folder, not an image file", "image.is_folder", name=path.name)
    if stat.S_ISFIFO(mode):
        return ImageRejected(f"{path.name} is a pipe (FIFO), not an image file", "image.is_pipe", name=path.name)
    return ImageRejected(f"{path.name} is a device or another special file, not an image file", "image.is_device",
                         name=path.name)


def read_file(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of a regular file, at most `max_bytes` of them: a device (/dev/zero), a FIFO, a socket or a folder
    is refused with its kind named, and the read stops past the limit whatever the file's size says (st_size of
    /proc files and devices is 0). Opened without blocking, so a FIFO with no writer cannot hang us."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise _not_a_file(path, stat.S_IFDIR) from None
    except OSError:
        raise _unreadable(path) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_a_file(path, mode)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb", buffering=0) as file:
        chunks, total = [], 0
        try:
            while chunk := file.read(min(1 << 20, max_bytes + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise too_large(max(total, os.fstat(fd).st_size), max_bytes)
        except OSError:
            raise _unreadable(path) from None
    return b"".join(chunks)


def _read_bytes(data: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raw = read_file(data, max_bytes)
    if not raw:
        raise ImageRejected("the file is empty (0 bytes)", "image.empty")
    if len(raw) > max_bytes:
        raise too_large(len(raw), max_bytes)
    return raw


def _looks_like_svg(raw: bytes) -> bool:
    head = raw[:2048].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _open_checked(raw: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse anything too large before a single pixel is decoded."""
    if _looks_like_svg(raw):
        raise ImageRejected("SVG vector files are not accepted; please upload a PNG or JPEG export", "image.svg")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard is global state; we apply our own limit below instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        limit_mp = f"{max_pixels / 1e6:.0f}"
        if found is None:
            raise ImageRejected(f"the image far beyond the limit of {limit_mp} megapixels "
                                "(decompression bomb suspected)", "image.decompression_bomb_unsized",
                                limit_mp=limit_mp) from None
        megapixels = f"{int(found.group(1)) / 1e6:.0f}"
        raise ImageRejected(f"the image is {megapixels} megapixels, far beyond the limit of {limit_mp} megapixels "
                            "(decompression bomb suspected)", "image.decompression_bomb",
                            megapixels=megapixels, limit_mp=limit_mp) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected("this is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF expected)",
                            "image.not_an_image") from None
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageRejected("the image has no pixels", "image.no_pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageRejected(f"the image is {width}×{height} pixels; sides longer than {MAX_SIDE} are not accepted",
                            "image.side_too_long", width=width, height=height, max_side=MAX_SIDE)
    if width * height > max_pixels:
        megapixels, limit_mp = f"{width * height / 1e6:.0f}", f"{max_pixels / 1e6:.0f}"
        raise ImageRejected(f"the image is {width}×{height} = {megapixels} megapixels; "
                            f"the limit is {limit_mp} megapixels", "image.too_many_pixels",
                            width=width, height=height, megapixels=megapixels, limit_mp=limit_mp)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(f"the image is only {width}×{height} pixels, too small to compare", "image.too_small",
                            width=width, height=height)
    if getattr(img, "n_frames", 1) > 1:
        raise ImageRejected("animated images are not accepted; please upload a still image (PNG or JPEG)",
                            "image.animated")
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


def decode_cost(data: bytes, *, max_side: int | None = None) -> int:
    """About how many bytes `load_image(data, max_side=...)` holds at its peak, from the header alone: the decoded
    canvas (a JPEG at its reduced draft scale) and one converted copy. 0 when the header cannot be read (then
    load_image refuses it at once, at no cost)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
                width, height, kind, bands = img.width, img.height, img.format, len(img.getbands())
    except Exception:  # any header Pillow cannot read: load_image gives the reason
        return 0
    if max_side and kind == "JPEG":  # draft() keeps both sides at least max_side, by 1/2, 1/4 or 1/8
        scale = 1
        while scale < 8 and min(width, height) // (scale * 2) >= max_side:
            scale *= 2
        width, height = -(-width // scale), -(-height // scale)
    return width * height * (max(bands, 3) + 4)


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
        ImageOps.exif_transpose(img, in_place=True)  # no full-size copy when there is nothing to turn
        img = _to_rgb(img)
    except ImageRejected:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, Image.DecompressionBombError):
        raise ImageRejected("the image file is truncated or corrupt", "image.corrupt") from None
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return img

