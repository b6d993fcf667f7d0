"""Tracing by content (bot/core/content_index.py, engine/generation_fingerprints.py): a copy whose mark and metadata are gone (the credit cropped off and
re-encoded, flipped, shrunk) is found among the generated images with the ownership gate's matcher; unrelated and
same-style pictures are not; the in-memory index follows new rows, spans segments and keeps to its bound."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps
from sqlmodel import SQLModel, select

from data.blobs import FolderBlobStore
from data.db import Database
from data.models import Generation, GenerationFingerprint, Maker, User
from bot.core import content_index
from bot.core.content_index import ContentIndex, trace_copy
from engine import generation_fingerprints
from engine.generation_fingerprints import (fingerprint_generated, forget_fingerprints, record_fingerprints,
                                            store_fingerprint)
from engine.trace import read_invisible
from engine.watermark import watermark_image
from verification.synthetic import STYLES, draw_illustration

STYLE_NAMES = list(STYLES)


def jpeg(img: Image.Image, quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def credit_cut(img: Image.Image) -> Image.Image:
    """What a reposter does: a few pixels off the top and left, the credit's corner strip off the bottom and right."""
    w, h = img.size
    return img.crop((9, 7, w - w // 8, h - h // 9))


@pytest.fixture
def store(request, tmp_path):
    """A database (SQLite, or PostgreSQL where a test asks: its bytea comes back as memoryview) and a blob store."""
    postgres = getattr(request, "param", "sqlite") == "postgresql"
    db = Database(request.getfixturevalue("pg_url") if postgres else f"sqlite:///{tmp_path / 'mimic.db'}")
    SQLModel.metadata.create_all(db.engine)
    with db.session() as s:
        artist, fan = User(display_name="aoi"), User(display_name="hana")
        s.add_all([artist, fan])
        s.flush()
        maker = Maker(owner_id=artist.id, name="aoi", status="ready")
        s.add(maker)
        s.commit()
        people = (fan.id, maker.id)
    yield db, FolderBlobStore(tmp_path / "blobs"), people
    db.dispose()


def generate(store, seed: int, style: str | None = None, count: int = 1) -> tuple[int, int, list[Image.Image]]:
    """A finished generation the way the worker leaves it: published images (credit + mark) and fingerprints."""
    db, blobs, (fan_id, maker_id) = store
    trace_id = 10_000 + seed
    with db.session() as s:
        gen = Generation(requester_id=fan_id, maker_id=maker_id, prompt="p", trace_id=trace_id, status="done")
        s.add(gen)
        s.commit()
        gen_id = gen.id
    published, stored = [], []
    for k in range(count):
        picture = draw_illustration(seed * 10 + k, (512, 512), style or STYLE_NAMES[seed % len(STYLE_NAMES)])
        marked = watermark_image(picture, trace_id=trace_id, artist="@aoi_draws", maker="aoi")
        blob = blobs.put(jpeg(marked, 95))
        stored.append(store_fingerprint(blobs, blob, fingerprint_generated(picture)))
        published.append(marked)
    record_fingerprints(db, blobs, gen_id, stored)
    with db.session() as s:
        gen = s.get(Generation, gen_id)
        gen.image_blobs = [item.image_blob for item in stored]
        s.add(gen)
        s.commit()
    return gen_id, trace_id, published


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_edited_copies_are_found_and_strangers_are_not(store):
    db, blobs, _ = store
    made = [generate(store, seed) for seed in range(5)]
    index = ContentIndex(db, blobs)
    for gen_id, trace_id, (image,) in made:
        cropped = jpeg(credit_cut(image), 70)
        assert read_invisible(decoded(cropped)) is None  # the mark is gone: this is what content is for
        found = index.lookup(decoded(cropped))
        assert (found.generation_id, found.trace_id) == (gen_id, trace_id), found
        assert found.verdict.stage == "geometry"
    gen_id, trace_id, (image,) = made[2]
    w, h = image.size
    edits = {
        "mirrored crop": ImageOps.mirror(credit_cut(image)),
        "face-sized crop": image.crop((w // 4, h // 5, w * 3 // 4, h * 3 // 4)),
        "shrunk and brightened": Image.eval(image.resize((300, 300)), lambda v: min(255, v + 20)),
    }
    for name, copy in edits.items():
        found = index.lookup(decoded(jpeg(copy, 80)))
        assert found is not None and found.generation_id == gen_id, name
    # never made here: other pictures of the same styles, and a made picture's unrecorded sibling
    for seed in (900, 901, 902):
        stranger = draw_illustration(seed, (512, 512), STYLE_NAMES[seed % len(STYLE_NAMES)])
        assert index.lookup(decoded(jpeg(credit_cut(stranger)))) is None
    sibling = draw_illustration(21, (512, 512), STYLE_NAMES[2])  # generation 2 drew seed 20 in this style
    assert index.lookup(decoded(jpeg(credit_cut(sibling)))) is None


def test_trace_copy_falls_back_to_content_only_without_an_id(store):
    db, blobs, _ = store
    gen_id, trace_id, (image,) = generate(store, 7)
    index = ContentIndex(db, blobs)
    whole = jpeg(image, 85)  # the mark survives: it decides, the index is not consulted
    result = trace_copy(whole, decoded(whole), index, max_pixels=40_000_000)
    assert (result.trace_id, result.source) == (trace_id, "watermark")
    cropped = jpeg(credit_cut(image), 70)
    result = trace_copy(cropped, decoded(cropped), index, max_pixels=40_000_000)
    assert (result.trace_id, result.source) == (trace_id, "content")
    assert trace_copy(cropped, decoded(cropped), None, max_pixels=40_000_000).trace_id is None

    class Broken(ContentIndex):
        def lookup(self, image):
            raise OSError("the blob store went away")
    result = trace_copy(cropped, decoded(cropped), Broken(db, blobs), max_pixels=40_000_000)
    assert (result.trace_id, result.source) == (None, None)  # answered from the mark and metadata, not an error


def test_the_index_follows_new_rows_across_segments_and_keeps_its_bound(store, monkeypatch):
    db, blobs, _ = store
    monkeypatch.setattr(content_index, "SEGMENT_IMAGES", 2)
    first = generate(store, 1, count=3)  # one generation, three images: a full segment and one more
    index = ContentIndex(db, blobs)
    for image in first[2]:
        assert index.lookup(decoded(jpeg(credit_cut(image)))).generation_id == first[0]
    assert len(index) == 3 and len(index._closed) == 1

    later = generate(store, 2)  # written after the index loaded (by a worker): found without a reload
    assert index.lookup(decoded(jpeg(credit_cut(later[2][0])))).generation_id == later[0]
    assert len(index) == 4 and len(index._closed) == 2

    small = ContentIndex(db, blobs, max_images=2)  # the newest two segments' worth at most, the oldest dropped
    generate(store, 3)
    newest = generate(store, 4)
    assert small.lookup(decoded(jpeg(credit_cut(newest[2][0])))).generation_id == newest[0]
    assert small.lookup(decoded(jpeg(credit_cut(first[2][0])))) is None
    assert len(small) <= 2 + content_index.SEGMENT_IMAGES


def test_a_missing_fingerprint_blob_is_skipped_and_a_forgotten_generation_is_gone(store):
    db, blobs, _ = store
    kept = generate(store, 5)
    lost = generate(store, 6)
    with db.session() as s:
        row = s.exec(select(GenerationFingerprint).where(GenerationFingerprint.generation_id == lost[0])).one()
    blobs.delete(row.fingerprint_blob)  # a store restored without it
    index = ContentIndex(db, blobs)
    assert index.lookup(decoded(jpeg(credit_cut(lost[2][0])))) is None
    assert index.lookup(decoded(jpeg(credit_cut(kept[2][0])))).generation_id == kept[0]

    forget_fingerprints(db, blobs, kept[0])  # cancelled as it finished: its rows and blobs go
    with db.session() as s:
        assert s.exec(select(GenerationFingerprint).where(GenerationFingerprint.generation_id == kept[0])).all() == []
    assert index.lookup(decoded(jpeg(credit_cut(kept[2][0])))) is None


def test_recording_again_replaces_a_generations_fingerprints(store):
    db, blobs, _ = store
    gen_id, _, _ = generate(store, 8, count=2)
    with db.session() as s:
        before = s.exec(select(GenerationFingerprint).where(GenerationFingerprint.generation_id == gen_id)).all()
    assert len(before) == 2 and all(len(row.descriptors) == 32 * generation_fingerprints.INDEX_FEATURES for row in before)
    again = store_fingerprint(blobs, before[0].image_blob,
                              fingerprint_generated(draw_illustration(80, (512, 512), STYLE_NAMES[3])))
    record_fingerprints(db, blobs, gen_id, [again])  # a retried job: its images are recorded anew
    with db.session() as s:
        after = s.exec(select(GenerationFingerprint).where(GenerationFingerprint.generation_id == gen_id)).all()
    assert [row.fingerprint_blob for row in after] == [again.fingerprint_blob]
    assert not blobs.exists(before[1].fingerprint_blob)


def test_a_row_committed_after_a_newer_one_is_still_picked_up(store):
    """Ids are handed out at insert and commits land in any order (two workers at once on PostgreSQL)."""
    db, blobs, _ = store
    made = [generate(store, seed) for seed in (11, 12, 13)]
    with db.session() as s:
        late = s.exec(select(GenerationFingerprint).where(GenerationFingerprint.generation_id == made[1][0])).one()
        s.delete(late)
        s.commit()
    index = ContentIndex(db, blobs)
    late_copy = decoded(jpeg(credit_cut(made[1][2][0])))
    assert index.lookup(late_copy) is None and len(index) == 2  # the newer row is loaded, the older not yet there
    with db.session() as s:  # now its transaction commits, under its own (older) id
        s.add(GenerationFingerprint(**late.model_dump()))
        s.commit()
    assert index.lookup(late_copy).generation_id == made[1][0]
    assert len(index) == 3


def test_the_first_load_reports_its_progress(store):
    """What `mimic trace` draws on a terminal while it loads the index: every row counted, against the total."""
    db, blobs, _ = store
    for seed in range(3):
        generate(store, seed)
    seen: list[tuple[str, int, int]] = []

    class Bar:
        def __init__(self, label: str, total: int):
            self.label, self.total, self.done = label, total, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            seen.append((self.label, self.done, self.total))

        def advance(self, n: int = 1) -> None:
            self.done += n

    index = ContentIndex(db, blobs, progress=Bar)
    index.refresh()
    index.refresh()  # later refreshes follow new rows quietly
    assert seen == [("loading the trace index", 3, 3)]
