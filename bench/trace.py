"""Benchmark of tracing by content (bot/core/content_index.py): memory per generated image, load and look-up times,
hits on edited copies and false hits on pictures never made, at 1,000 and 10,000 generated images.

The generated images are procedural illustrations in five styles (verification/synthetic.py) at 512 px, recorded
the way the worker records them (a fingerprint taken under the credit). A copy is made from the published version
(visible credit and invisible mark drawn) and edited; for each edit it prints how often the mark and metadata alone
trace it (engine.trace) and how often the content look-up finds the right generation, a wrong one, or none.
Strangers are other pictures of the same five styles (look-alikes), whole and with a corner cut off.

    python bench/trace.py                       # 1,000 and 10,000 (first run: ~15 min on 2 cores to fingerprint
                                                # 10,000 images, cached in $MIMIC_BENCH_CACHE/trace-<N>)
    python bench/trace.py --sizes 1000 --queries 20 --strangers 50     # about a minute once cached
"""
from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import SQLModel, func, select  # noqa: E402

from bot.core import content_index  # noqa: E402
from bot.core.content_index import ContentIndex  # noqa: E402
from data.blobs import FolderBlobStore  # noqa: E402
from data.db import Database  # noqa: E402
from data.models import Generation, GenerationFingerprint, Maker, User  # noqa: E402
from engine import generation_fingerprints  # noqa: E402
from engine.generation_fingerprints import fingerprint_generated  # noqa: E402
from engine.trace import trace_image  # noqa: E402
from engine.watermark import watermark_image  # noqa: E402
from verification.hashing import FINGERPRINT_VERSION, fingerprint  # noqa: E402
from verification.storage import fingerprint_to_bytes  # noqa: E402
from verification.synthetic import STYLE_NAMES, draw_illustration  # noqa: E402

CACHE = Path(os.environ.get("MIMIC_BENCH_CACHE", "/tmp/mimic-bench-cache"))
SIDE = 512
TRACE_BASE = 1_000_000_000


def picture(i: int) -> Image.Image:
    """Generated image number i, as the pipeline returned it."""
    return draw_illustration(i, (SIDE, SIDE), STYLE_NAMES[i % len(STYLE_NAMES)])


def published(i: int) -> Image.Image:
    return watermark_image(picture(i), trace_id=TRACE_BASE + i, artist="@aoi_draws", maker="aoi")


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, fmt, quality=quality)
    return buffer.getvalue()


def _crop_each_side(img: Image.Image, share: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * share), round(h * share), round(w * (1 - share)), round(h * (1 - share))))


def _credit_cut(img: Image.Image) -> Image.Image:
    w, h = img.size
    return img.crop((6, 10, w - w // 7, h - h // 10))


EDITS = {
    "credit cut off, JPEG 75": lambda img: encode(_credit_cut(img), quality=75),
    "5% off each side, JPEG 90": lambda img: encode(_crop_each_side(img, 0.05), quality=90),
    "20% off each side, JPEG 50": lambda img: encode(_crop_each_side(img, 0.20), quality=50),
    "centre quarter (25% area), WebP 80": lambda img: encode(_crop_each_side(img, 0.25), "WEBP", 80),
    "credit cut off, mirrored": lambda img: encode(ImageOps.mirror(_credit_cut(img)), quality=85),
    "resized to 50%, JPEG 75": lambda img: encode(img.resize((img.width // 2, img.height // 2),
                                                             Image.Resampling.LANCZOS), quality=75),
    "brightness +20, JPEG 85": lambda img: encode(Image.eval(img, lambda v: min(255, v + 20)), quality=85),
}


# --- the recorded images (cached) ---------------------------------------------------------------------------------
def _fingerprint_row(i: int) -> tuple[int, bytes, int, str, int, bytes]:
    fp = fingerprint_generated(picture(i))
    descriptors = np.ascontiguousarray(fp.features.descriptors[:generation_fingerprints.INDEX_FEATURES]).tobytes()
    return i, fingerprint_to_bytes(fp), fp.phash, fp.pdq_hex, fp.pdq_quality, descriptors


def recorded(n: int, jobs: int) -> tuple[Database, FolderBlobStore, int]:
    """A database and blob store holding generated images 0..n-1 at least (one generation each, trace id
    TRACE_BASE + i), and how many it holds: one cache grows for every size."""
    folder = CACHE / f"trace-v{FINGERPRINT_VERSION}-f{generation_fingerprints.INDEX_FEATURES}"
    db, blobs = Database(f"sqlite:///{folder / 'mimic.db'}"), FolderBlobStore(folder / "blobs")
    SQLModel.metadata.create_all(db.engine)
    with db.session() as s:
        if s.exec(select(Maker)).first() is None:
            artist = User(display_name="aoi")
            s.add(artist)
            s.flush()
            s.add(Maker(owner_id=artist.id, name="aoi", status="ready"))
            s.commit()
        maker = s.exec(select(Maker)).first()
        done = s.exec(select(func.count()).select_from(GenerationFingerprint)).one()
    if done >= n:
        return db, blobs, done
    print(f"fingerprinting generated images {done}..{n - 1} into {folder} ({jobs} processes) ...", flush=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        batch = []
        for k, row in enumerate(pool.map(_fingerprint_row, range(done, n), chunksize=16), start=1):
            batch.append(row)
            if len(batch) == 250 or done + k == n:
                _write(db, blobs, maker, batch)
                batch = []
                rate = k / (time.perf_counter() - started)
                print(f"  {done + k}/{n} ({rate:.1f} images/s)", flush=True)
    return db, blobs, n


def _write(db: Database, blobs: FolderBlobStore, maker: Maker, rows) -> None:
    with db.session() as s:
        gens = [Generation(requester_id=maker.owner_id, maker_id=maker.id, prompt="p", status="done",
                           trace_id=TRACE_BASE + i) for i, *_ in rows]
        s.add_all(gens)
        s.flush()
        for gen, (i, fp_bytes, phash, pdq, quality, descriptors) in zip(gens, rows):
            s.add(GenerationFingerprint(generation_id=gen.id, image_blob=f"bench-{i}",
                                        fingerprint_blob=blobs.put(fp_bytes), phash=phash, pdq=pdq,
                                        pdq_quality=quality, descriptors=descriptors))
        s.commit()


# --- measuring ----------------------------------------------------------------------------------------------------
def index_bytes(index: ContentIndex) -> int:
    """The arrays the index holds (hashes, descriptors, owners, ids, each segment's LSH tables)."""
    total = 0
    for seg in index._segments():
        p = seg.portfolio
        total += seg.ids.nbytes + p.phashes.nbytes + p.pdqs.nbytes + p.pdq_quality.nbytes
        total += p.descriptors.nbytes + p.descriptor_owner.nbytes
        total += sum(order.nbytes + offsets.nbytes for order, offsets in p._lsh.tables)
    return total


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(n: int, args) -> None:
    db, blobs, total = recorded(n, args.jobs)
    print(f"\n=== {n:,} generated images "
          f"(segments of {content_index.SEGMENT_IMAGES}, {generation_fingerprints.INDEX_FEATURES} descriptors each) ===")
    started = time.perf_counter()
    index = ContentIndex(db, blobs, max_images=n)  # the newest n: images total-n .. total-1
    index.refresh()
    index._segments()  # the newest segment too, as the first look-up would build it
    load_s = time.perf_counter() - started
    del index
    gc.collect()
    tracemalloc.start()
    index = ContentIndex(db, blobs, max_images=n)
    index.refresh()
    index._segments()
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(index) == n, len(index)
    arrays = index_bytes(index)
    print(f"load from the database, LSH built: {load_s:.2f} s (what each `mimic trace` of a copy without an id pays)")
    print(f"memory: {arrays / n / 1024:.1f} KiB per image in arrays, {held / n / 1024:.1f} KiB per image held "
          f"(tracemalloc; {held / 2**20:.0f} MiB in all, peak while loading {peak / 2**20:.0f} MiB)")

    queried = [int(i) for i in np.linspace(total - n, total - 1, args.queries)]
    results = {name: {"mark": 0, "right": 0, "wrong": 0, "none": 0, "ms": [], "fp_ms": []} for name in EDITS}
    for i in queried:
        original = published(i)
        for name, edit in EDITS.items():
            data = edit(original)
            r = results[name]
            r["mark"] += trace_image(data).trace_id == TRACE_BASE + i
            copy = Image.open(io.BytesIO(data)).convert("RGB")
            t0 = time.perf_counter()
            candidate = fingerprint(copy, candidate=True)
            t1 = time.perf_counter()
            found = index.lookup_fingerprint(candidate)
            t2 = time.perf_counter()
            r["fp_ms"].append((t1 - t0) * 1000)
            r["ms"].append((t2 - t0) * 1000)
            if found is None:
                r["none"] += 1
            elif found.trace_id == TRACE_BASE + i:
                r["right"] += 1
            else:
                r["wrong"] += 1
    print(f"\n{len(queried)} generated images, each copy edited; traced by the mark/metadata alone vs by content:")
    print(f"  {'edit':38} {'mark':>6} {'content':>8} {'wrong':>6} {'none':>5} {'ms p50':>7} {'ms p95':>7}")
    for name, r in results.items():
        q = len(queried)
        print(f"  {name:38} {r['mark']:>3}/{q:<2} {r['right']:>5}/{q:<2} {r['wrong']:>6} {r['none']:>5} "
              f"{pct(r['ms'], 50):>7.0f} {pct(r['ms'], 95):>7.0f}")
    all_ms = [ms for r in results.values() for ms in r["ms"]]
    fp_ms = [ms for r in results.values() for ms in r["fp_ms"]]
    print(f"  look-up time per copy: median {statistics.median(all_ms):.0f} ms, p95 {pct(all_ms, 95):.0f} ms "
          f"(of which fingerprinting the copy: median {statistics.median(fp_ms):.0f} ms)")

    false_hits, stranger_ms = 0, []
    for k in range(args.strangers):
        img = draw_illustration(50_000_000 + k, (SIDE, SIDE), STYLE_NAMES[k % len(STYLE_NAMES)])
        for data in (encode(img, quality=75), encode(_credit_cut(img), quality=75)):
            t0 = time.perf_counter()
            found = index.lookup(Image.open(io.BytesIO(data)).convert("RGB"))
            stranger_ms.append((time.perf_counter() - t0) * 1000)
            false_hits += found is not None
    print(f"\nstrangers (same-style pictures never generated, whole and corner-cut): {false_hits} false hits in "
          f"{2 * args.strangers}; look-up median {statistics.median(stranger_ms):.0f} ms, "
          f"p95 {pct(stranger_ms, 95):.0f} ms")

    # incremental: a worker records one more image; the next look-up catches up (the newest segment is rebuilt)
    extra = n + 7_777_777
    _write(db, blobs, db_maker(db), [_fingerprint_row(extra)])
    t0 = time.perf_counter()
    found = index.lookup(Image.open(io.BytesIO(EDITS["credit cut off, JPEG 75"](published(extra)))).convert("RGB"))
    catch_up = time.perf_counter() - t0
    print(f"a new image recorded, then a copy of it looked up: {catch_up * 1000:.0f} ms, "
          f"{'found' if found and found.trace_id == TRACE_BASE + extra else 'NOT found'}")
    _forget(db, blobs, TRACE_BASE + extra)


def db_maker(db: Database) -> Maker:
    with db.session() as s:
        return s.exec(select(Maker)).first()


def _forget(db: Database, blobs: FolderBlobStore, trace_id: int) -> None:
    with db.session() as s:
        gen = s.exec(select(Generation).where(Generation.trace_id == trace_id)).first()
    generation_fingerprints.forget_fingerprints(db, blobs, gen.id)
    with db.session() as s:
        s.delete(s.get(Generation, gen.id))
        s.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="generated images in the index, comma-separated")
    parser.add_argument("--queries", type=int, default=40, help="generated images whose copies are looked up")
    parser.add_argument("--strangers", type=int, default=100, help="pictures never generated, looked up")
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                        help="processes that fingerprint the generated images (once; cached)")
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        run(n, args)


if __name__ == "__main__":
    main()
