"""Does a candidate image appear in a portfolio of posted images? A staged, calibrated decision with a reason.

Stage 1 (microseconds per portfolio image): global hashes. The best pHash distance over the candidate's 8 dihedral
variants, confirmed by PDQ, catches re-encodes, resizes, flips, added borders and colour shifts.
Stage 2 (only when stage 1 finds nothing): local features. The candidate's ORB descriptors vote for the portfolio
images they resemble (exact search on small portfolios, LSH on large ones); the best few are verified by fitting a
similarity transform (scale, small rotation, shift) with RANSAC, and the region the transform points at is
compared pixel by pixel with the candidate. A same-style look-alike may share a few eye corners with a posted
picture, but not dozens of features in one geometry whose pixels then agree.

Thresholds are calibrated with bench/verify.py on procedural illustrations of five styles (figures next to each).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Sequence

import cv2
import numpy as np

from verification.hashing import Features, Fingerprint, hamming64

# --- calibrated thresholds ------------------------------------------------------------------------------------
# Figures from `python bench/verify.py` (200 posted pictures in 5 styles, 480 edited copies, 200 same-style
# look-alikes, some of them edited too). Distances to the true original, median / max:
#   JPEG 60-95: pHash 0 / 2, PDQ 2 / 24;  resize 0.3-1.0: pHash 0, PDQ 10;  colour shift: pHash 2, PDQ 10;
#   flip: pHash 0 / 2, PDQ 0 / 14;  border: pHash 3, PDQ 35;  text overlay: pHash 4, PDQ 26;
#   crops: pHash 22-24, PDQ 112-116.
#   Closest look-alike: pHash 6 (with PDQ 74); no look-alike within PDQ 74 of any portfolio image.
# So stage 1 accepts pHash <= 10 with PDQ <= 48 (a 26-bit PDQ margin to look-alikes); anything else goes on to
# stage 2, which also settles the edits whose hashes drift further (wide borders, big text, tiny resizes).
PHASH_MATCH = 10  # pHash distance (of 64) accepted when PDQ agrees
PDQ_CONFIRM = 48  # PDQ distance (of 256) that must accompany a pHash match
PHASH_ALONE = 2  # pHash distance accepted when PDQ is unreliable (flat images, PDQ quality < 50)
PDQ_MIN_QUALITY = 50
# Stage 2. Verified against the true original, own art has (minimum over 480 edits): detail correlation 0.69
# (heavy text overlay; 0.82 otherwise), 106 RANSAC inliers, inlier share 0.57 (small crops). The best look-alike
# verifications: correlation 0.64 with share 0.57 and 62 inliers; 0.71 with share 0.35 and 60 inliers; at most
# 0.54 among those with 80+ inliers and share >= 0.5. Repeated background patterns give look-alikes up to 167
# consistent inliers, so inliers alone prove nothing: the pixels of the aligned region must agree.
MIN_INLIERS = 40  # RANSAC inliers of the similarity transform
MIN_INLIER_SHARE = 0.5  # inliers / tentative matches
MIN_CORRELATION = 0.75  # detail correlation of the aligned region (see aligned_correlation) ...
MIN_CORRELATION_MANY_INLIERS = 0.65  # ... or this much when the transform has STRONG_INLIERS behind it
STRONG_INLIERS = 150
RATIO = 0.85  # Lowe's ratio test on the two nearest portfolio descriptors
MIN_TENTATIVE = 10
MAX_ROTATION_DEG = 10.0
SCALE_RANGE = (0.15, 5.0)  # candidate feature pixels -> portfolio feature pixels
DETAIL_MARGIN = 11  # pixels of the thumbnail ignored along cut edges
MIN_OVERLAP = 0.5  # share of the candidate that lands inside the portfolio image
RANSAC_REPROJ_PX = 8.0
SHORTLIST = 4  # portfolio images verified geometrically per candidate
VOTE_MAX_DISTANCE = 64  # descriptor distance (of 256) that counts as a vote
LSH_TABLES = 8
LSH_BUCKET_CAP = 96
VOTING_DESCRIPTORS = 1000  # all candidate keypoints vote: a text overlay can own the 500 strongest
MIN_VOTES = 12

VerdictKind = Literal["match", "no_match", "error"]


@dataclass(frozen=True)
class PortfolioEntry:
    """One posted image: `id` is what a verdict names (a path, an artwork id), `source_url` the post it is in."""

    id: str
    fingerprint: Fingerprint
    source_url: str = ""
    posted_at: datetime | None = None

    def describe(self) -> str:
        where = f"the image in {self.source_url}" if self.source_url else f"the portfolio image {self.id}"
        return where + (f" posted {self.posted_at:%Y-%m-%d}" if self.posted_at else "")


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictKind
    matched: str | None
    score: float  # 0..1; >= 0.5 exactly when the verdict is a match
    reason: str
    stage: str = ""  # "hash" or "geometry" for matches
    details: dict = field(default_factory=dict)
    key: str = ""  # `reason` as a message key with `params`, for people who read it in their own language
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "matched": self.matched, "score": round(float(self.score), 4),
                "reason": self.reason}


def error_verdict(reason: str) -> Verdict:
    return Verdict("error", None, 0.0, reason)


class Portfolio:
    """Fingerprints of the images an account has posted, with arrays laid out for vectorised comparison."""

    def __init__(self, entries: Sequence[PortfolioEntry]):
        self.entries = list(entries)
        n = len(self.entries)
        counts = [len(e.fingerprint.features) for e in self.entries]
        self._set_arrays(
            np.array([e.fingerprint.phash_variants[0] for e in self.entries], dtype=np.uint64).reshape(n),
            np.frombuffer(b"".join(e.fingerprint.pdq for e in self.entries), dtype=np.uint8).reshape(n, 32),
            np.array([e.fingerprint.pdq_quality for e in self.entries], dtype=np.int32).reshape(n),
            (np.concatenate([e.fingerprint.features.descriptors for e in self.entries])
             if sum(counts) else np.zeros((0, 32), np.uint8)), counts)

    @classmethod
    def shortlist_only(cls, phashes: np.ndarray, pdqs: np.ndarray, pdq_quality: np.ndarray, descriptors: np.ndarray,
                       counts: Sequence[int]) -> "Portfolio":
        """The arrays of a portfolio without the fingerprints behind them: enough for `global_evidence` and
        `descriptor_votes` / `shortlist_by_votes` over a large collection kept in memory (upright pHashes as
        uint64, (n, 32) uint8 PDQs, PDQ qualities, and each image's descriptors concatenated with their `counts`),
        not for `match`, which verifies whole fingerprints: give it a Portfolio of the shortlisted entries."""
        portfolio = cls.__new__(cls)
        portfolio.entries = []
        portfolio._set_arrays(phashes, pdqs, pdq_quality, descriptors, counts)
        return portfolio

    def _set_arrays(self, phashes: np.ndarray, pdqs: np.ndarray, pdq_quality: np.ndarray, descriptors: np.ndarray,
                    counts: Sequence[int]) -> None:
        self.phashes, self.pdqs, self.pdq_quality = phashes, pdqs, pdq_quality
        self.descriptor_owner = np.repeat(np.arange(len(phashes), dtype=np.int32), counts)
        self.descriptors = descriptors
        self._lsh = None

    def __len__(self) -> int:
        return len(self.phashes)

    def prepare(self) -> "Portfolio":
        """Build the descriptor index now rather than on the first crop check."""
        if self._lsh is None:
            self._lsh = DescriptorLSH(self.descriptors)
        return self

    def nearest_descriptors(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index and distance of each query descriptor's nearest portfolio descriptor found by LSH (-1, 256 if none)."""
        return self.prepare()._lsh.nearest(query)


class DescriptorLSH:
    """Locality-sensitive hashing of 256-bit ORB descriptors, in numpy.

    Each of LSH_TABLES tables keys a descriptor by two of its bytes (16 bits); a query looks at the descriptors that
    share a key in any table and keeps the nearest. Buckets holding more than LSH_BUCKET_CAP descriptors are the
    ORB equivalent of stop words (corners every drawing has) and are skipped, which bounds the cost of a query
    at tables x cap candidates per descriptor whatever the portfolio size. A true correspondence (about 20 of
    256 bits apart) shares a given 16-bit key with probability ~0.27, so one of 8 tables finds it ~92% of the time."""

    def __init__(self, descriptors: np.ndarray):
        self.descriptors = np.ascontiguousarray(descriptors)
        self.words = self.descriptors.view(np.uint64) if len(descriptors) else np.zeros((0, 4), np.uint64)
        self.tables = []
        for t in range(LSH_TABLES):
            keys = self._keys(self.descriptors, t)
            order = np.argsort(keys, kind="stable")
            offsets = np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=1 << 16)))).astype(np.int64)
            self.tables.append((order.astype(np.int32 if len(order) < 2**31 else np.int64), offsets))

    @staticmethod
    def _keys(desc: np.ndarray, table: int) -> np.ndarray:
        return (desc[:, 2 * table].astype(np.int64) << 8) | desc[:, 2 * table + 1].astype(np.int64)

    def nearest(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(query)
        best_idx = np.full(n, -1, dtype=np.int64)
        best_dist = np.full(n, 256, dtype=np.int64)
        if not n or not len(self.descriptors):
            return best_idx, best_dist
        qwords = np.ascontiguousarray(query).view(np.uint64)
        for t, (order, offsets) in enumerate(self.tables):
            keys = self._keys(query, t)
            lo, hi = offsets[keys], offsets[keys + 1]
            lengths = hi - lo
            lengths[lengths > LSH_BUCKET_CAP] = 0
            total = int(lengths.sum())
            if not total:
                continue
            ends = np.cumsum(lengths)
            qi = np.repeat(np.arange(n), lengths)
            pos = np.repeat(lo - ends + lengths, lengths) + np.arange(total)
            di = order[pos]
            counts = np.bitwise_count(np.take(self.words, di, axis=0) ^ np.take(qwords, qi, axis=0))
            dist = counts[:, 0].astype(np.int64) + counts[:, 1] + counts[:, 2] + counts[:, 3]
            # the nearest candidate per query in this table (candidates come grouped by query, so a minimum over
            # each run; ties go to the first), merged with the best so far
            asked = np.flatnonzero(lengths)
            nearest = np.minimum.reduceat((dist << 32) | np.arange(total, dtype=np.int64), (ends - lengths)[asked])
            d_best, i_best = nearest >> 32, di[nearest & 0xFFFFFFFF]
            better = d_best < best_dist[asked]
            best_dist[asked[better]] = d_best[better]
            best_idx[asked[better]] = i_best[better]
        return best_idx, best_dist


# --- stage 1 --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GlobalEvidence:
    index: int
    phash_distance: int
    pdq_distance: int
    reliable_pdq: bool

    @property
    def is_match(self) -> bool:
        if not self.reliable_pdq:
            return self.phash_distance <= PHASH_ALONE
        return self.phash_distance <= PHASH_MATCH and self.pdq_distance <= PDQ_CONFIRM


def global_evidence(candidate: Fingerprint, portfolio: Portfolio, limit: int = SHORTLIST) -> list[GlobalEvidence]:
    """Per portfolio image, the best pHash and PDQ distances over the candidate's dihedral variants, best first."""
    if not len(portfolio):
        return []
    variants = np.array(candidate.phash_variants, dtype=np.uint64)
    ph = np.bitwise_count(portfolio.phashes[:, None] ^ variants[None, :]).min(axis=1).astype(np.int64)
    cand_pdq = np.frombuffer(b"".join(candidate.pdq_variants), dtype=np.uint8).reshape(-1, 32).view(np.uint64)
    port_pdq = portfolio.pdqs.view(np.uint64)
    pdq = np.bitwise_count(port_pdq[:, None, :] ^ cand_pdq[None, :, :]).sum(axis=2).min(axis=1).astype(np.int64)
    reliable = (portfolio.pdq_quality >= PDQ_MIN_QUALITY) & (candidate.pdq_quality >= PDQ_MIN_QUALITY)
    order = np.lexsort((pdq, ph))[:limit]
    return [GlobalEvidence(int(i), int(ph[i]), int(pdq[i]), bool(reliable[i])) for i in order]


# --- stage 2 --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeometricEvidence:
    index: int
    inliers: int
    tentative: int
    scale: float
    rotation_deg: float
    correlation: float
    overlap: float
    mirrored: bool

    @property
    def is_match(self) -> bool:
        needed = MIN_CORRELATION_MANY_INLIERS if self.inliers >= STRONG_INLIERS else MIN_CORRELATION
        return (self.inliers >= MIN_INLIERS and self.inliers >= MIN_INLIER_SHARE * self.tentative
                and self.correlation >= needed and self.overlap >= MIN_OVERLAP)


def descriptor_votes(features: Features, portfolio: Portfolio) -> np.ndarray:
    """Per portfolio image, how many of the candidate's descriptors have their nearest neighbour in it."""
    if not len(features) or not len(portfolio.descriptors):
        return np.zeros(len(portfolio), dtype=np.int64)
    nearest, dist = portfolio.nearest_descriptors(features.descriptors[:VOTING_DESCRIPTORS])
    owners = portfolio.descriptor_owner[nearest[(dist <= VOTE_MAX_DISTANCE) & (nearest >= 0)]]
    return np.bincount(owners, minlength=len(portfolio))


def shortlist_by_votes(features: Features, portfolio: Portfolio, limit: int = SHORTLIST) -> list[int]:
    if not len(features) or not len(portfolio.descriptors):
        return []
    votes = descriptor_votes(features, portfolio)
    top = np.argsort(-votes, kind="stable")[:limit]
    floor = max(MIN_VOTES, votes[top[0]] // 3) if len(top) else MIN_VOTES
    return [int(i) for i in top if votes[i] >= floor]


def _similarity(matrix: np.ndarray) -> tuple[float, float]:
    a, b = matrix[0, 0], matrix[1, 0]
    return math.hypot(a, b), math.degrees(math.atan2(b, a))


def verify_geometry(candidate: Fingerprint, entry: Fingerprint, index: int, *, mirrored: bool,
                    features: Features | None = None) -> GeometricEvidence | None:
    cf = features if features is not None else candidate.features
    pf = entry.features
    if cf is None or len(cf) < MIN_TENTATIVE or len(pf) < 2:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(cf.descriptors, pf.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_TENTATIVE:
        return None
    src = cf.points[[m.queryIdx for m in good]]
    dst = pf.points[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_REPROJ_PX,
                                               maxIters=2000, confidence=0.995, refineIters=10)
    if matrix is None:
        return None
    inliers = int(mask.sum())
    scale, rotation = _similarity(matrix)
    if not (SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]) or abs(rotation) > MAX_ROTATION_DEG or inliers < MIN_INLIERS:
        return GeometricEvidence(index, inliers, len(good), scale, rotation, 0.0, 0.0, mirrored)
    correlation, overlap = aligned_correlation(candidate, entry, matrix, mirrored)
    return GeometricEvidence(index, inliers, len(good), scale, rotation, correlation, overlap, mirrored)


def aligned_correlation(candidate: Fingerprint, entry: Fingerprint, matrix: np.ndarray, mirrored: bool) -> tuple[float, float]:
    """Correlation of fine detail (difference of Gaussians) between the candidate's thumbnail and the portfolio
    region the transform maps it onto, and the share of the candidate that lands inside the portfolio image.

    Detail, not plain grey levels: look-alikes share layout and palette, so their blurred grey images correlate
    (up to 0.8 in the benchmark) while their line work does not (at most 0.51)."""
    cthumb = np.fliplr(candidate.thumb) if mirrored else candidate.thumb
    pthumb = entry.thumb
    cfeat = candidate.features.size
    pfeat = entry.features.size
    # candidate thumb -> candidate feature coords -> (matrix) -> portfolio feature coords -> portfolio thumb
    to_feat = np.diag([cfeat[0] / cthumb.shape[1], cfeat[1] / cthumb.shape[0], 1.0])
    to_thumb = np.diag([pthumb.shape[1] / pfeat[0], pthumb.shape[0] / pfeat[1], 1.0])
    full = (to_thumb @ np.vstack([matrix, [0, 0, 1]]) @ to_feat)[:2]
    size = (cthumb.shape[1], cthumb.shape[0])
    warped = cv2.warpAffine(pthumb, full, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.full_like(pthumb, 255), full, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    overlap = float((inside > 0).mean())
    valid = cv2.erode(inside, np.ones((DETAIL_MARGIN, DETAIL_MARGIN), np.uint8)) > 0  # away from cut edges
    if valid.sum() < 64:
        return 0.0, overlap
    a = _detail(cthumb)[valid]
    b = _detail(warped)[valid]
    a -= a.mean()
    b -= b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return (float((a * b).sum()) / denom if denom > 1e-6 else 0.0), overlap


def _detail(grey: np.ndarray) -> np.ndarray:
    img = grey.astype(np.float32)
    return cv2.GaussianBlur(img, (0, 0), 1.0) - cv2.GaussianBlur(img, (0, 0), 4.0)


def geometric_evidence(candidate: Fingerprint, portfolio: Portfolio, extra: Sequence[int] = ()) -> GeometricEvidence | None:
    best = None
    for mirrored in (False, True):
        feats = candidate.mirrored_features() if mirrored else candidate.features
        if feats is None:
            continue
        shortlist = list(dict.fromkeys([*shortlist_by_votes(feats, portfolio), *extra]))
        for index in shortlist:
            ev = verify_geometry(candidate, portfolio.entries[index].fingerprint, index, mirrored=mirrored,
                                 features=feats)
            if ev is None:
                continue
            if ev.is_match:
                return ev
            if best is None or (ev.inliers, ev.correlation) > (best.inliers, best.correlation):
                best = ev
    return best


# --- the decision ---------------------------------------------------------------------------------------------
def _hash_score(ev: GlobalEvidence) -> float:
    """0.5 at the acceptance edge, 1.0 for identical hashes; below 0.5 the further from acceptance."""
    return max(0.0, min(1.0, 1.0 - 0.5 * ev.phash_distance / (PHASH_MATCH + 1)))


def _geometry_score(ev: GeometricEvidence) -> float:
    inl = min(1.0, ev.inliers / (2 * MIN_INLIERS))
    corr = max(0.0, ev.correlation)
    s = 0.5 * min(inl / 0.5, corr / MIN_CORRELATION)
    return max(0.0, min(1.0, s if not ev.is_match else 0.5 + 0.5 * min(inl, corr)))


def match(candidate: Fingerprint, portfolio: Portfolio) -> Verdict:
    if not len(portfolio):
        return Verdict("no_match", None, 0.0, "the portfolio is empty: there is nothing to compare with",
                       key="match.empty_portfolio")
    hashes = global_evidence(candidate, portfolio)
    top = hashes[0]
    if top.is_match:
        entry = portfolio.entries[top.index]
        pdq = f", PDQ distance {top.pdq_distance}/256" if top.reliable_pdq else ""
        return Verdict("match", entry.id, max(0.5, _hash_score(top)),
                       f"matches {entry.describe()}; pHash distance {top.phash_distance}/64{pdq}", "hash",
                       {"phash_distance": top.phash_distance, "pdq_distance": top.pdq_distance},
                       "match.hash", {"post": entry.source_url or entry.id, "phash": top.phash_distance})
    geo = geometric_evidence(candidate, portfolio, extra=[h.index for h in hashes[:2]])
    if geo is not None and geo.is_match:
        entry = portfolio.entries[geo.index]
        part = "a mirrored part" if geo.mirrored else ("a part" if geo.scale < 0.95 else "a version")
        return Verdict("match", entry.id, _geometry_score(geo),
                       f"is {part} of {entry.describe()}; {geo.inliers} matching features in one geometry, "
                       f"pixel correlation {geo.correlation:.2f}", "geometry",
                       {"inliers": geo.inliers, "correlation": round(geo.correlation, 3), "scale": round(geo.scale, 3)},
                       "match.geometry", {"post": entry.source_url or entry.id, "inliers": geo.inliers,
                                          "correlation": f"{geo.correlation:.2f}"})
    score = _hash_score(top) * 0.98 if not top.is_match else 0.0
    if geo is not None:
        score = max(score, _geometry_score(geo))
    score = min(score, 0.49)
    return Verdict("no_match", None, score,
                   f"no posted image matches: the closest differs by {top.phash_distance}/64 pHash bits"
                   + (f" and shares only {geo.inliers} features in a consistent geometry" if geo else "")
                   + ".", "", {"phash_distance": top.phash_distance, "inliers": geo.inliers if geo else 0,
                               **({"correlation": round(geo.correlation, 3)} if geo else {})},
                   "match.none", {"phash": top.phash_distance})


__all__ = ["Portfolio", "PortfolioEntry", "Verdict", "match", "error_verdict", "hamming64"]
