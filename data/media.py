"""What kind of image a byte string is, by its magic bytes: the one sniffer the web, Discord and provenance share.

Magic numbers from each format's specification: PNG (ISO/IEC 15948 §5.2, the 8-byte signature), JPEG (ITU-T T.81
Annex B: SOI ff d8 followed by a marker ff), GIF (GIF89a §17, "GIF87a"/"GIF89a"), WebP (RFC 9649 §2: a RIFF
container whose form type is "WEBP"), BMP ("BM" file header), TIFF (TIFF 6.0 §2: "II*\\0" or "MM\\0*")."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageKind:
    mime: str
    extension: str
    browser_safe: bool  # shown by every browser as is (TIFF is not)


PNG = ImageKind("image/png", "png", True)
JPEG = ImageKind("image/jpeg", "jpg", True)
GIF = ImageKind("image/gif", "gif", True)
WEBP = ImageKind("image/webp", "webp", True)
BMP = ImageKind("image/bmp", "bmp", True)
TIFF = ImageKind("image/tiff", "tiff", False)

_MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF87a", GIF), (b"GIF89a", GIF), (b"BM", BMP),
          (b"II*\x00", TIFF), (b"MM\x00*", TIFF))


def sniff(data: bytes) -> ImageKind | None:
    """The image kind of `data` by its first bytes, or None when it is not an image format we know."""
    head = bytes(data[:16])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def sniff_mime(data: bytes) -> str | None:
    kind = sniff(data)
    return kind.mime if kind else None


def browser_mime(data: bytes) -> str | None:
    """The MIME type to serve `data` under, only for kinds every browser shows as is (never SVG, HTML or TIFF)."""
    kind = sniff(data)
    return kind.mime if kind and kind.browser_safe else None


def file_extension(data: bytes, default: str = "png") -> str:
    kind = sniff(data)
    return kind.extension if kind else default
