"""Byte-level PNG surgery for tamper tests (so the C2PA chunk stays while the pixels change)."""
from __future__ import annotations

import struct
import zlib


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        out.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def assemble(parts: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d)) for k, d in parts)
    return b"\x89PNG\r\n\x1a\n" + body


def tamper_pixels(data: bytes) -> bytes:
    """Change a few pixel bytes in the image data, keep every other chunk (metadata, C2PA) as it is."""
    parts = chunks(data)
    idat = [i for i, (k, _) in enumerate(parts) if k == b"IDAT"]
    raw = bytearray(zlib.decompress(b"".join(parts[i][1] for i in idat)))
    width, height, depth, colour = struct.unpack(">IIBB", parts[0][1][:10])
    row = 1 + width * {2: 3, 6: 4, 0: 1, 4: 2}[colour] * depth // 8  # a filter byte, then the samples
    start = (height // 2) * row + 1
    for offset in range(start, start + 30):  # samples only: a bad filter byte would make the PNG unreadable
        raw[offset] ^= 0x40
    first = idat[0]
    rest = [p for i, p in enumerate(parts) if i not in idat]
    rest.insert(first, (b"IDAT", zlib.compress(bytes(raw))))
    return assemble(rest)


def strip_chunks(data: bytes, *kinds: bytes) -> bytes:
    return assemble([(k, d) for k, d in chunks(data) if k not in kinds])
