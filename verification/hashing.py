"""Perceptual fingerprints of one image: global hashes for speed, local features for crops.

- pHash (the imagehash algorithm, computed here so its 8 dihedral variants share one resize) survives re-encoding,
  resizing and colour shifts at 0-6 bits of 64. Stored as a signed int64, the way the database keeps it.
- PDQ (pdqhash) with its 8 dihedral variants catches flips and rotations by 90 degrees.
- Uniform borders are trimmed before the global hashes, so a frame added around a picture does not move them.
- ORB keypoints with descriptors are the crop-tolerant part: a face cut out of a posted picture shares hundreds of
  local features with it, and a similarity transform fitted by RANSAC proves they sit in the same geometry
  (see matching.py). Local features were chosen over tiled hashes because crops are not aligned to any grid.
- A small grey thumbnail lets the matcher compare actual pixels once a transform is found.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pdqhash
from PIL import Image
from scipy.fft import dctn

FINGERPRINT_VERSION = 4  # bump when any constant below changes what a fingerprint contains
GLOBAL_SIDE = 512  # global hashes are computed on this downscale: plenty for 64/256-bit hashes
PDQ_SIDE = 256
FEATURE_SIDE = 768  # the longer side of the image ORB runs on
FEATURE_MIN_SIDE = 448  # small uploads are upscaled to this so their keypoints survive ORB's pyramid
THUMB_SIDE = 192  # the grey thumbnail used to confirm a geometric match pixel by pixel
PORTFOLIO_FEATURES = 1000
CANDIDATE_FEATURES = 1000
BORDER_TOLERANCE = 30  # max channel difference from a border's colour, JPEG noise included
BORDER_UNIFORM_SHARE = 0.97


@dataclass(frozen=True, eq=False)
class Features:
    """ORB keypoint positions (in `size` coordinates) and their 256-bit descriptors."""

    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray  # (n, 32) uint8
    size: tuple[int, int]  # (width, height) of the image the features were taken from

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Everything the matcher needs about one image; computed once, compared many times."""

    width: int
    height: int
    phash: int  # signed int64 of the upright image, as stored in Artwork.phash
    phash_variants: tuple[int, ...]  # unsigned 64-bit pHash of the 8 dihedral transforms, [0] upright
    pdq: bytes  # 32 bytes, upright
    pdq_variants: tuple[bytes, ...]  # 8 dihedral transforms (pdqhash order), [0] upright, then the true mirror
    pdq_quality: int
    features: Features
    thumb: np.ndarray  # grey uint8, longer side THUMB_SIDE, of the untrimmed image
    mirror_features: Features | None = field(default=None)  # of the mirrored image, when computed eagerly
    feature_grey: np.ndarray | None = field(default=None, repr=False)  # candidates: to compute mirror_features late
    # global hashes of the whole, untrimmed image: border trimming can cut a re-encoded copy differently from its
    # original (a near-uniform edge is "uniform" on one side of the JPEG noise and not on the other), so the
    # registry compares both pairs; empty when nothing was trimmed (then they equal the trimmed ones)
    whole_phash_variants: tuple[int, ...] = ()
    whole_pdq_variants: tuple[bytes, ...] = ()

    @property
    def global_phashes(self) -> tuple[int, ...]:
        """Every unsigned pHash worth looking up: trimmed and whole-image, 8 dihedral variants each."""
        return self.phash_variants + self.whole_phash_variants

    @property
    def global_pdqs(self) -> tuple[bytes, ...]:
        return self.pdq_variants + self.whole_pdq_variants

    @property
    def whole_phash(self) -> int:
        """Signed int64 of the whole image's upright pHash (Artwork.phash_whole); the trimmed one if untrimmed."""
        return to_signed64(self.whole_phash_variants[0]) if self.whole_phash_variants else self.phash

    @property
    def whole_pdq_hex(self) -> str:
        return (self.whole_pdq_variants[0] if self.whole_pdq_variants else self.pdq).hex()

    def mirrored_features(self) -> Features | None:
        """ORB features of the mirrored image (flipped crops); computed on demand from a candidate's grey image,
        since most candidates are settled by their hashes and never need them."""
        if self.mirror_features is not None:
            return self.mirror_features
        if self.feature_grey is None:
            return None
        return orb_features(np.ascontiguousarray(self.feature_grey[:, ::-1]), len(self.features) or CANDIDATE_FEATURES)

    @property
    def pdq_hex(self) -> str:
        return self.pdq.hex()

    @property
    def phash_unsigned(self) -> int:
        return self.phash_variants[0]


def to_signed64(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def to_unsigned64(value: int) -> int:
    return value & 0xFFFFFFFFFFFFFFFF


def hamming64(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def hamming_bytes(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def _bits_to_int(bits: np.ndarray) -> int:
    return int("".join("1" if b else "0" for b in bits.ravel()), 2)


def _dihedral(arr: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations/reflections of a square array; [0] is the identity, [4] the left-right mirror."""
    rots = [np.rot90(arr, k) for k in range(4)]
    return rots + [np.fliplr(r) for r in rots]


def phash_dihedral(img: Image.Image) -> tuple[int, ...]:
    """imagehash.phash (hash_size 8, 32x32 DCT) of the 8 dihedral transforms of `img`, as unsigned ints."""
    small = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    out = []
    for arr in _dihedral(small):
        low = dctn(arr, type=2, norm=None)[:8, :8]  # same as imagehash: DCT-II on both axes
        out.append(_bits_to_int(low > np.median(low)))
    return tuple(out)


def pdq_dihedral(rgb: np.ndarray) -> tuple[tuple[bytes, ...], int]:
    hashes, qualities = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    packed = tuple(np.packbits(h.astype(np.uint8)).tobytes() for h in hashes)
    return packed, int(np.min(qualities))


def _uniform_run(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (axis 0 of an (n, m, 3) array) are one uniform colour, the colour of the first."""
    if limit <= 0 or not len(lines):
        return 0
    ref = np.median(lines[0], axis=0)
    close = (np.abs(lines[:limit].astype(np.int16) - ref.astype(np.int16)).max(axis=2) <= BORDER_TOLERANCE)
    uniform = close.mean(axis=1) >= BORDER_UNIFORM_SHARE
    return int(limit if uniform.all() else uniform.argmin())


def trim_borders(rgb: np.ndarray, max_passes: int = 3) -> np.ndarray:
    """Strip uniform frames (a border added around a picture, a letterbox) from all four sides.

    Repeated so a black frame around a white margin goes too. Each side may lose at most 20% of its axis, the
    same for all four, so a mirrored picture is trimmed exactly like the original."""
    h, w = rgb.shape[:2]
    cap_h, cap_w = int(h * 0.2), int(w * 0.2)
    top, bottom, left, right = 0, h, 0, w
    for _ in range(max_passes):
        before = (top, bottom, left, right)
        top += _uniform_run(rgb[top:bottom, left:right], cap_h - top)
        bottom -= _uniform_run(rgb[top:bottom, left:right][::-1], cap_h - (h - bottom))
        left += _uniform_run(rgb[top:bottom, left:right].transpose(1, 0, 2), cap_w - left)
        right -= _uniform_run(rgb[top:bottom, left:right].transpose(1, 0, 2)[::-1], cap_w - (w - right))
        if (top, bottom, left, right) == before:
            break
    return rgb[top:bottom, left:right]


def _orb(n: int):
    return cv2.ORB_create(nfeatures=n, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31, fastThreshold=12)


def orb_features(grey: np.ndarray, n_features: int) -> Features:
    h, w = grey.shape
    keypoints, descriptors = _orb(n_features).detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), (w, h))
    order = np.argsort([-kp.response for kp in keypoints], kind="stable")  # strongest first: votes use a prefix
    points = np.array([keypoints[i].pt for i in order], dtype=np.float32)
    return Features(points, descriptors[order], (w, h))


def feature_image(img: Image.Image) -> np.ndarray:
    """Grey image at the matcher's working scale: big images shrunk to about FEATURE_SIDE^2 pixels, small ones
    upscaled (at most 3x)."""
    w, h = img.size
    # as many pixels as a FEATURE_SIDE square (a tall page keeps a usable width), the longer side at most 2x that
    scale = min(FEATURE_SIDE / (w * h) ** 0.5, 2 * FEATURE_SIDE / max(w, h), 1.0)
    if max(w, h) * scale < FEATURE_MIN_SIDE:
        scale = min(FEATURE_MIN_SIDE / max(w, h), 3.0)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    grey = img.convert("L")
    if size != grey.size:
        grey = grey.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    return np.asarray(grey)


def thumbnail(img: Image.Image) -> np.ndarray:
    grey = img.convert("L")
    grey.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(grey).copy()


def fingerprint(img: Image.Image, *, candidate: bool = False) -> Fingerprint:
    """Fingerprint an RGB image (from imaging.load_image). `candidate=True` keeps what the matcher needs to check
    mirrored crops too (a candidate is matched against a portfolio; portfolio images need no mirror)."""
    small = img.copy()
    small.thumbnail((GLOBAL_SIDE, GLOBAL_SIDE), Image.Resampling.LANCZOS)
    whole = np.asarray(small.convert("RGB"))
    trimmed = trim_borders(whole)
    phashes, pdqs, quality = _global_hashes(trimmed)
    whole_phashes, whole_pdqs = (), ()
    if trimmed.shape != whole.shape:
        whole_phashes, whole_pdqs, _ = _global_hashes(whole)
    grey = feature_image(img)
    n = CANDIDATE_FEATURES if candidate else PORTFOLIO_FEATURES
    feats = orb_features(grey, n)
    return Fingerprint(width=img.width, height=img.height, phash=to_signed64(phashes[0]), phash_variants=phashes,
                       pdq=pdqs[0], pdq_variants=pdqs, pdq_quality=quality, features=feats, thumb=thumbnail(img),
                       feature_grey=grey if candidate else None, whole_phash_variants=whole_phashes,
                       whole_pdq_variants=whole_pdqs)


def _global_hashes(rgb: np.ndarray) -> tuple[tuple[int, ...], tuple[bytes, ...], int]:
    """pHash and PDQ dihedral variants of an RGB array (already downscaled to GLOBAL_SIDE)."""
    picture = Image.fromarray(rgb)
    phashes = phash_dihedral(picture)
    picture.thumbnail((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)  # PDQ itself works at 64x64
    pdq_input = np.asarray(picture)
    pdqs, quality = pdq_dihedral(pdq_input)
    # pdqhash's dihedral variants come from the DCT of the upright image and sit 16-60 bits away from the hash of
    # an actually mirrored picture; the mirror is the flip artists make, so it gets a real hash of its own
    mirrored, _ = pdqhash.compute(np.ascontiguousarray(pdq_input[:, ::-1]))
    return phashes, pdqs + (np.packbits(mirrored.astype(np.uint8)).tobytes(),), quality
