"""The global registry: which verified artist posted an artwork earliest, and which works are "No AI learning".

Claims live in the `artwork` table; this module keeps an in-memory Hamming index of their pHashes so that a
look-up stays fast at millions of works, and confirms each hit with PDQ so that look-alikes don't collide.
The index catches up incrementally with rows other processes add (ids only grow); removals reload it.

Look-ups use all 8 dihedral pHashes (flips and quarter turns) within REGISTRY_PHASH_RADIUS (see bench/verify.py
for the time per look-up at 1M and 10M works). Crops of a registered work are not caught here (the registry holds global hashes only):
the uploader's own-portfolio match (matching.py) still has to pass, so a crop of someone else's work fails there
unless the uploader posted that crop themselves.

The ownership rule: **the earliest public post owns a work**, not the first account linked. Every claim keeps the
platform's post time. When a newly verified account shows a post of a claimed work, the two post times decide
(`post_order`): more than DISPUTE_TOLERANCE earlier and the work moves to the newcomer; more than that later and the
newcomer is refused as before; closer than that, or a time missing, and a `Dispute` opens for moderators, the
holder keeping the work (and nobody suspended) until one decides. Every meeting of two claims is a Dispute row with
both posts, so each can be contested. What a move does to the losing side's makers is the bot's business
(bot/core/disputes.py); this module only moves the claim.

Use cases: `claim_artworks` (earliest post wins; re-claiming your own work is harmless), `check_upload`
(refuses someone else's claimed work or any No-AI work, and records an incident for moderators), `add_no_ai`,
`assign` (give a disputed work to one side)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal, Sequence

import numpy as np
from sqlmodel import Session, select

from data.db import Database
from data.models import Artwork, AuditEvent, Dispute, DisputeStatus, Report, ReportStatus, utcnow
from verification.hashing import Fingerprint, hamming_bytes
from verification.index import HammingIndex
from verification.matching import PDQ_CONFIRM, PHASH_ALONE

LOAD_BATCH = 50_000
# pHash radius of a registry look-up: 8 (not matching.PHASH_MATCH = 10) keeps the index at radius 2 per 21-22-bit
# substring, 7x fewer buckets than radius 3; copies that drift 9-10 pHash bits rarely keep PDQ <= 48 anyway.
REGISTRY_PHASH_RADIUS = 8
# Ids are handed out at insert but transactions commit in any order (two artists verified at once on PostgreSQL):
# each refresh also looks this far below the newest id loaded for rows that appeared late.
LATE_WINDOW = 1_000
LOOKUP_VARIANTS = tuple(range(8))  # every rotation/reflection (hashing._dihedral order); (0, 4) = upright + mirror
# Two posts of one work closer in time than this are not told apart by their dates: a moderator decides. A day,
# because "the same day" differs by time zone and the platforms' clocks (and a Bluesky post's self-declared
# createdAt, which the provider bounds by the AppView's indexedAt) are not evidence at the minute; copies made by
# someone else appear days to years after the artist's post (the reported case: 2020 against November 2026).
DISPUTE_TOLERANCE = timedelta(hours=24)


@dataclass(frozen=True)
class Claim:
    artwork_id: int
    owner_id: int
    no_ai: bool
    source_url: str
    phash_distance: int
    pdq_distance: int | None
    posted_at: datetime | None = None  # the platform's time of the post that proved the claim

    @property
    def is_ownership(self) -> bool:
        """Seen in a verified post (file-only No-AI entries protect a work without proving who made it)."""
        return bool(self.source_url)


class Registry:
    """One per process (the Core holds it). Thread-safe: look-ups run in worker threads."""

    def __init__(self, db: Database):
        self.db = db
        self._lock = threading.Lock()
        self._index = HammingIndex()
        self._last_id = 0
        self._recent: set[int] = set()  # ids loaded within LATE_WINDOW of _last_id
        self._works = 0  # artworks indexed (some have two entries: trimmed and whole-image hash)

    def refresh(self) -> None:
        """Add artworks created since the last look-up (by any process), in one index update."""
        with self._lock:
            ids, hashes = [], []

            def take(rows) -> None:
                # the whole-image hash goes in as a second entry under the same id, where it differs
                ids.append(np.array([r[0] for r in rows] + [r[0] for r in rows if r[3] and r[2] != r[1]],
                                    dtype=np.int64))
                hashes.append(np.array([r[1] for r in rows] + [r[2] for r in rows if r[3] and r[2] != r[1]],
                                       dtype=np.int64))
                self._recent.update(int(r[0]) for r in rows)
                self._works += len(rows)

            columns = select(Artwork.id, Artwork.phash, Artwork.phash_whole, Artwork.pdq_whole)
            if self._last_id:
                with self.db.session() as s:  # rows that committed after a newer one was loaded
                    window = s.exec(select(Artwork.id).where(Artwork.id > self._last_id - LATE_WINDOW,
                                                             Artwork.id <= self._last_id)).all()
                    late = sorted(set(window) - self._recent)
                    if late:
                        take(s.exec(columns.where(Artwork.id.in_(late[:LOAD_BATCH]))).all())
            while True:
                with self.db.session() as s:
                    rows = s.exec(columns.where(Artwork.id > self._last_id).order_by(Artwork.id)
                                  .limit(LOAD_BATCH)).all()
                if not rows:
                    break
                take(rows)
                self._last_id = int(rows[-1][0])
            self._recent = {i for i in self._recent if i > self._last_id - LATE_WINDOW}
            if ids:
                new_ids, new_hashes = np.concatenate(ids), np.concatenate(hashes)
                if len(self._index) == 0:  # first load: build the buckets once rather than merging batches
                    self._index = HammingIndex(new_ids, new_hashes)
                else:
                    self._index.add(new_ids, new_hashes)

    def reload(self) -> None:
        """Start over (after artworks were deleted)."""
        with self._lock:
            self._index, self._last_id, self._recent, self._works = HammingIndex(), 0, set(), 0
        self.refresh()

    def find_claims(self, fp: Fingerprint) -> list[Claim]:
        """Registered works this image is a copy of (re-encoded, resized, flipped, rotated, bordered, recoloured)."""
        self.refresh()
        variants = [fp.phash_variants[k] for k in LOOKUP_VARIANTS]
        variants += [fp.whole_phash_variants[k] for k in LOOKUP_VARIANTS if fp.whole_phash_variants]
        best = dict(self._index.query_many(variants, REGISTRY_PHASH_RADIUS))
        if not best:
            return []
        with self.db.session() as s:
            rows = s.exec(select(Artwork).where(Artwork.id.in_(list(best)))).all()
        claims = []
        for row in rows:
            phash_d = best[row.id]
            stored = [bytes.fromhex(h) for h in (row.pdq, row.pdq_whole) if h]
            pdq_d = min(hamming_bytes(v, p) for v in fp.global_pdqs for p in stored) if stored else None
            # PDQ must agree whenever it is known: a false hit here blames an innocent uploader
            if (pdq_d <= PDQ_CONFIRM) if pdq_d is not None else (phash_d <= PHASH_ALONE):
                claims.append(Claim(row.id, row.owner_id, row.no_ai, row.source_url, phash_d, pdq_d,
                                    _aware(row.posted_at)))
        return sorted(claims, key=lambda c: (c.phash_distance, c.artwork_id))

    def __len__(self) -> int:
        return self._works


# --- use cases ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArtworkItem:
    """A fingerprinted image with where it was seen."""

    fingerprint: Fingerprint
    source_url: str = ""
    media_url: str = ""
    posted_at: datetime | None = None
    social_account_id: int | None = None
    blob: str = ""
    fingerprint_blob: str = ""


@dataclass
class ClaimResult:
    claimed: list[int] = field(default_factory=list)  # new artwork ids
    already_yours: list[int] = field(default_factory=list)  # existing artwork ids of the same owner
    conflicts: list[tuple[ArtworkItem, Claim]] = field(default_factory=list)  # someone else posted it earlier
    moved: list[int] = field(default_factory=list)  # Dispute ids: this owner posted it earlier, the work is theirs now
    disputed: list[int] = field(default_factory=list)  # Dispute ids: the dates can't tell, moderators decide


@dataclass(frozen=True)
class RegistryDecision:
    allowed: bool
    reason: str
    claim: Claim | None = None
    incident: Literal["none", "someone_elses", "no_ai", "disputed"] = "none"  # "disputed" records none
    report_id: int | None = None
    key: str = ""  # `reason` as a message key, for people who read it in their own language


def _new_artwork(owner_id: int, item: ArtworkItem, *, no_ai: bool) -> Artwork:
    fp = item.fingerprint
    return Artwork(owner_id=owner_id, social_account_id=item.social_account_id, source_url=item.source_url,
                   media_url=item.media_url, posted_at=item.posted_at, blob=item.blob,
                   fingerprint_blob=item.fingerprint_blob, phash=fp.phash, pdq=fp.pdq_hex,
                   phash_whole=fp.whole_phash, pdq_whole=fp.whole_pdq_hex, width=fp.width, height=fp.height,
                   no_ai=no_ai)


def _claimed_by_another(claims: Sequence[Claim], owner_id: int) -> Claim | None:
    """A claim proven by another artist's verified post (file-only No-AI entries prove no ownership)."""
    return next((c for c in claims if c.owner_id != owner_id and c.is_ownership), None)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def post_order(mine: datetime | None, theirs: datetime | None, *,
               tolerance: timedelta = DISPUTE_TOLERANCE) -> Literal["earlier", "later", "unclear"]:
    """Whether a post at `mine` came before one at `theirs`, by more than `tolerance`; unclear when a time is
    missing or they are closer than that."""
    mine, theirs = _aware(mine), _aware(theirs)
    if mine is None or theirs is None:
        return "unclear"
    if mine < theirs - tolerance:
        return "earlier"
    if mine > theirs + tolerance:
        return "later"
    return "unclear"


def _when(moment: datetime | None) -> str:
    return f"{_aware(moment):%Y-%m-%d %H:%M} UTC" if moment else "unknown date"


def _moderator_report(s: Session, dispute: Dispute) -> Report:
    """One report for moderators per move or dispute, with both posts' links and dates."""
    what = {DisputeStatus.moved.value: "ownership moved to the earlier poster",
            DisputeStatus.open.value: "ownership disputed (the dates cannot decide)"}.get(dispute.status,
                                                                                          "ownership contested")
    report = Report(reporter_id=None, target_kind="artwork", target_id=dispute.artwork_id, source="system",
                    reason=f"dispute {dispute.id}: {what}: user {dispute.claimant_id} posted "
                           f"{dispute.claimant_post_url or 'an image'} ({_when(dispute.claimant_posted_at)}); "
                           f"user {dispute.holder_id} posted {dispute.holder_post_url or 'an image'} "
                           f"({_when(dispute.holder_posted_at)})")
    s.add(report)
    return report


def assign(s: Session, dispute: Dispute, side: Literal["claimant", "holder"]) -> tuple[int, int] | None:
    """Make `side`'s post the proof of the disputed work: its owner, post, time and image. Returns (winner,
    loser) when the owner changed, None when that side already owned it. The caller commits. Open incidents filed
    against the winner over this work are dismissed: they were filed while the work was wrongly someone else's."""
    artwork = s.get(Artwork, dispute.artwork_id)
    owner = dispute.claimant_id if side == "claimant" else dispute.holder_id
    if artwork is None or artwork.owner_id == owner:
        return None
    loser = artwork.owner_id
    post = {name: getattr(dispute, f"{side}_{name}") for name in
            ("post_url", "posted_at", "media_url", "social_account_id", "blob", "fingerprint_blob")}
    artwork.owner_id, artwork.source_url, artwork.posted_at = owner, post["post_url"], post["posted_at"]
    artwork.media_url, artwork.social_account_id = post["media_url"], post["social_account_id"]
    artwork.blob, artwork.fingerprint_blob = post["blob"], post["fingerprint_blob"]
    s.add(artwork)
    incidents = s.exec(select(AuditEvent).where(AuditEvent.action == "ownership.incident",
                                                AuditEvent.actor_id == owner,
                                                AuditEvent.target_id == artwork.id)).all()
    for event in incidents:
        report = s.get(Report, event.detail.get("report_id") or 0)
        if report is not None and report.status == ReportStatus.open.value:
            report.status, report.resolved_at = ReportStatus.dismissed.value, utcnow()
            report.resolution = f"dispute {dispute.id}: the work is this user's (the earlier post)"
            s.add(report)
    s.add(AuditEvent(actor_id=dispute.decided_by, action="registry.transfer", target_kind="artwork",
                     target_id=artwork.id, detail={"dispute_id": dispute.id, "from": loser, "to": owner,
                                                   "post_url": post["post_url"]}))
    return owner, loser


def _meet(s: Session, owner_id: int, item: ArtworkItem, theirs: Claim) -> Dispute:
    """The Dispute row of this item against the current holder (one per claimant's post of a work)."""
    existing = s.exec(select(Dispute).where(Dispute.artwork_id == theirs.artwork_id,
                                            Dispute.claimant_id == owner_id,
                                            Dispute.claimant_media_url == item.media_url)).first()
    if existing is not None:
        return existing
    held = s.get(Artwork, theirs.artwork_id)
    order = post_order(item.posted_at, theirs.posted_at)
    status, origin = {"earlier": (DisputeStatus.moved, "earlier_post"), "later": (DisputeStatus.refused, "later_post"),
                      "unclear": (DisputeStatus.open, "unclear_dates")}[order]
    dispute = Dispute(artwork_id=held.id, holder_id=held.owner_id, claimant_id=owner_id, status=status.value,
                      origin=origin, holder_post_url=held.source_url, holder_posted_at=held.posted_at,
                      holder_media_url=held.media_url, holder_social_account_id=held.social_account_id,
                      holder_blob=held.blob, holder_fingerprint_blob=held.fingerprint_blob,
                      claimant_post_url=item.source_url, claimant_posted_at=item.posted_at,
                      claimant_media_url=item.media_url, claimant_social_account_id=item.social_account_id,
                      claimant_blob=item.blob, claimant_fingerprint_blob=item.fingerprint_blob,
                      decided_at=None if order == "unclear" else utcnow())
    s.add(dispute)
    s.flush()
    s.add(AuditEvent(actor_id=owner_id, action=f"registry.{origin}", target_kind="dispute", target_id=dispute.id,
                     detail={"artwork_id": held.id, "holder_id": held.owner_id,
                             "claimant_posted_at": _when(item.posted_at), "holder_posted_at": _when(held.posted_at)}))
    if order == "earlier":
        assign(s, dispute, "claimant")
    if order != "later":
        _moderator_report(s, dispute)
    return dispute


def claim_artworks(db: Database, owner_id: int, items: Sequence[ArtworkItem], *,
                   registry: Registry | None = None) -> ClaimResult:
    """Record verified posts as `owner_id`'s works. A work someone else posted earlier stays theirs (a conflict);
    one this owner posted earlier moves to them (`moved`); unclear dates open a dispute (`disputed`). A work this
    owner already has is not duplicated."""
    registry = registry or Registry(db)
    result = ClaimResult()
    for item in items:
        claims = registry.find_claims(item.fingerprint)
        theirs = _claimed_by_another(claims, owner_id)
        if theirs is not None:
            with db.session() as s:
                dispute = _meet(s, owner_id, item, theirs)
                s.commit()
                status, dispute_id = dispute.status, int(dispute.id)
            if status == DisputeStatus.moved.value:
                result.moved.append(dispute_id)
            elif status == DisputeStatus.open.value:
                result.disputed.append(dispute_id)
            else:
                result.conflicts.append((item, theirs))
            continue
        mine = next((c for c in claims if c.owner_id == owner_id and c.is_ownership), None)
        if mine is not None:
            result.already_yours.append(mine.artwork_id)
            continue
        with db.session() as s:
            row = _new_artwork(owner_id, item, no_ai=False)
            s.add(row)
            s.add(AuditEvent(actor_id=owner_id, action="registry.claim", target_kind="artwork",
                             detail={"source_url": item.source_url}))
            s.commit()
            result.claimed.append(int(row.id))
        registry.refresh()
    return result


def _record_incident(s: Session, uploader_id: int, claim: Claim, filename: str, purpose: str) -> Report:
    kind = "No AI learning work" if claim.no_ai and not claim.is_ownership else "work"
    report = Report(reporter_id=None, target_kind="user", target_id=uploader_id, source="system",
                    reason=f"{purpose}: '{filename or 'an image'}' matches {kind} {claim.artwork_id} of user "
                           f"{claim.owner_id}" + (" (No AI learning)" if claim.no_ai else "")
                           + f"; pHash distance {claim.phash_distance}/64")
    s.add(report)
    s.flush()
    s.add(AuditEvent(actor_id=uploader_id, action="ownership.incident", target_kind="artwork",
                     target_id=claim.artwork_id, detail={"purpose": purpose, "no_ai": claim.no_ai,
                                                         "report_id": report.id,
                                                         "owner_id": claim.owner_id,
                                                         "phash_distance": claim.phash_distance}))
    return report


def _in_open_dispute(db: Database, user_id: int, artwork_id: int) -> bool:
    """The uploader is a side of an open dispute over this work: refused until decided, but no incident."""
    with db.session() as s:
        return s.exec(select(Dispute.id).where(Dispute.artwork_id == artwork_id,
                                               Dispute.status == DisputeStatus.open.value,
                                               (Dispute.claimant_id == user_id) | (Dispute.holder_id == user_id))
                      ).first() is not None


def check_upload(db: Database, uploader_id: int, fp: Fingerprint, *, registry: Registry | None = None,
                 filename: str = "", purpose: str = "upload") -> RegistryDecision:
    """May `uploader_id` use this image (to train a maker, or as a remake input)?

    Refused when it matches another artist's claimed work (an incident is recorded: a system Report on the
    uploader plus an AuditEvent) or any work on the No AI learning list (the uploader's own included; an
    incident only when the work is someone else's)."""
    registry = registry or Registry(db)
    claims = registry.find_claims(fp)
    theirs = next((c for c in claims if c.owner_id != uploader_id and (c.is_ownership or c.no_ai)), None)
    own_no_ai = next((c for c in claims if c.owner_id == uploader_id and c.no_ai), None)
    if theirs is None and own_no_ai is None:
        return RegistryDecision(True, "no registered work of another artist matches this image", key="registry.clear")
    if theirs is None:
        return RegistryDecision(False, "you listed this work as No AI learning, so it cannot be used", own_no_ai,
                                key="registry.own_no_ai")
    if not theirs.no_ai and _in_open_dispute(db, uploader_id, theirs.artwork_id):
        return RegistryDecision(False, "this work is disputed: a moderator will decide whose it is", theirs,
                                "disputed", key="registry.disputed")
    with db.session() as s:
        report = _record_incident(s, uploader_id, theirs, filename, purpose)
        s.commit()
        report_id = int(report.id)
    if theirs.no_ai:
        return RegistryDecision(False, "this work is on the No AI learning list", theirs, "no_ai", report_id,
                                key="registry.no_ai")
    return RegistryDecision(False, "this work was posted by another artist", theirs, "someone_elses", report_id,
                            key="registry.someone_elses")


@dataclass
class NoAiResult:
    added: list[int] = field(default_factory=list)  # new file-only artworks
    marked: list[int] = field(default_factory=list)  # the owner's existing artworks now listed
    refused: list[tuple[ArtworkItem, Claim]] = field(default_factory=list)  # another artist's work


def add_no_ai(db: Database, owner_id: int, items: Sequence[ArtworkItem], *,
              registry: Registry | None = None) -> NoAiResult:
    """Put works on the No AI learning list: the owner's indexed posts are marked, new files are added.
    Another artist's claimed work is refused: it is theirs to protect."""
    registry = registry or Registry(db)
    result = NoAiResult()
    for item in items:
        claims = registry.find_claims(item.fingerprint)
        theirs = _claimed_by_another(claims, owner_id)
        if theirs is not None:
            result.refused.append((item, theirs))
            continue
        mine = [c for c in claims if c.owner_id == owner_id]
        with db.session() as s:
            if mine:
                for claim in mine:
                    row = s.get(Artwork, claim.artwork_id)
                    row.no_ai = True
                    s.add(row)
                    result.marked.append(claim.artwork_id)
            else:
                row = _new_artwork(owner_id, item, no_ai=True)
                s.add(row)
                s.flush()
                result.added.append(int(row.id))
            s.add(AuditEvent(actor_id=owner_id, action="registry.no_ai", target_kind="user", target_id=owner_id,
                             detail={"source_url": item.source_url}))
            s.commit()
        registry.refresh()
    return result
