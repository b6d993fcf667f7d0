"""Trace by content: which generated image is this a copy of, when the copy itself carries no trace id.

The invisible mark survives re-encoding, resizing and blur but not a crop (its block grid and bit order shift), and
re-encoding strips XMP and C2PA, so cutting the credit off a generated picture used to make it untraceable. The
worker therefore fingerprints every image it makes (engine/generation_fingerprints.py), and a trace that finds no id
looks the copy up here, among the generated images, taken-down ones included, with the ownership gate's own
calibrated matcher (verification.matching):

1. Shortlist, in memory. `ContentIndex` holds per image its upright pHash and PDQ and its INDEX_FEATURES strongest
   ORB descriptors, in segments of SEGMENT_IMAGES images; each segment is a shortlist-only `Portfolio` with its own
   descriptor LSH, so its buckets stay small whatever the total, and only the newest segment is rebuilt as rows
   arrive. The images nearest by pHash and those the copy's descriptors (as is and mirrored) vote for most make a
   shortlist of at most VERIFY images.
2. Decide. The shortlisted images' whole fingerprints are read from the blob store and `match` decides, exactly as
   it does for the ownership gate: hashes, then a RANSAC similarity transform and the pixel check.

The fingerprint is taken of the picture under the credit (the canvas the credit and the mark are drawn on): the
credit's letters would otherwise own most of the strongest features, and a copy with the credit cut off is the one
this exists for. The index keeps the newest `trace_index_max_images` (Settings) images; older ones are traced by
their mark and metadata only. Figures (memory per image, look-up time, hits and false hits): bench/trace.py.

Everything here blocks on CPU or the database: call it through asyncio.to_thread.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from data.blobs import BlobError
from data.db import Database
from data.models import Generation, GenerationFingerprint
from engine.trace import TraceResult, trace_image
from verification.hashing import Fingerprint, fingerprint
from verification.matching import (PHASH_MATCH, Portfolio, PortfolioEntry, Verdict, descriptor_votes, global_evidence,
                                   match)
from verification.storage import fingerprint_from_bytes

log = logging.getLogger("mimic.trace")

SEGMENT_IMAGES = 4096  # images per in-memory segment (one LSH each); ~0.5M descriptors, ~8 per LSH bucket
VERIFY = 8  # shortlisted images whose whole fingerprints `match` compares
# Votes an image needs to be shortlisted (the VERIFY most voted for are). Below matching.MIN_VOTES and no share of
# the best: the index holds 128 descriptors per image, not 1000, so a quarter of the picture may give its original
# 6 votes while look-alikes get 4-14 and a repeated pattern 30+ (bench/trace.py); `match` counts again with the
# whole fingerprints, where the original stands out.
SHORTLIST_MIN_VOTES = 5
HASH_CANDIDATES = 2  # of those, the nearest by pHash (copies that were not cropped: resized, recoloured, bordered)
LOAD_BATCH = 5_000
# Ids are handed out at insert and transactions commit in any order (two workers finishing at once on PostgreSQL), so
# a row can appear below the newest id already loaded: each refresh also looks this far back for rows it lacks.
LATE_WINDOW = 1_000
SOURCE = "content"  # TraceResult.source of an id found this way


class BlobReader(Protocol):
    def get(self, digest: str) -> bytes: ...


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContentMatch:
    generation_id: int
    trace_id: int
    image_blob: str
    verdict: Verdict  # the matcher's decision, with its reason (stage "hash" or "geometry")


@dataclass(frozen=True, eq=False)
class _Segment:
    ids: np.ndarray  # generationfingerprint row ids, in the portfolio's order
    portfolio: Portfolio

    def __len__(self) -> int:
        return len(self.ids)


class _Rows:
    """The newest segment's rows while it fills; turned into a _Segment when looked up."""

    def __init__(self):
        self.ids: list[int] = []
        self.phashes: list[int] = []
        self.pdqs: list[bytes] = []
        self.qualities: list[int] = []
        self.descriptors: list[bytes] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, row_id: int, phash: int, pdq: str, quality: int, descriptors: bytes) -> None:
        pdq_bytes = bytes.fromhex(pdq) if len(pdq) == 64 else bytes(32)
        self.ids.append(row_id)
        self.phashes.append(phash)
        self.pdqs.append(pdq_bytes)
        self.qualities.append(quality if len(pdq) == 64 else 0)  # no PDQ: its quality says "unreliable"
        self.descriptors.append(descriptors[:len(descriptors) - len(descriptors) % 32])

    def segment(self) -> _Segment:
        n = len(self.ids)
        counts = [len(d) // 32 for d in self.descriptors]
        portfolio = Portfolio.shortlist_only(
            np.array(self.phashes, dtype=np.int64).view(np.uint64),
            np.frombuffer(b"".join(self.pdqs), dtype=np.uint8).reshape(n, 32),
            np.array(self.qualities, dtype=np.int32),
            np.frombuffer(b"".join(self.descriptors), dtype=np.uint8).reshape(-1, 32), counts)
        return _Segment(np.array(self.ids, dtype=np.int64), portfolio.prepare())


class ContentIndex:
    """The newest `max_images` generated images' hashes and strongest descriptors, kept in step with the
    `generationfingerprint` table incrementally (rows only grow, like verification.registry.Registry). One per
    process: the Core holds one; the command line builds one per trace. Thread-safe."""

    def __init__(self, db: Database, blobs: BlobReader, *, max_images: int = 50_000,
                 progress: Callable[[str, int], Any] | None = None):
        """`progress(label, total)`, when given, is a bar (a context manager with `update(done)`) that follows
        the first load: the command line's, on a terminal."""
        self.db, self.blobs, self.max_images = db, blobs, max(1, int(max_images))
        self._progress = progress
        self._lock = threading.Lock()
        self._closed: list[_Segment] = []
        self._rows = _Rows()
        self._open: _Segment | None = None  # built from _rows on the next look-up
        self._last_id: int | None = None  # the newest row loaded; None: not loaded yet
        self._floor = 0  # rows below this id are beyond the bound
        self._recent: set[int] = set()  # ids loaded within LATE_WINDOW of _last_id

    def __len__(self) -> int:
        return sum(len(seg) for seg in self._closed) + len(self._rows)

    def refresh(self) -> None:
        """Add the rows written since the last look-up (by any process); drop the oldest beyond the bound."""
        with self._lock:
            bar = contextlib.nullcontext()
            if self._last_id is None:
                self._floor = self._first_id()
                self._last_id = self._floor - 1
                if self._progress is not None:
                    bar = self._progress("loading the trace index", self._rows_from(self._floor))
            else:
                self._load_late()
            with bar as shown:
                while True:
                    with self.db.session() as s:
                        rows = s.exec(self._columns().where(GenerationFingerprint.id > self._last_id)
                                      .order_by(GenerationFingerprint.id).limit(LOAD_BATCH)).all()
                    if not rows:
                        break
                    self._add(rows)
                    self._last_id = int(rows[-1][0])
                    if shown is not None:
                        shown.advance(len(rows))
            self._recent = {i for i in self._recent if i > self._last_id - LATE_WINDOW}
            while self._closed and len(self) - len(self._closed[0]) >= self.max_images:
                self._closed.pop(0)  # whole segments: the bound holds to within SEGMENT_IMAGES

    def _columns(self):
        return select(GenerationFingerprint.id, GenerationFingerprint.phash, GenerationFingerprint.pdq,
                      GenerationFingerprint.pdq_quality, GenerationFingerprint.descriptors)

    def _add(self, rows) -> None:
        for row in rows:
            self._rows.add(*row)
            self._recent.add(int(row[0]))
            if len(self._rows) >= SEGMENT_IMAGES:
                self._closed.append(self._rows.segment())
                self._rows = _Rows()
        self._open = None

    def _load_late(self) -> None:
        """Rows committed after a newer one was loaded."""
        low = max(self._floor - 1, self._last_id - LATE_WINDOW)
        with self.db.session() as s:
            ids = s.exec(select(GenerationFingerprint.id).where(GenerationFingerprint.id > low,
                                                                GenerationFingerprint.id <= self._last_id)).all()
            late = sorted(set(ids) - self._recent)[:500]
            if late:
                self._add(s.exec(self._columns().where(GenerationFingerprint.id.in_(late))
                                 .order_by(GenerationFingerprint.id)).all())

    def _rows_from(self, first_id: int) -> int:
        with self.db.session() as s:
            return s.exec(select(func.count()).select_from(GenerationFingerprint)
                          .where(GenerationFingerprint.id >= first_id)).one()

    def _first_id(self) -> int:
        """The oldest row the bound lets in."""
        with self.db.session() as s:
            row = s.exec(select(GenerationFingerprint.id).order_by(GenerationFingerprint.id.desc())
                         .offset(self.max_images - 1).limit(1)).first()
        return int(row) if row is not None else 1

    def _segments(self) -> list[_Segment]:
        with self._lock:
            if self._open is None and len(self._rows):
                self._open = self._rows.segment()
            return [*self._closed, *([self._open] if len(self._rows) else [])]

    def lookup(self, image: Image.Image) -> ContentMatch | None:
        """The generated image `image` (RGB, from verification.imaging.load_image) is a copy of, if any."""
        self.refresh()
        if not len(self):
            return None  # nothing generated yet: spare the fingerprint
        return self.lookup_fingerprint(fingerprint(image, candidate=True), refreshed=True)

    def lookup_fingerprint(self, candidate: Fingerprint, *, refreshed: bool = False) -> ContentMatch | None:
        if not refreshed:
            self.refresh()
        row_ids = self.shortlist(candidate)
        if not row_ids:
            return None
        with self.db.session() as s:
            rows = {row.id: row for row in s.exec(select(GenerationFingerprint)
                                                  .where(GenerationFingerprint.id.in_(row_ids))).all()}
        entries = []
        for row_id in row_ids:
            row = rows.get(row_id)
            if row is None:  # forgotten meanwhile (a generation cancelled as it finished)
                continue
            try:
                fp = fingerprint_from_bytes(self.blobs.get(row.fingerprint_blob))
            except (BlobError, OSError, ValueError) as exc:  # missing or damaged: that image is not compared
                log.warning("the fingerprint of generated image %s cannot be read (%s)", row.image_blob[:12],
                            type(exc).__name__)
                continue
            entries.append(PortfolioEntry(id=str(row.id), fingerprint=fp))
        if not entries:
            return None
        verdict = match(candidate, Portfolio(entries))
        if verdict.verdict != "match":
            return None
        row = rows[int(verdict.matched)]
        with self.db.session() as s:
            gen = s.get(Generation, row.generation_id)
        if gen is None:
            return None
        return ContentMatch(gen.id, int(gen.trace_id), row.image_blob, verdict)

    def shortlist(self, candidate: Fingerprint) -> list[int]:
        """Row ids worth verifying: the nearest by pHash, then the most voted for, at most VERIFY."""
        segments = self._segments()
        if not segments:
            return []
        feature_sets = [candidate.features]
        mirrored = candidate.mirrored_features()
        if mirrored is not None and len(mirrored):
            feature_sets.append(mirrored)
        near, voted = [], []
        for seg in segments:
            for ev in global_evidence(candidate, seg.portfolio, limit=HASH_CANDIDATES):
                if ev.phash_distance <= PHASH_MATCH:
                    near.append((ev.phash_distance, int(seg.ids[ev.index])))
            for features in feature_sets:
                votes = descriptor_votes(features, seg.portfolio)
                for i in np.argsort(-votes, kind="stable")[:VERIFY]:
                    if votes[i] >= SHORTLIST_MIN_VOTES:
                        voted.append((-int(votes[i]), int(seg.ids[i])))
        chosen = [row_id for _, row_id in sorted(near)[:HASH_CANDIDATES]]
        chosen += [row_id for _, row_id in sorted(voted)]
        return list(dict.fromkeys(chosen))[:VERIFY]


def trace_copy(data: bytes, image: Image.Image, index: ContentIndex | None, *,
               max_pixels: int) -> TraceResult:
    """What `mimic trace`, the web trace form and /trace read from an image: the invisible mark, C2PA or XMP
    (engine.trace), and when none of them gives an id, the generated image it is a copy of (source "content").
    `image` is `data` as verification.imaging.load_image decoded it. Raises engine.trace.TraceError."""
    result = trace_image(data, max_pixels=max_pixels, decoded=image)
    if result.trace_id is not None or index is None:
        return result
    try:
        found = index.lookup(image)
    except Exception:  # the fallback must not turn "no id in this image" into an error page
        log.warning("the look-up by content failed; answering from the mark and metadata alone", exc_info=True)
        return result
    if found is None:
        return result
    log.debug("traced by content to generation %s: %s", found.generation_id, found.verdict.reason)
    return dataclasses.replace(result, trace_id=found.trace_id, source=SOURCE)
