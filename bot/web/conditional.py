"""Conditional and partial GET for blobs (RFC 9110 sections 13.1.2, 13.1.5 and 14): the ETag is the blob's
digest, so a browser's copy is confirmed with a 304 before any blob is read, and a Range asks for one slice."""
from __future__ import annotations

import re

from aiohttp import web

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CACHE_CONTROL = "public, max-age=300"  # short: a takedown takes effect soon


def image_headers(etag: str) -> dict[str, str]:
    return {"Cache-Control": CACHE_CONTROL, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}


def not_modified(request: web.Request, etag: str) -> bool:
    """If-None-Match holds this entity tag (weak comparison, as section 13.1.2 asks) or `*`."""
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or f'"{etag}"' in tags


def _wanted(request: web.Request, etag: str, size: int) -> tuple[int, int] | None | bool:
    """The one byte range asked for as (first, last); None for the whole body; False when unsatisfiable.

    Several ranges, a malformed header or an If-Range for another version get the whole body (allowed by
    section 14.2)."""
    header = request.headers.get("Range", "").strip()
    if not header or request.headers.get("If-Range", f'"{etag}"') != f'"{etag}"':
        return None
    match = _RANGE.fullmatch(header.replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        suffix = int(last)
        return (max(0, size - suffix), size - 1) if suffix and size else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    return (start, end) if start < size else False


def ranged_response(request: web.Request, etag: str, body: bytes, content_type: str) -> web.Response:
    headers = image_headers(etag)
    if not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    wanted = _wanted(request, etag, len(body))
    if wanted is False:
        return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
    if wanted is None:
        return web.Response(body=body, content_type=content_type, headers=headers)
    first, last = wanted
    return web.Response(status=206, body=body[first:last + 1], content_type=content_type,
                        headers={**headers, "Content-Range": f"bytes {first}-{last}/{len(body)}"})
