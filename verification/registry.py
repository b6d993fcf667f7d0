"""The global registry: which verified artist claimed an artwork first, and which works are "No AI learning".

Claims live in the `artwork` table; this module keeps an in-memory Hamming index of their pHashes so that a
look-up stays fast at millions of works, and confirms each hit with PDQ so that look-alikes don't collide.
The index catches up incrementally with rows other processes add (ids only grow); removals reload it."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlmodel import select

from data.db import Database
from data.models import Artwork
from verification.hashing import Fingerprint, hamming_bytes
from verification.index import HammingIndex
from verification.matching import PDQ_CONFIRM, PHASH_ALONE, PHASH_MATCH

LOAD_BATCH = 50_000


@dataclass(frozen=True)
class Claim:
    artwork_id: int
    owner_id: int
    no_ai: bool
    source_url: str
    phash_distance: int
    pdq_distance: int | None


class Registry:
    """One per process (the Core holds it). Thread-safe: look-ups run in worker threads."""

    def __init__(self, db: Database):
        self.db = db
        self._lock = threading.Lock()
        self._index = HammingIndex()
        self._last_id = 0

    def refresh(self) -> None:
        """Add artworks created since the last look-up (by any process)."""
        with self._lock:
            while True:
                with self.db.session() as s:
                    rows = s.exec(select(Artwork.id, Artwork.phash).where(Artwork.id > self._last_id)
                                  .order_by(Artwork.id).limit(LOAD_BATCH)).all()
                if not rows:
                    return
                ids = np.array([r[0] for r in rows], dtype=np.int64)
                hashes = np.array([r[1] for r in rows], dtype=np.int64)
                self._index.add(ids, hashes)
                self._last_id = int(ids[-1])

    def reload(self) -> None:
        """Start over (after artworks were deleted)."""
        with self._lock:
            self._index, self._last_id = HammingIndex(), 0
        self.refresh()

    def find_claims(self, fp: Fingerprint) -> list[Claim]:
        """Registered works this image is a copy of (re-encoded, resized, flipped, bordered, recoloured)."""
        self.refresh()
        best: dict[int, int] = {}
        for variant in fp.phash_variants:
            for artwork_id, distance in self._index.query(variant, PHASH_MATCH):
                best[artwork_id] = min(distance, best.get(artwork_id, 64))
        if not best:
            return []
        with self.db.session() as s:
            rows = s.exec(select(Artwork).where(Artwork.id.in_(list(best)))).all()
        claims = []
        for row in rows:
            phash_d = best[row.id]
            pdq_d = min(hamming_bytes(v, bytes.fromhex(row.pdq)) for v in fp.pdq_variants) if row.pdq else None
            if phash_d <= PHASH_ALONE or (pdq_d is not None and pdq_d <= PDQ_CONFIRM):
                claims.append(Claim(row.id, row.owner_id, row.no_ai, row.source_url, phash_d, pdq_d))
        return sorted(claims, key=lambda c: (c.phash_distance, c.artwork_id))
