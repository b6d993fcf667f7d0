"""Figures for the README's Scaling section: what one process holds in memory, and how long a look-up takes,
for the ownership registry at millions of hashes and the content-trace index at 100,000 generated images.

1. Registry (verification.registry.Registry keeps its hashes in a verification.index.HammingIndex; each artwork
   is one or two entries). The index is built from N random 64-bit hashes held in numpy arrays, then asked what
   the registry asks for each upload: every hash within REGISTRY_PHASH_RADIUS of the upload's 16 dihedral pHashes
   (trimmed and whole image), half of the look-ups near a stored hash, half not.
2. Content trace (engine.content_trace.ContentIndex) filled through its own loading code (`_add`, the rows a
   database query returns) with N rows: REAL rows are procedural illustrations fingerprinted as the worker does,
   the others random hashes and ORB-sized random descriptors (real descriptors cluster more than random ones, so
   real buckets are fuller: bench/trace.py measures real images at 1k/10k). A look-up is the in-memory shortlist
   of a cropped, re-encoded copy of a real row; the verification after it reads VERIFY (8) fingerprints from the
   blob store whatever N is, and is timed by bench/trace.py.

Memory is what tracemalloc sees allocated by the structure (numpy reports its buffers to it), and the process's
peak RSS. Times are wall clock and CPU time: on a shared machine the wall clock includes waiting for a core.

    python bench/scaling.py                                   # 10M hashes, 100k generated images
    python bench/scaling.py --hashes 1000000 --images 10000   # a quick run
"""
from __future__ import annotations

import argparse
import gc
import io
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verification.index import HammingIndex  # noqa: E402
from verification.registry import LOOKUP_VARIANTS, REGISTRY_PHASH_RADIUS  # noqa: E402

MIB = 1024 * 1024


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _ms(values: list[float], cpu: float) -> str:
    """Wall-clock mean/p50/p99, and the CPU time per look-up (what a shared machine does not inflate)."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    return f"wall mean {1000 * statistics.fmean(values):.2f} ms, p50 {1000 * statistics.median(values):.2f} ms, " \
           f"p99 {1000 * p99:.2f} ms; cpu {1000 * cpu / len(values):.2f} ms each"


def bench_registry(n: int, lookups: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    print(f"registry index: {n:,} hashes, radius {REGISTRY_PHASH_RADIUS}, "
          f"{2 * len(LOOKUP_VARIANTS)} variants per look-up")
    gc.collect()
    tracemalloc.start()
    started, started_cpu = time.perf_counter(), time.process_time()
    ids = np.arange(n, dtype=np.int64)
    hashes = rng.integers(0, 2 ** 63, size=n, dtype=np.int64).view(np.uint64) ^ \
        (rng.integers(0, 2, size=n, dtype=np.uint64) << np.uint64(63))
    index = HammingIndex(ids, hashes)
    built, built_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  build {built:.1f} s (cpu {built_cpu:.1f} s); held {current / MIB:,.0f} MiB ({current / n:.1f} bytes per hash), "
          f"peak while building {peak / MIB:,.0f} MiB; process peak RSS {_rss_mib():,.0f} MiB")

    pick = random.Random(seed)
    times, hits = [], 0
    cpu = time.process_time()
    for i in range(lookups):
        base = int(hashes[pick.randrange(n)]) if i % 2 == 0 else pick.getrandbits(64)
        near = base
        for bit in pick.sample(range(64), pick.randint(0, 4)):
            near ^= 1 << bit
        variants = [near] + [pick.getrandbits(64) for _ in range(2 * len(LOOKUP_VARIANTS) - 1)]
        t0 = time.perf_counter()
        found = index.query_many(variants, REGISTRY_PHASH_RADIUS)
        times.append(time.perf_counter() - t0)
        hits += bool(found) and i % 2 == 0
    cpu = time.process_time() - cpu
    print(f"  look-up ({lookups}): {_ms(times, cpu)}; near copies found {hits}/{(lookups + 1) // 2}")


def _real_rows(count: int, seed: int):
    """(row tuple, copy fingerprint) for `count` procedural illustrations, fingerprinted as the worker does."""
    from engine.content_trace import INDEX_FEATURES, fingerprint_generated
    from verification.hashing import fingerprint
    from verification.imaging import load_image
    from verification.synthetic import STYLE_NAMES, draw_illustration

    out = []
    for i in range(count):
        img = draw_illustration(seed + i, (512, 512), style=STYLE_NAMES[i % len(STYLE_NAMES)])
        fp = fingerprint_generated(img)
        row = (0, fp.phash, fp.pdq_hex, fp.pdq_quality,
               np.ascontiguousarray(fp.features.descriptors[:INDEX_FEATURES]).tobytes())
        w, h = img.size  # the copy: the credit's corner cut off (70% of the picture kept), re-encoded
        buffer = io.BytesIO()
        img.crop((0, 0, round(w * 0.84), round(h * 0.84))).save(buffer, "JPEG", quality=85)
        out.append((row, fingerprint(load_image(buffer.getvalue()), candidate=True)))
    return out


def bench_content(n: int, real: int, seed: int) -> None:
    from data.db import Database
    from engine.content_trace import INDEX_FEATURES, ContentIndex

    print(f"content-trace index: {n:,} generated images ({real} real, the rest random), "
          f"{INDEX_FEATURES} descriptors each")
    reals = _real_rows(real, seed)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        index = ContentIndex(Database(f"sqlite:///{tmp}/unused.db"), blobs=None, max_images=n)
        positions = {int(p): k for k, p in enumerate(rng.choice(n, size=real, replace=False))}
        gc.collect()
        tracemalloc.start()
        started, started_cpu = time.perf_counter(), time.process_time()
        batch = []
        for row_id in range(1, n + 1):
            k = positions.get(row_id - 1)
            if k is not None:
                batch.append((row_id, *reals[k][0][1:]))
            else:
                batch.append((row_id, int(rng.integers(-2 ** 63, 2 ** 63 - 1)), rng.bytes(32).hex(), 100,
                              rng.bytes(32 * INDEX_FEATURES)))
            if len(batch) == 5000:
                index._add(batch)  # what refresh() does with each page of database rows
                batch = []
        if batch:
            index._add(batch)
        index._segments()  # the open segment too, as the first look-up would
        built, built_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  load {built:.1f} s (cpu {built_cpu:.1f} s); held {current / MIB:,.0f} MiB ({current / n / 1024:.1f} KiB per image), "
              f"peak while loading {peak / MIB:,.0f} MiB; process peak RSS {_rss_mib():,.0f} MiB")
        expected = {k: p + 1 for p, k in positions.items()}
        times, found = [], 0
        cpu = time.process_time()
        for k, (_, copy) in enumerate(reals):
            t0 = time.perf_counter()
            shortlist = index.shortlist(copy)
            times.append(time.perf_counter() - t0)
            found += expected[k] in shortlist
        cpu = time.process_time() - cpu
        print(f"  shortlist of a cropped copy ({real}): {_ms(times, cpu)}; its original shortlisted {found}/{real}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=20, help="real illustrations among the generated images")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip", choices=("registry", "content"), help="run only the other part")
    args = parser.parse_args()
    import os

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, numpy {np.__version__}")
    if args.skip != "registry":
        bench_registry(args.hashes, args.lookups, args.seed)
    if args.skip != "content":
        bench_content(args.images, args.real, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
