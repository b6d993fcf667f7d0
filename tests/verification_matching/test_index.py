"""HammingIndex answers radius queries exactly like a brute-force scan, through adds, removals and compaction."""
from __future__ import annotations

import numpy as np
import pytest

from verification import index as index_module
from verification.index import HammingIndex


def brute(ids, hashes, q, d):
    dist = np.bitwise_count(np.asarray(hashes, dtype=np.uint64) ^ np.uint64(q))
    return sorted(((int(i), int(x)) for i, x in zip(ids, dist) if x <= d), key=lambda p: (p[1], p[0]))


def near(rng, value: int, bits: int) -> int:
    for b in rng.choice(64, bits, replace=False):
        value ^= 1 << int(b)
    return value


@pytest.mark.parametrize("distance", [0, 3, 7, 10, 11, 15, 20])
def test_radius_queries_equal_brute_force(distance):
    rng = np.random.default_rng(distance)
    base = rng.integers(0, 2 ** 64 - 1, 200, dtype=np.uint64, endpoint=True)
    hashes = np.concatenate([base] + [np.array([near(rng, int(b), int(rng.integers(0, 14))) for b in base],
                                               dtype=np.uint64) for _ in range(5)])
    ids = np.arange(len(hashes)) * 3 + 1
    idx = HammingIndex(ids, hashes)
    queries = [int(hashes[k]) for k in range(0, len(hashes), 37)] + [near(rng, int(base[0]), 5)]
    for q in queries:
        assert idx.query(q, distance) == brute(ids, hashes, q, distance)
    merged: dict[int, int] = {}
    for q in queries[:8]:
        for i, d in brute(ids, hashes, q, distance):
            merged[i] = min(d, merged.get(i, 64))
    assert idx.query_many(queries[:8], distance) == sorted(merged.items(), key=lambda p: (p[1], p[0]))


def test_signed_hashes_as_stored_in_the_database():
    idx = HammingIndex([1, 2], np.array([-1, 5], dtype=np.int64))
    assert idx.query(-1, 0) == [(1, 0)]
    assert idx.query((1 << 64) - 1, 0) == [(1, 0)]  # the same bits, unsigned
    assert idx.nearest(4, 2) == (2, 1)


def test_adds_removals_and_compaction(monkeypatch):
    monkeypatch.setattr(index_module, "BUFFER_LIMIT", 10)
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2 ** 63, 50, dtype=np.int64)
    idx = HammingIndex()
    assert len(idx) == 0 and idx.query(123, 10) == []
    for start in range(0, 50, 7):
        idx.add(range(start, min(start + 7, 50)), hashes[start:start + 7])
    assert len(idx) == 50
    assert idx.query(int(hashes[33]), 0) == [(33, 0)]
    assert idx.query_many([int(hashes[33]), int(hashes[40])], 0) == [(33, 0), (40, 0)]
    idx.remove([33, 2])
    assert idx.query(int(hashes[33]), 0) == [] and len(idx) == 48
    idx.compact()
    assert idx.query(int(hashes[34]), 0) == [(34, 0)] and idx.query(int(hashes[2]), 0) == []
