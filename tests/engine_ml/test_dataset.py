"""Dataset preparation: normalisation, crops and buckets, captions, the face-crop fallback."""
from __future__ import annotations

import logging

import pytest
from PIL import Image

from engine.dataset import bucket_sizes, normalise, prepare_dataset


def test_transparency_is_flattened_onto_white():
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    flat = normalise(image)
    assert flat.mode == "RGB"
    assert flat.getpixel((5, 5)) == (255, 255, 255)
    assert flat.getpixel((0, 0)) == (255, 0, 0)


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), "blue")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    image.info["exif"] = exif.tobytes()
    image = Image.open(_roundtrip(image, exif))
    assert normalise(image).size == (20, 40)


def _roundtrip(image, exif):
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    buffer.seek(0)
    return buffer


def test_square_crops_at_the_resolution_with_trigger_captions(artworks):
    examples = prepare_dataset(artworks, resolution=64, trigger="mmcstyle", captions=["red, ball", "", "x", "y"])
    assert [e.image.size for e in examples] == [(64, 64)] * 4
    assert examples[0].caption == "mmcstyle, red, ball"
    assert examples[1].caption == "mmcstyle"
    assert examples[0].original_size == (80, 96)
    assert len({e.source_sha256 for e in examples}) == 4


def test_buckets_keep_a_wide_image_wide():
    wide = Image.new("RGB", (300, 100), "green")
    (example,) = prepare_dataset([wide], resolution=64, trigger="t", buckets=True)
    width, height = example.image.size
    assert width > height and width % 8 == 0 and height % 8 == 0
    assert all(abs(w * h - 64 * 64) <= 64 * 64 * 0.25 for w, h in bucket_sizes(64))


def test_a_tagger_is_used_only_when_passed(artworks):
    (example,) = prepare_dataset(artworks[:1], resolution=32, trigger="t", tagger=lambda image: ["flat colour"])
    assert example.caption == "t, flat colour"


def test_face_crops_fall_back_with_one_warning(artworks, caplog):
    try:
        import animeface  # noqa: F401
        pytest.skip("animeface is installed here; the fallback is not exercised")
    except Exception:  # noqa: BLE001
        pass
    with caplog.at_level(logging.WARNING, logger="engine.dataset"):
        examples = prepare_dataset(artworks, resolution=32, trigger="t", face_crops=True)
    assert len(examples) == len(artworks)
    assert len([r for r in caplog.records if "animeface" in r.getMessage()]) == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=[]), "no images"),
    (dict(captions=["a", "b"]), "one to one"),
    (dict(trigger=" "), "trigger"),
])
def test_bad_input_is_refused_clearly(artworks, kwargs, message):
    args = dict(images=artworks[:1], resolution=32, trigger="t")
    args.update(kwargs)
    images = args.pop("images")
    with pytest.raises(ValueError, match=message):
        prepare_dataset(images, **args)
