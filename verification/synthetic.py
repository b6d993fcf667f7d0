"""A procedural illustration generator for tests, benchmarks and the offline demo.

Pictures look like simple anime-style character art: a background (sky, room, pattern, scenery), one or two
characters with hair, big eyes, clothes and cel shading, outlined with a style's line weight. A *style* fixes what a
human would call an artist's hand (palette, line weight, shading, texture, composition); the *seed* picks the
picture. Two seeds of one style are same-style look-alikes: similar palette and layout, different drawings, which
is exactly what the ownership matcher must tell apart.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SUPERSAMPLE = 2


@dataclass(frozen=True)
class Style:
    palette: tuple[tuple[int, int, int], ...]  # hair / clothes / accents
    skin: tuple[int, int, int]
    line: tuple[int, int, int]
    line_weight: int
    shading: bool
    texture: float  # 0 flat; >0 paper/noise grain amplitude
    lineart_only: bool = False
    backgrounds: tuple[str, ...] = ("sky", "room", "pattern", "scenery", "plain")


STYLES: dict[str, Style] = {
    "flat": Style(palette=((232, 90, 120), (80, 120, 220), (250, 200, 80), (120, 200, 150), (150, 90, 200),
                           (60, 60, 80)),
                  skin=(255, 224, 200), line=(40, 30, 40), line_weight=3, shading=True, texture=0.0),
    "pastel": Style(palette=((250, 190, 210), (190, 210, 250), (250, 240, 180), (200, 240, 210), (220, 200, 250),
                             (240, 220, 200)),
                    skin=(255, 232, 218), line=(120, 90, 110), line_weight=2, shading=True, texture=0.0),
    "lineart": Style(palette=((255, 255, 255),), skin=(255, 255, 255), line=(15, 15, 15), line_weight=3,
                     shading=False, texture=0.0, lineart_only=True, backgrounds=("plain", "pattern", "room")),
    "textured": Style(palette=((180, 70, 60), (70, 100, 130), (200, 160, 90), (90, 130, 80), (110, 80, 120),
                               (50, 45, 50)),
                      skin=(240, 205, 180), line=(60, 40, 35), line_weight=4, shading=True, texture=18.0),
    "dark": Style(palette=((200, 40, 60), (40, 60, 120), (230, 230, 240), (30, 30, 40), (120, 40, 160),
                           (200, 170, 60)),
                  skin=(245, 215, 200), line=(10, 10, 20), line_weight=5, shading=True, texture=6.0,
                  backgrounds=("sky", "scenery", "plain", "pattern")),
}


def draw_illustration(seed: int, size: tuple[int, int] = (512, 512), style: str = "flat") -> Image.Image:
    """One RGB illustration, fully determined by (seed, size, style)."""
    look = STYLES[style]
    rng = random.Random(f"{style}:{seed}")
    w, h = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    lw = max(1, round(look.line_weight * SUPERSAMPLE * min(size) / 512))
    _background(draw, rng, look, w, h, lw)
    count = 1 if rng.random() < 0.75 else 2
    for i in range(count):
        cx = w * (0.5 if count == 1 else (0.3 + 0.4 * i)) + rng.uniform(-0.12, 0.12) * w
        scale = min(w, h) * (rng.uniform(0.2, 0.3) if count == 1 else rng.uniform(0.14, 0.2))
        cy = h * rng.uniform(0.36, 0.5)
        _character(draw, rng, look, cx, cy, scale, lw, h)
    _props(draw, rng, look, w, h, lw)
    img = canvas.resize(size, Image.Resampling.LANCZOS)
    if look.texture:
        img = _grain(img, rng, look.texture)
    return img


def _colour(rng: random.Random, look: Style, jitter: int = 14) -> tuple[int, int, int]:
    base = rng.choice(look.palette)
    return tuple(int(np.clip(c + rng.randint(-jitter, jitter), 0, 255)) for c in base)


def _shade(c: tuple[int, int, int], f: float = 0.75) -> tuple[int, int, int]:
    return tuple(int(v * f) for v in c)


def _outline(look: Style, fill):
    return (255, 255, 255) if look.lineart_only else fill


def _blob(rng: random.Random, cx: float, cy: float, rx: float, ry: float, n: int = 14, wobble: float = 0.18):
    pts = []
    for k in range(n):
        a = 2 * math.pi * k / n
        r = 1 + rng.uniform(-wobble, wobble)
        pts.append((cx + rx * r * math.cos(a), cy + ry * r * math.sin(a)))
    return pts


def _background(draw: ImageDraw.ImageDraw, rng: random.Random, look: Style, w: int, h: int, lw: int) -> None:
    kind = rng.choice(look.backgrounds)
    if look.lineart_only:
        draw.rectangle((0, 0, w, h), fill=(255, 255, 255))
    if kind == "sky" and not look.lineart_only:
        top, bottom = _colour(rng, look, 30), _colour(rng, look, 30)
        for y in range(0, h, 4):
            t = y / h
            draw.rectangle((0, y, w, y + 4), fill=tuple(int(a * (1 - t) + b * t) for a, b in zip(top, bottom)))
        for _ in range(rng.randint(2, 6)):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.5), rng.uniform(w * 0.05, w * 0.15)
            for j in range(3):
                draw.ellipse((x + j * r * 0.6 - r, y - r * 0.6, x + j * r * 0.6 + r, y + r * 0.6), fill=(250, 250, 255))
        draw.rectangle((0, h * rng.uniform(0.7, 0.85), w, h), fill=_colour(rng, look), outline=look.line, width=lw)
    elif kind == "room":
        wall = _colour(rng, look, 20) if not look.lineart_only else (255, 255, 255)
        draw.rectangle((0, 0, w, h), fill=wall)
        floor_y = h * rng.uniform(0.65, 0.8)
        draw.rectangle((0, floor_y, w, h), fill=_outline(look, _shade(wall, 0.8)), outline=look.line, width=lw)
        for _ in range(rng.randint(1, 3)):  # windows and frames
            x0, y0 = rng.uniform(0, w * 0.8), rng.uniform(h * 0.05, h * 0.35)
            ww, hh = rng.uniform(w * 0.1, w * 0.25), rng.uniform(h * 0.1, h * 0.25)
            draw.rectangle((x0, y0, x0 + ww, y0 + hh), fill=_outline(look, _colour(rng, look)), outline=look.line, width=lw)
            draw.line((x0 + ww / 2, y0, x0 + ww / 2, y0 + hh), fill=look.line, width=lw)
    elif kind == "pattern":
        bg = _colour(rng, look, 20) if not look.lineart_only else (255, 255, 255)
        draw.rectangle((0, 0, w, h), fill=bg)
        step = rng.uniform(w * 0.04, w * 0.1)
        dot = _shade(bg, 0.85) if not look.lineart_only else (180, 180, 180)
        offset = rng.uniform(0, step)
        if rng.random() < 0.5:
            for y in np.arange(offset, h, step):
                for x in np.arange(offset, w, step):
                    draw.ellipse((x - step * 0.15, y - step * 0.15, x + step * 0.15, y + step * 0.15), fill=dot)
        else:
            for x in np.arange(offset - h, w, step):
                draw.line((x, 0, x + h, h), fill=dot, width=max(1, int(step * 0.25)))
    elif kind == "scenery" and not look.lineart_only:
        draw.rectangle((0, 0, w, h), fill=_colour(rng, look, 30))
        for _ in range(rng.randint(3, 7)):  # hills, trees or buildings
            x = rng.uniform(0, w)
            if rng.random() < 0.5:
                bw, bh = rng.uniform(w * 0.08, w * 0.2), rng.uniform(h * 0.2, h * 0.6)
                draw.rectangle((x, h - bh, x + bw, h), fill=_colour(rng, look), outline=look.line, width=lw)
                for wy in np.arange(h - bh + bh * 0.1, h - 10, bh * 0.15):
                    draw.rectangle((x + bw * 0.2, wy, x + bw * 0.4, wy + bh * 0.06), fill=(250, 240, 180))
            else:
                r = rng.uniform(w * 0.1, w * 0.3)
                draw.ellipse((x - r, h * 0.75 - r * 0.5, x + r, h * 0.75 + r * 1.5), fill=_colour(rng, look),
                             outline=look.line, width=lw)
    else:
        draw.rectangle((0, 0, w, h), fill=(255, 255, 255) if look.lineart_only else _colour(rng, look, 10))
        for _ in range(rng.randint(0, 4)):  # sparkles
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(w * 0.01, w * 0.03)
            draw.polygon([(x, y - r * 2), (x + r * 0.5, y), (x, y + r * 2), (x - r * 0.5, y)], fill=look.line)


def _character(draw, rng: random.Random, look: Style, cx: float, cy: float, s: float, lw: int, h: int) -> None:
    hair = _colour(rng, look)
    cloth = _colour(rng, look)
    skin = look.skin if not look.lineart_only else (255, 255, 255)
    hair_fill = _outline(look, hair)
    cloth_fill = _outline(look, cloth)
    # body and arms
    shoulder = cy + s * 0.95
    body = [(cx - s * rng.uniform(0.7, 1.0), h), (cx - s * rng.uniform(0.55, 0.75), shoulder),
            (cx + s * rng.uniform(0.55, 0.75), shoulder), (cx + s * rng.uniform(0.7, 1.0), h)]
    draw.polygon(body, fill=cloth_fill, outline=look.line, width=lw)
    if look.shading:
        draw.polygon([body[2], body[3], ((body[2][0] + body[3][0]) / 2 - s * 0.2, h)], fill=_shade(cloth))
    collar = rng.choice(["v", "round", "bow"])
    if collar == "v":
        draw.polygon([(cx - s * 0.25, shoulder), (cx, shoulder + s * 0.45), (cx + s * 0.25, shoulder)],
                     fill=skin, outline=look.line, width=lw)
    elif collar == "round":
        draw.chord((cx - s * 0.3, shoulder - s * 0.2, cx + s * 0.3, shoulder + s * 0.3), 0, 180,
                   fill=skin, outline=look.line, width=lw)
    else:
        bow = _outline(look, _colour(rng, look))
        draw.polygon([(cx, shoulder + s * 0.1), (cx - s * 0.3, shoulder - s * 0.05), (cx - s * 0.3, shoulder + s * 0.3)],
                     fill=bow, outline=look.line, width=lw)
        draw.polygon([(cx, shoulder + s * 0.1), (cx + s * 0.3, shoulder - s * 0.05), (cx + s * 0.3, shoulder + s * 0.3)],
                     fill=bow, outline=look.line, width=lw)
    # neck and head
    draw.rectangle((cx - s * 0.14, cy + s * 0.5, cx + s * 0.14, shoulder + s * 0.05), fill=skin, outline=look.line, width=lw)
    hw, hh = s * rng.uniform(0.52, 0.62), s * rng.uniform(0.6, 0.72)
    back_hair = _blob(rng, cx, cy + s * rng.uniform(0.0, 0.3), hw * rng.uniform(1.15, 1.45), hh * rng.uniform(1.1, 1.6))
    draw.polygon(back_hair, fill=hair_fill, outline=look.line, width=lw)
    face = [(cx - hw, cy - hh * 0.2), (cx - hw * 0.85, cy + hh * 0.55), (cx, cy + hh),
            (cx + hw * 0.85, cy + hh * 0.55), (cx + hw, cy - hh * 0.2), (cx + hw * 0.7, cy - hh * 0.9),
            (cx - hw * 0.7, cy - hh * 0.9)]
    draw.polygon(face, fill=skin, outline=look.line, width=lw)
    if look.shading:
        draw.polygon([(cx - hw, cy - hh * 0.2), (cx - hw * 0.85, cy + hh * 0.55), (cx - hw * 0.5, cy + hh * 0.8),
                      (cx - hw * 0.7, cy)], fill=_shade(skin, 0.9))
    # eyes
    eye_y = cy + hh * rng.uniform(0.05, 0.2)
    ew, eh = hw * rng.uniform(0.22, 0.3), hh * rng.uniform(0.22, 0.32)
    iris = _outline(look, _colour(rng, look, 30))
    gap = hw * rng.uniform(0.38, 0.5)
    closed = rng.random() < 0.15
    for side in (-1, 1):
        ex = cx + side * gap
        if closed:
            draw.arc((ex - ew, eye_y - eh * 0.5, ex + ew, eye_y + eh * 0.5), 200, 340, fill=look.line, width=lw * 2)
            continue
        draw.ellipse((ex - ew, eye_y - eh, ex + ew, eye_y + eh), fill=(255, 255, 255), outline=look.line, width=lw)
        draw.ellipse((ex - ew * 0.75, eye_y - eh * 0.8, ex + ew * 0.75, eye_y + eh * 0.95), fill=iris,
                     outline=look.line, width=max(1, lw // 2))
        draw.ellipse((ex - ew * 0.3, eye_y - eh * 0.3, ex + ew * 0.3, eye_y + eh * 0.4), fill=look.line)
        hl = ew * 0.22
        draw.ellipse((ex + side * ew * 0.1 - hl, eye_y - eh * 0.55 - hl, ex + side * ew * 0.1 + hl, eye_y - eh * 0.55 + hl),
                     fill=(255, 255, 255))
        draw.line((ex - ew * 1.1, eye_y - eh * 1.05, ex + ew * 1.1, eye_y - eh * 1.2 + side * eh * 0.2),
                  fill=look.line, width=lw * 2)
        brow_y = eye_y - eh * rng.uniform(1.5, 1.9)
        draw.line((ex - ew * 0.8, brow_y + side * rng.uniform(-4, 4), ex + ew * 0.8, brow_y), fill=look.line, width=lw)
    # mouth and blush
    my = cy + hh * rng.uniform(0.6, 0.75)
    mouth = rng.choice(["smile", "open", "flat", "cat"])
    mw = hw * rng.uniform(0.12, 0.25)
    if mouth == "smile":
        draw.arc((cx - mw, my - mw, cx + mw, my + mw * 0.6), 20, 160, fill=look.line, width=lw)
    elif mouth == "open":
        draw.chord((cx - mw, my - mw * 0.5, cx + mw, my + mw), 0, 180, fill=(200, 70, 80) if not look.lineart_only
                   else (255, 255, 255), outline=look.line, width=lw)
    elif mouth == "flat":
        draw.line((cx - mw, my, cx + mw, my), fill=look.line, width=lw)
    else:
        draw.line((cx - mw, my - mw * 0.3, cx - mw * 0.5, my, cx, my - mw * 0.3, cx + mw * 0.5, my, cx + mw, my - mw * 0.3),
                  fill=look.line, width=lw)
    if look.shading and rng.random() < 0.6:
        for side in (-1, 1):
            bx = cx + side * gap * 1.1
            draw.ellipse((bx - ew * 0.6, my - hh * 0.2, bx + ew * 0.6, my - hh * 0.1), fill=(245, 160, 160))
    # bangs: a fringe of spikes across the forehead
    spikes = rng.randint(4, 9)
    top = cy - hh * rng.uniform(1.0, 1.2)
    fringe = [(cx - hw * 1.15, cy + hh * rng.uniform(-0.1, 0.3))]
    for k in range(spikes + 1):
        x = cx - hw * 1.05 + 2.1 * hw * k / spikes
        fringe.append((x, cy - hh * rng.uniform(0.25, 0.05) + (eye_y - cy) * rng.uniform(-0.2, 0.4)))
        if k < spikes:
            fringe.append((x + hw / spikes, cy - hh * rng.uniform(0.55, 0.85)))
    fringe += [(cx + hw * 1.15, cy + hh * rng.uniform(-0.1, 0.3)), (cx + hw * 0.9, top), (cx - hw * 0.9, top)]
    draw.polygon(fringe, fill=hair_fill, outline=look.line, width=lw)
    if look.shading:
        draw.arc((cx - hw * 0.7, top + hh * 0.1, cx + hw * 0.2, top + hh * 0.5), 200, 320, fill=(255, 255, 255), width=lw * 2)
    accessory = rng.choice(["none", "ribbon", "ears", "hat", "clip"])
    acc = _outline(look, _colour(rng, look))
    if accessory == "ribbon":
        rx, ry = cx + hw * rng.uniform(-0.8, 0.8), top + hh * 0.1
        draw.polygon([(rx, ry), (rx - s * 0.3, ry - s * 0.2), (rx - s * 0.3, ry + s * 0.15)], fill=acc, outline=look.line, width=lw)
        draw.polygon([(rx, ry), (rx + s * 0.3, ry - s * 0.2), (rx + s * 0.3, ry + s * 0.15)], fill=acc, outline=look.line, width=lw)
    elif accessory == "ears":
        for side in (-1, 1):
            ex = cx + side * hw * 0.7
            draw.polygon([(ex - s * 0.15, top + hh * 0.2), (ex + side * s * 0.1, top - s * 0.35), (ex + s * 0.15, top + hh * 0.2)],
                         fill=hair_fill, outline=look.line, width=lw)
    elif accessory == "hat":
        draw.chord((cx - hw * 1.1, top - hh * 0.5, cx + hw * 1.1, top + hh * 0.6), 180, 360, fill=acc, outline=look.line, width=lw)
        draw.rectangle((cx - hw * 1.4, top + hh * 0.02, cx + hw * 1.4, top + hh * 0.12), fill=acc, outline=look.line, width=lw)
    elif accessory == "clip":
        x = cx + rng.choice((-1, 1)) * hw * 0.6
        draw.rectangle((x - s * 0.12, top + hh * 0.3, x + s * 0.12, top + hh * 0.38), fill=acc, outline=look.line, width=lw)


def _props(draw, rng: random.Random, look: Style, w: int, h: int, lw: int) -> None:
    for _ in range(rng.randint(0, 3)):  # hearts, stars, speech bubbles in the corners
        x, y = rng.choice((rng.uniform(0, w * 0.2), rng.uniform(w * 0.8, w))), rng.uniform(0, h * 0.5)
        r = rng.uniform(w * 0.02, w * 0.06)
        kind = rng.choice(["star", "heart", "bubble"])
        fill = _outline(look, _colour(rng, look))
        if kind == "star":
            pts = [(x + (r if k % 2 == 0 else r * 0.45) * math.cos(math.pi * k / 5 - math.pi / 2),
                    y + (r if k % 2 == 0 else r * 0.45) * math.sin(math.pi * k / 5 - math.pi / 2)) for k in range(10)]
            draw.polygon(pts, fill=fill, outline=look.line, width=lw)
        elif kind == "heart":
            draw.ellipse((x - r, y - r * 0.5, x, y + r * 0.5), fill=fill, outline=look.line, width=lw)
            draw.ellipse((x, y - r * 0.5, x + r, y + r * 0.5), fill=fill, outline=look.line, width=lw)
            draw.polygon([(x - r, y + r * 0.1), (x + r, y + r * 0.1), (x, y + r * 1.4)], fill=fill)
        else:
            draw.ellipse((x - r * 1.6, y - r, x + r * 1.6, y + r), fill=(255, 255, 255), outline=look.line, width=lw)


def _grain(img: Image.Image, rng: random.Random, amplitude: float) -> Image.Image:
    """Paper grain plus a soft brush texture, as in a scanned or painted piece."""
    nrng = np.random.default_rng(rng.randrange(2 ** 32))
    arr = np.asarray(img, dtype=np.float32)
    fine = nrng.normal(0, amplitude * 0.5, arr.shape[:2])[..., None]
    coarse = np.asarray(Image.fromarray(nrng.normal(128, 60, (arr.shape[0] // 16 + 1, arr.shape[1] // 16 + 1))
                                        .clip(0, 255).astype(np.uint8)).resize(img.size, Image.Resampling.BICUBIC)
                        .filter(ImageFilter.GaussianBlur(4)), dtype=np.float32)[..., None]
    arr = arr + fine + (coarse - 128) * (amplitude / 60)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


STYLE_NAMES = tuple(STYLES)
