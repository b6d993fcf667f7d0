"""Training-set preparation: normalise artworks, optional anime-face crops, square crops or aspect buckets,
and captions made of the maker's trigger token plus optional tags."""
from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Callable, Sequence

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

Tagger = Callable[[Image.Image], Sequence[str]]


@dataclass(frozen=True)
class TrainExample:
    image: Image.Image  # RGB, already at its training size
    caption: str
    original_size: tuple[int, int]  # (height, width) before cropping; SDXL conditions on it
    crop_top_left: tuple[int, int]  # (top, left) of the crop in the resized image
    source_sha256: str  # of the normalised source pixels, for the metadata file


def normalise(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, flatten any transparency onto white, return RGB."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def pixel_sha256(image: Image.Image) -> str:
    digest = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def bucket_sizes(resolution: int, *, multiple: int | None = None, max_ratio: float = 2.0) -> list[tuple[int, int]]:
    """(width, height) pairs of about resolution² pixels, sides a multiple of 64 (8 for toy sizes)."""
    multiple = multiple or (64 if resolution >= 256 else 8)
    area = resolution * resolution
    sizes = set()
    width = multiple
    while width <= resolution * max_ratio:
        height = int(area / width) // multiple * multiple
        if height >= multiple and max(width, height) / min(width, height) <= max_ratio:
            sizes.add((width, height))
        width += multiple
    sizes.add((resolution, resolution))
    return sorted(sizes)


def _nearest_bucket(size: tuple[int, int], buckets: list[tuple[int, int]]) -> tuple[int, int]:
    aspect = math.log(size[0] / size[1])
    return min(buckets, key=lambda b: (abs(math.log(b[0] / b[1]) - aspect), -b[0] * b[1]))


def resize_and_crop(image: Image.Image, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """Scale to cover width x height, then centre-crop; returns the crop and its (top, left)."""
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                           Image.Resampling.LANCZOS)
    left = (resized.width - width) // 2
    top = (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height)), (top, left)


def _face_detector() -> Callable[[Image.Image], list[tuple[int, int, int, int]]] | None:
    """The `animeface` detector when importable (it needs Pillow < 12), else None."""
    try:
        import animeface  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - a missing or broken optional package means "no face crops"
        return None

    def detect(image: Image.Image) -> list[tuple[int, int, int, int]]:
        faces = []
        for face in animeface.detect(image):
            pos = face.face.pos
            faces.append((pos.x, pos.y, pos.width, pos.height))
        return faces

    return detect


def crop_faces(image: Image.Image, boxes: list[tuple[int, int, int, int]], *, context: float = 2.5,
               min_side: int = 64) -> list[Image.Image]:
    """Square crops around each face box, widened by `context` to keep hair and shoulders."""
    crops = []
    for x, y, w, h in boxes:
        side = int(max(w, h) * context)
        if side < min_side:
            continue
        side = min(side, image.width, image.height)
        cx, cy = x + w // 2, y + h // 2
        left = min(max(cx - side // 2, 0), image.width - side)
        top = min(max(cy - side // 2, 0), image.height - side)
        crops.append(image.crop((left, top, left + side, top + side)))
    return crops


def make_caption(trigger: str, tags: Sequence[str] | str | None = None) -> str:
    if not tags:
        return trigger
    if not isinstance(tags, str):
        tags = ", ".join(tag.strip() for tag in tags if tag.strip())
    return f"{trigger}, {tags}" if tags else trigger


def prepare_dataset(images: list[Image.Image], *, resolution: int, trigger: str, face_crops: bool = False,
                    captions: list[str] | None = None, buckets: bool = False,
                    tagger: Tagger | None = None) -> list[TrainExample]:
    """Turn the artist's images into training examples at `resolution` (square, or aspect buckets).

    `captions` (one per image) are appended to the trigger as tags; `tagger` is used only when a configured
    one is passed in — nothing is ever downloaded here."""
    if not images:
        raise ValueError("no images to train on")
    if captions is not None and len(captions) != len(images):
        raise ValueError("captions must match images one to one")
    if not trigger.strip():
        raise ValueError("a trigger token is needed")
    detector = _face_detector() if face_crops else None
    if face_crops and detector is None:
        log.warning("anime face crops requested but the animeface package is unavailable (it needs Pillow < 12); "
                    "training on whole images only")
    sizes = bucket_sizes(resolution) if buckets else [(resolution, resolution)]
    examples: list[TrainExample] = []
    for index, raw in enumerate(images):
        image = normalise(raw)
        sha = pixel_sha256(image)
        tags = captions[index] if captions is not None else (tagger(image) if tagger else None)
        caption = make_caption(trigger, tags)
        sources = [image]
        if detector is not None:
            sources += crop_faces(image, detector(image))
        for source in sources:
            width, height = _nearest_bucket(source.size, sizes)
            cropped, top_left = resize_and_crop(source, width, height)
            examples.append(TrainExample(cropped, caption, (source.height, source.width), top_left, sha))
    return examples
