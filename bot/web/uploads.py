"""Reading a multipart form with a file in it, under an explicit size limit.

We stream the parts instead of `request.post()` so that an oversized file gets a polite page: its bytes past the
limit are read and dropped (a browser still sending its upload would otherwise see a reset connection instead of
our answer). Beyond `drain_cap` we stop reading and let aiohttp close the connection.

Every byte read counts toward that cap, text fields included, however the body arrives (a chunked body has no
Content-Length to check first): the text of our forms is small, so more than `MAX_TEXT` bytes of it, or more than
`MAX_FIELDS` fields, stops the reading at once."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

CHUNK = 64 * 1024
MAX_FIELD = 4096  # text fields of our forms are short
MAX_FIELDS = 32  # parts in one form (ours have a handful)
MAX_TEXT = 64 * 1024  # all text fields of one form together, as read (multipart boundaries and headers aside)


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
    seen = text = parts = stored = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if parts > MAX_FIELDS:
            raise UploadTooLarge()
        if part.filename is None:  # a text field: kept up to MAX_FIELD, every byte read counted
            value = bytearray()
            while chunk := await part.read_chunk(CHUNK):
                seen, text = seen + len(chunk), text + len(chunk)
                if text > MAX_TEXT or seen > drain_cap:
                    raise UploadTooLarge()
                value.extend(chunk[: max(0, MAX_FIELD - len(value))])
            form.fields[part.name or ""] = value.decode("utf-8", "replace")
            continue
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            seen += len(chunk)
            if seen > drain_cap:
                raise UploadTooLarge()
            if stored + len(data) + len(chunk) > max_file_bytes:  # all files of the form together
                form.too_big = True
            if not form.too_big:
                data.extend(chunk)
        if not form.too_big and data:
            form.files[part.name or ""] = bytes(data)
            stored += len(data)
    return form
