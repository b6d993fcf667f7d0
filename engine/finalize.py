"""The last step of a generation: the finished image's bytes, as published.

The visible credit and the invisible trace id (engine/watermark.py), then a PNG carrying XMP/IPTC metadata, then a
signed C2PA manifest (engine/provenance.py)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from PIL import Image

from engine.provenance import encode_png, ensure_signing_identity, sign_c2pa
from engine.visible_credit import credit_text
from engine.watermark import watermark_image


def finalize_image(img: Image.Image, *, trace_id: int, artist: str, maker: str, prompt: str, generator: str,
                   var_dir: Path, cert_path: Path | None = None, key_path: Path | None = None,
                   title: str | None = None) -> bytes:
    """Visible credit + invisible trace id, then a PNG with XMP, then a signed C2PA manifest: the final bytes.

    ``generator`` names the software/model (e.g. "mimic 0.1.0 / stable-diffusion-v1-5 + LoRA aoi").
    Blocking and CPU-bound: call it through asyncio.to_thread."""
    cert, key = ensure_signing_identity(cert_path, key_path, var_dir)
    marked = watermark_image(img, trace_id=trace_id, artist=artist, maker=maker)
    credit = credit_text(artist=artist, maker=maker)
    title = title or f"mimic-{trace_id}.png"
    png = encode_png(marked, xmp_fields={
        "generator": generator, "ai_system": generator, "prompt": prompt, "credit": credit, "title": title,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "trace_id": trace_id, "artist": artist, "maker": maker,
    })
    return sign_c2pa(png, "image/png", title=title, generator=generator, trace_id=trace_id, artist=artist,
                     maker=maker, cert_path=cert, key_path=key)
