"""What an image file carries about itself, read from its bytes without decoding pixels: the XMP packet and the
C2PA manifest store. One reader for both sides: the worker reads back its own marks (engine/provenance.py), the
ownership gate reads a stranger's (verification/provenance.py)."""
from __future__ import annotations

import io
import json

from data.media import sniff_mime

XMP_MAX_BYTES = 256 * 1024  # a packet larger than this is not one we write or need to read
XMP_START, XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"

# reading a stranger's file must never make us fetch a URL it names (SSRF, unbounded latency)
C2PA_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "core": {"allowed_network_hosts": []}}


def xmp_packet(data: bytes) -> bytes | None:
    """The first XMP packet in any container that stores it uncompressed (PNG iTXt, JPEG APP1, WebP), or None
    when there is none, it is too big, or it declares entities (no expansion tricks)."""
    start = data.find(XMP_START)
    end = data.find(XMP_END, start) if start >= 0 else -1
    if start < 0 or end < 0 or end - start > XMP_MAX_BYTES:
        return None
    packet = data[start:end + len(XMP_END)]
    return None if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet else packet


def c2pa_context(**settings):
    """A c2pa-python context that never reaches the network, plus any further settings (the signer's builder)."""
    import c2pa  # a native library: loaded only when a manifest is read or written

    return c2pa.Context(c2pa.Settings.from_dict({**C2PA_OFFLINE, **settings}))


def c2pa_store(data: bytes, mime: str | None = None) -> dict | None:
    """The C2PA manifest store as a dict, with `validation_state` filled in and `manifest` the active one (None
    when no manifest is active), or None when the file has none or it cannot be parsed."""
    import c2pa

    mime = mime or sniff_mime(data)
    if mime is None:
        return None
    try:
        with c2pa.Reader(mime, io.BytesIO(data), context=c2pa_context()) as reader:
            store = json.loads(reader.json())
            store["validation_state"] = store.get("validation_state") or reader.get_validation_state()
    except (c2pa.C2paError, ValueError, OSError):
        return None
    store["manifest"] = (store.get("manifests") or {}).get(store.get("active_manifest") or "")
    return store
