"""The worker's side of trace by content: fingerprint every generated image and keep the fingerprint.

pHash, PDQ and ORB features (verification.hashing, the pure hashing leaf engine may use), taken of the picture under
the credit, serialised into the blob store, with their hashes and strongest descriptors in the
`generationfingerprint` table for bot/core/content_index.py to look copies up in. Blocks on CPU and the database:
call it through asyncio.to_thread."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image
from sqlalchemy import delete
from sqlmodel import select

from data.db import Database
from data.models import GenerationFingerprint
from engine.canvas import prepare_canvas
from verification.hashing import Fingerprint, fingerprint
from verification.storage import fingerprint_to_bytes

# ORB descriptors per image held in memory for shortlisting (strongest first): with 128, every edited copy in
# bench/trace.py is traced among 10,000 images; with 64, 3 in 20 crops to a third of the picture no longer ranked
# their original first among 200. Each descriptor costs 32 bytes, and 32 more in the LSH tables.
INDEX_FEATURES = 128


@dataclass(frozen=True)
class StoredFingerprint:
    image_blob: str  # the published image
    fingerprint_blob: str  # its fingerprint, serialised, in the blob store
    fingerprint: Fingerprint


def fingerprint_generated(img: Image.Image) -> Fingerprint:
    """The fingerprint of a generated picture, taken under its credit: `img` is the pipeline's output, which
    engine.watermark.watermark_image upscales to this same canvas before it draws the credit and embeds the mark."""
    return fingerprint(prepare_canvas(img))


def store_fingerprint(blobs, image_blob: str, fp: Fingerprint) -> StoredFingerprint:
    return StoredFingerprint(image_blob, blobs.put(fingerprint_to_bytes(fp)), fp)


def record_fingerprints(db: Database, blobs, generation_id: int, stored: Sequence[StoredFingerprint]) -> None:
    """Make `stored` the generation's fingerprints (a retried job records its images again)."""
    with db.session() as s:
        previous = set(s.exec(select(GenerationFingerprint.fingerprint_blob)
                              .where(GenerationFingerprint.generation_id == generation_id)).all())
        s.exec(delete(GenerationFingerprint).where(GenerationFingerprint.generation_id == generation_id))
        for item in stored:
            fp = item.fingerprint
            s.add(GenerationFingerprint(
                generation_id=generation_id, image_blob=item.image_blob, fingerprint_blob=item.fingerprint_blob,
                phash=fp.phash, pdq=fp.pdq_hex, pdq_quality=fp.pdq_quality,
                descriptors=np.ascontiguousarray(fp.features.descriptors[:INDEX_FEATURES]).tobytes()))
        s.commit()
    for blob in previous - {item.fingerprint_blob for item in stored}:
        blobs.delete(blob)


def forget_fingerprints(db: Database, blobs, generation_id: int) -> None:
    """A generation cancelled before its images were published: keep nothing of them."""
    with db.session() as s:
        gone = s.exec(select(GenerationFingerprint.fingerprint_blob)
                      .where(GenerationFingerprint.generation_id == generation_id)).all()
        s.exec(delete(GenerationFingerprint).where(GenerationFingerprint.generation_id == generation_id))
        s.commit()
    for blob in gone:
        blobs.delete(blob)
