"""Image bytes for the gallery: originals straight from the blob store, thumbnails made once and kept in memory."""
from __future__ import annotations

import io
from collections import OrderedDict

from PIL import Image

THUMB_SIDE = 360


def as_png(data: bytes, max_pixels: int = 40_000_000) -> bytes:
    """A browser-friendly copy of a stored image in a format browsers do not show (TIFF, for one)."""
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > max_pixels:
            raise ValueError("image too large to convert")
        out = io.BytesIO()
        img.convert("RGBA" if "A" in img.getbands() else "RGB").save(out, "PNG")
        return out.getvalue()


def make_thumbnail(data: bytes, side: int = THUMB_SIDE, max_pixels: int = 40_000_000) -> bytes:
    """A WebP no larger than side x side. Blobs were checked on the way in; the pixel cap is a second fence."""
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > max_pixels:
            raise ValueError("image too large to thumbnail")
        img.draft("RGB", (side, side))
        img = img.convert("RGB")
        img.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        img.save(out, "WEBP", quality=80, method=4)
        return out.getvalue()


class ThumbnailCache:
    """Least-recently-used thumbnails up to `max_bytes` in total: one process's memory, rebuilt on restart."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, digest: str) -> bytes | None:
        data = self._items.get(digest)
        if data is not None:
            self._items.move_to_end(digest)
        return data

    def put(self, digest: str, data: bytes) -> None:
        if digest in self._items or len(data) > self.max_bytes:
            return
        self._items[digest] = data
        self._size += len(data)
        while self._size > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._size -= len(dropped)

    def discard(self, digest: str) -> None:
        data = self._items.pop(digest, None)
        if data is not None:
            self._size -= len(data)
