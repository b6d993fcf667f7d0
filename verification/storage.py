"""Fingerprints to bytes and back, so an artist's indexed portfolio is hashed once and kept in the blob store."""
from __future__ import annotations

import io

import numpy as np

from verification.hashing import Features, Fingerprint

FORMAT_VERSION = 2  # 2: whole-image global hashes beside the trimmed ones


def fingerprint_to_bytes(fp: Fingerprint) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        version=np.array(FORMAT_VERSION),
        dims=np.array([fp.width, fp.height, fp.pdq_quality, *fp.features.size], dtype=np.int64),
        phash_variants=np.array(fp.phash_variants, dtype=np.uint64),
        pdq_variants=np.frombuffer(b"".join(fp.pdq_variants), dtype=np.uint8).reshape(len(fp.pdq_variants), -1),
        points=fp.features.points,
        descriptors=fp.features.descriptors,
        thumb=fp.thumb,
        whole_phash_variants=np.array(fp.whole_phash_variants, dtype=np.uint64),
        whole_pdq_variants=np.frombuffer(b"".join(fp.whole_pdq_variants), dtype=np.uint8).reshape(
            len(fp.whole_pdq_variants), 32),
    )
    return buffer.getvalue()


def fingerprint_from_bytes(data: bytes) -> Fingerprint:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        if int(z["version"]) not in (1, FORMAT_VERSION):
            raise ValueError("unsupported fingerprint format")
        has_whole = "whole_phash_variants" in z.files
        width, height, quality, fw, fh = (int(v) for v in z["dims"])
        variants = tuple(int(v) for v in z["phash_variants"])
        pdqs = tuple(bytes(row) for row in z["pdq_variants"])
        phash = variants[0] - (1 << 64) if variants[0] >= (1 << 63) else variants[0]
        return Fingerprint(width=width, height=height, phash=phash, phash_variants=variants, pdq=pdqs[0],
                           pdq_variants=pdqs, pdq_quality=quality,
                           features=Features(points=z["points"], descriptors=z["descriptors"], size=(fw, fh)),
                           thumb=z["thumb"],
                           whole_phash_variants=tuple(int(v) for v in z["whole_phash_variants"]) if has_whole else (),
                           whole_pdq_variants=tuple(bytes(r) for r in z["whole_pdq_variants"]) if has_whole else ())
