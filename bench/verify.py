"""Benchmark of the ownership matcher on procedural illustrations (verification/synthetic.py).

Prints: own-art acceptance per transformation, false accepts over non-matching pairs (same-style look-alikes
included), the time for 30 uploads against a 3,200-image portfolio, and Hamming-index query times at 1M and 10M.

    python bench/verify.py            # full run (3.5 min on 2 idle cores; portfolio fingerprints cached in /tmp)
    python bench/verify.py --quick    # a short run (about 1 min)
"""
from __future__ import annotations

import argparse
import io
import os
import pickle
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verification.hashing import FINGERPRINT_VERSION, Fingerprint, fingerprint  # noqa: E402
from verification.imaging import load_image  # noqa: E402
from verification.matching import Portfolio, PortfolioEntry, global_evidence, match  # noqa: E402
from verification.synthetic import STYLE_NAMES, draw_illustration  # noqa: E402

TRANSFORMS = ("jpeg", "resize", "crop_25_40", "crop_40_90", "flip", "border", "text", "colour")
CACHE = Path(os.environ.get("MIMIC_BENCH_CACHE", "/tmp/mimic-bench-cache"))


# --- transformations ------------------------------------------------------------------------------------------
def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return load_image(buf.getvalue())


def transform(img: Image.Image, kind: str, rng: random.Random) -> Image.Image:
    w, h = img.size
    if kind == "jpeg":
        return jpeg(img, rng.randint(60, 95))
    if kind == "resize":
        f = rng.uniform(0.3, 1.0)
        return jpeg(img.resize((max(16, round(w * f)), max(16, round(h * f))), Image.Resampling.LANCZOS), 90)
    if kind.startswith("crop"):
        lo, hi = (0.25, 0.40) if kind == "crop_25_40" else (0.40, 0.90)
        area = rng.uniform(lo, hi)
        aspect = rng.uniform(0.7, 1.4)
        cw = min(w, round(w * (area * aspect) ** 0.5))
        ch = min(h, round(h * area / (cw / w)))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        out = img.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.5:  # artists often upscale or downscale the crop they cut out
            f = rng.uniform(0.6, 1.6)
            out = out.resize((max(16, round(cw * f)), max(16, round(ch * f))), Image.Resampling.LANCZOS)
        return jpeg(out, rng.randint(75, 95))
    if kind == "flip":
        return jpeg(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 90)
    if kind == "border":
        b = round(min(w, h) * rng.uniform(0.03, 0.12))
        colour = rng.choice([(255, 255, 255), (0, 0, 0), tuple(rng.randint(0, 255) for _ in range(3))])
        out = Image.new("RGB", (w + 2 * b, h + 2 * b), colour)
        out.paste(img, (b, b))
        return jpeg(out, 90)
    if kind == "text":
        out = img.copy()
        draw = ImageDraw.Draw(out)
        size = round(h * rng.uniform(0.04, 0.08))
        font = ImageFont.load_default(size=size)
        text = rng.choice(["@artist_handle", "© 2024 my art", "commission me!", "do not repost", "WIP"])
        x, y = rng.randint(0, w // 2), rng.choice([rng.randint(0, h // 6), rng.randint(h * 5 // 6 - size, h - size)])
        draw.text((x, y), text, fill=rng.choice([(255, 255, 255), (0, 0, 0), (255, 0, 80)]), font=font,
                  stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0))
        return jpeg(out, 90)
    if kind == "colour":
        arr = np.asarray(img, dtype=np.float32) / 255
        shift, sat, bright = rng.uniform(-0.08, 0.08), rng.uniform(0.7, 1.3), rng.uniform(0.85, 1.15)
        hsv = _rgb_to_hsv(arr)
        hsv[..., 0] = (hsv[..., 0] + shift) % 1.0
        hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0, 1)
        hsv[..., 2] = np.clip(hsv[..., 2] * bright, 0, 1)
        return jpeg(Image.fromarray((_hsv_to_rgb(hsv) * 255).astype(np.uint8)), 90)
    raise ValueError(kind)


def _rgb_to_hsv(arr: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray((arr * 255).astype(np.uint8)).convert("HSV"), dtype=np.float32) / 255


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray((hsv * 255).astype(np.uint8), "HSV").convert("RGB"), dtype=np.float32) / 255


# --- fingerprints (cached: drawing and hashing 3,200 pictures takes a few minutes) -------------------------------
def _style_seed(i: int) -> tuple[str, int]:
    return STYLE_NAMES[i % len(STYLE_NAMES)], i


def _portfolio_fp(i: int) -> Fingerprint:
    style, seed = _style_seed(i)
    return fingerprint(jpeg(draw_illustration(seed, style=style), 92))


def portfolio_fingerprints(n: int, workers: int = 2) -> list[Fingerprint]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"portfolio-{n}-v{FINGERPRINT_VERSION}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    with ProcessPoolExecutor(workers) as pool:
        fps = list(pool.map(_portfolio_fp, range(n), chunksize=16))
    path.write_bytes(pickle.dumps(fps))
    return fps


def _candidate_bytes(args: tuple[int, str, int]) -> bytes:
    """The upload as the artist would send it: the transformed picture, JPEG-encoded."""
    index, kind, seed = args
    style, s = _style_seed(index)
    img = jpeg(draw_illustration(s, style=style), 92)
    out = transform(img, kind, random.Random(seed)) if kind != "none" else img
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def _fingerprint_upload(data: bytes) -> Fingerprint:
    return fingerprint(load_image(data, max_side=2048), candidate=True)


def candidate_fingerprints(jobs: list[tuple[int, str, int]], workers: int = 2) -> list[tuple[int, str, Fingerprint]]:
    with ProcessPoolExecutor(workers) as pool:
        uploads = list(pool.map(_candidate_bytes, jobs, chunksize=8))
        fps = list(pool.map(_fingerprint_upload, uploads, chunksize=8))
    return [(index, kind, fp) for (index, kind, _), fp in zip(jobs, fps)]


# --- the figures ----------------------------------------------------------------------------------------------
def accuracy(n_own: int, n_lookalike: int, per_transform: int) -> None:
    """Own art is indices [0, n_own); look-alikes are [LOOKALIKE_BASE, ...): same styles, other seeds."""
    portfolio_fps = portfolio_fingerprints(n_own)
    portfolio = Portfolio([PortfolioEntry(str(i), fp) for i, fp in enumerate(portfolio_fps)])
    rng = random.Random(7)
    own_jobs = [(rng.randrange(n_own), kind, rng.randrange(1 << 30)) for kind in TRANSFORMS for _ in range(per_transform)]
    base = 1_000_000
    look_jobs = [(base + i, rng.choice(("none",) + TRANSFORMS), rng.randrange(1 << 30)) for i in range(n_lookalike)]
    t0 = time.perf_counter()
    own = candidate_fingerprints(own_jobs)
    looks = candidate_fingerprints(look_jobs)
    print(f"candidates fingerprinted in {time.perf_counter() - t0:.1f}s "
          f"({len(own)} own-art, {len(looks)} look-alikes)")
    accepted: dict[str, list[int]] = {k: [0, 0] for k in TRANSFORMS}
    false_accepts = 0
    wrong_entry = 0
    calib = {"own": [], "look": []}
    t0 = time.perf_counter()
    for index, kind, fp in own:
        v = match(fp, portfolio)
        accepted[kind][1] += 1
        if v.verdict == "match" and v.matched == str(index):
            accepted[kind][0] += 1
            if v.stage == "geometry":
                calib.setdefault("own_geo", []).append(v.details)
        elif v.verdict == "match":
            wrong_entry += 1
        else:
            calib["own"].append((kind, v.details))
    for index, kind, fp in looks:
        v = match(fp, portfolio)
        if v.verdict == "match":
            false_accepts += 1
            print(f"  FALSE ACCEPT: look-alike {index} ({kind}) -> {v.matched}: {v.reason}")
        calib["look"].append((kind, v.details))
    elapsed = time.perf_counter() - t0
    print(f"matching: {len(own) + len(looks)} candidates against {len(portfolio)} portfolio images in "
          f"{elapsed:.1f}s ({1000 * elapsed / (len(own) + len(looks)):.0f} ms each)")
    print("own-art acceptance per transformation:")
    for kind, (ok, total) in accepted.items():
        print(f"  {kind:<12} {ok:>4}/{total:<4} = {100 * ok / total:6.2f}%")
    pairs = len(looks) * len(portfolio) + len(own) * (len(portfolio) - 1)
    print(f"false accepts: {false_accepts} look-alike matches + {wrong_entry} own-art matched to the wrong image, "
          f"over {pairs:,} non-matching pairs ({len(looks)} look-alikes x {len(portfolio)} + "
          f"{len(own)} own-art x {len(portfolio) - 1} other images)")
    print_calibration(portfolio, own, looks, calib)


def print_calibration(portfolio: Portfolio, own, looks, calib) -> None:
    """The figures behind matching.py's thresholds."""
    own_ph, own_pdq, look_ph, look_pdq, look_both = {}, {}, [], [], []
    for index, kind, fp in own:
        ev = next(e for e in global_evidence(fp, portfolio, limit=len(portfolio)) if e.index == index)
        own_ph.setdefault(kind, []).append(ev.phash_distance)
        own_pdq.setdefault(kind, []).append(ev.pdq_distance)
    for _, _, fp in looks:
        evs = global_evidence(fp, portfolio, limit=len(portfolio))
        look_ph.append(min(e.phash_distance for e in evs))
        look_pdq.append(min(e.pdq_distance for e in evs))
        look_both.append(min(e.pdq_distance for e in evs if e.phash_distance <= 16) if any(
            e.phash_distance <= 16 for e in evs) else 256)
    print("calibration, stage 1 (pHash /64, PDQ /256 to the true original; median and max):")
    for kind in own_ph:
        print(f"  {kind:<12} pHash {int(np.median(own_ph[kind])):>2} max {max(own_ph[kind]):>2}   "
              f"PDQ {int(np.median(own_pdq[kind])):>3} max {max(own_pdq[kind]):>3}")
    print(f"  look-alikes: closest pHash min {min(look_ph)}, closest PDQ min {min(look_pdq)}, "
          f"PDQ min among pHash <= 16: {min(look_both)}")
    geo = [d for _, d in calib["look"] if "correlation" in d]
    if geo:
        print(f"calibration, stage 2: look-alikes' best verified candidate: most inliers "
              f"{max(d['inliers'] for d in geo)}, highest detail correlation {max(d['correlation'] for d in geo):.2f}")
    own_geo = calib.get("own_geo", [])
    if own_geo:
        print(f"calibration, stage 2: own art accepted by geometry ({len(own_geo)}): fewest inliers "
              f"{min(d['inliers'] for d in own_geo)}, lowest detail correlation "
              f"{min(d['correlation'] for d in own_geo):.2f}")
    print("own-art rejected: " + (", ".join(f"{k}:{d}" for k, d in calib["own"][:12]) or "none"))


def upload_timing(n_portfolio: int, n_uploads: int = 30) -> None:
    fps = portfolio_fingerprints(n_portfolio)
    t0 = time.perf_counter()
    portfolio = Portfolio([PortfolioEntry(str(i), fp) for i, fp in enumerate(fps)]).prepare()
    built = time.perf_counter() - t0
    rng = random.Random(11)
    kinds = ["jpeg", "resize", "flip", "border", "colour", "text", "crop_40_90", "crop_25_40", "none", "none"]
    jobs = [(rng.randrange(n_portfolio) if k != "none" else 2_000_000 + i, k, rng.randrange(1 << 30))
            for i, k in zip(range(n_uploads), kinds * n_uploads)]
    with ProcessPoolExecutor(2) as pool:
        uploads = list(pool.map(_candidate_bytes, jobs))
        list(pool.map(_fingerprint_upload, uploads[:2]))  # warm the workers' imports
        t0 = time.perf_counter()
        fps = list(pool.map(_fingerprint_upload, uploads))
        hashed = time.perf_counter() - t0
    cands = [(j[0], j[1], fp) for j, fp in zip(jobs, fps)]
    t0 = time.perf_counter()
    verdicts = [match(fp, portfolio) for _, _, fp in cands]
    matched = time.perf_counter() - t0
    ok = sum(v.verdict == "match" for v in verdicts)
    print(f"{n_uploads} uploads (a mix of edits, crops and unrelated look-alikes) against {n_portfolio} portfolio "
          f"images: hashing {hashed:.2f}s + matching {matched:.2f}s = {hashed + matched:.2f}s "
          f"(portfolio arrays and descriptor index built once in {built:.2f}s); {ok} matched")


def index_timing(sizes: list[int], queries: int = 2000) -> None:
    """HammingIndex radius queries over random 64-bit hashes: one hash at matching's radius, and a registry
    check (8 dihedral variants at the registry's radius, as Registry.find_claims asks)."""
    from verification.index import HammingIndex
    from verification.matching import PHASH_MATCH
    from verification.registry import REGISTRY_PHASH_RADIUS

    rng = np.random.default_rng(3)
    for n in sizes:
        hashes = rng.integers(0, 2 ** 64 - 1, n, dtype=np.uint64, endpoint=True)
        t0 = time.perf_counter()
        index = HammingIndex(np.arange(n, dtype=np.int64), hashes)
        built = time.perf_counter() - t0
        picks = hashes[rng.integers(0, n, queries)]
        noise = np.zeros(queries, dtype=np.uint64)
        for k in range(queries):  # each query is a copy of a stored hash with up to 8 bits changed
            for b in rng.choice(64, int(rng.integers(0, 9)), replace=False):
                noise[k] |= np.uint64(1) << np.uint64(int(b))
        qs = [int(v) for v in picks ^ noise]
        t0 = time.perf_counter()
        found = sum(bool(index.query(q, PHASH_MATCH)) for q in qs)
        per = (time.perf_counter() - t0) / queries
        t0 = time.perf_counter()
        found8 = 0
        for k in range(0, queries, 8):
            found8 += len(index.query_many(qs[k:k + 8], REGISTRY_PHASH_RADIUS))
        per8 = (time.perf_counter() - t0) / (queries // 8)
        print(f"index of {n:>10,} hashes: built in {built:.1f}s; {1000 * per:.2f} ms per radius-{PHASH_MATCH} query "
              f"({found}/{queries} found); {1000 * per8:.2f} ms per registry check (8 hashes at radius "
              f"{REGISTRY_PHASH_RADIUS}, one query_many; {found8} found)")
        del index, hashes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-index", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        accuracy(n_own=60, n_lookalike=60, per_transform=15)
    else:
        accuracy(n_own=200, n_lookalike=200, per_transform=60)
    if not args.skip_timing:
        upload_timing(400 if args.quick else 3200)
    if not args.skip_index:
        index_timing([100_000, 1_000_000] if args.quick else [1_000_000, 10_000_000])


if __name__ == "__main__":
    main()
