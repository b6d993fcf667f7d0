"""Reading a multipart form with a file in it, under an explicit size limit.

We stream the parts instead of `request.post()` so that an oversized file gets a polite page: its bytes past the
limit are read and dropped (a browser still sending its upload would otherwise see a reset connection instead of
our answer). Beyond `drain_cap` we stop reading and let aiohttp close the connection."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

CHUNK = 64 * 1024
MAX_FIELD = 4096  # text fields of our forms are short


@dataclass
class UploadedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    too_big: bool = False


class UploadTooLarge(Exception):
    """The body is so large that we will not even drain it."""


async def read_form(request: web.Request, *, max_file_bytes: int, drain_cap: int) -> UploadedForm:
    length = request.content_length
    if length is not None and length > drain_cap:
        raise UploadTooLarge()
    form = UploadedForm()
    if not request.content_type.startswith("multipart/"):
        for key, value in (await request.post()).items():
            if isinstance(value, str):
                form.fields[key] = value[:MAX_FIELD]
        return form
    reader = await request.multipart()
    seen = 0
    while (part := await reader.next()) is not None:
        if part.filename is None:  # a text field
            value = await _read_capped(part, MAX_FIELD)
            seen += len(value)
            form.fields[part.name or ""] = value.decode("utf-8", "replace")
            continue
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            seen += len(chunk)
            if seen > drain_cap:
                raise UploadTooLarge()
            if len(data) + len(chunk) > max_file_bytes:
                form.too_big = True
            if not form.too_big:
                data.extend(chunk)
        if not form.too_big and data:
            form.files[part.name or ""] = bytes(data)
    return form


async def _read_capped(part, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        if len(data) < limit:
            data.extend(chunk[: limit - len(data)])
    return bytes(data)
