"""Finishing a generated image: ``watermark_image`` upscales to MIN_SIDE if needed (engine/canvas.py), draws the
visible credit (engine/visible_credit.py), then embeds the invisible trace id (engine/invisible_mark.py), in that
order, so the mark also covers the credit and nothing drawn later disturbs it."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from engine.canvas import prepare_canvas
from engine.invisible_mark import embed_trace_id
from engine.visible_credit import add_visible_credit


def watermark_image(img: Image.Image, *, trace_id: int, artist: str, maker: str, label: str = "AI",
                    font_path: str | Path | None = None) -> Image.Image:
    """Upscale to MIN_SIDE when smaller, draw the visible credit, then embed the invisible trace id."""
    canvas = prepare_canvas(img)
    credited = add_visible_credit(canvas, artist=artist, maker=maker, label=label, font_path=font_path)
    return embed_trace_id(credited, trace_id)
