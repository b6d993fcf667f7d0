"""The ownership gate as the use cases see it: every upload must be an image the uploader posted, must not be
anyone else's claimed or protected work, and must not say of itself (C2PA, XMP/IPTC, EXIF: verification/provenance.py)
that its maker forbids AI training or that someone else made it.

We keep no copy of what we refuse: an upload is stored only once it is accepted (a refusal's incident keeps the
work's registry entry and the reason, never the picture); `prune_orphans` removes blobs nothing points at, such as
the refused uploads that earlier versions stored before their verdict."""
from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.i18n import Text
from data.models import (Artwork, AuditEvent, Dispute, Generation, GenerationFingerprint, Maker, MakerImage,
                         SocialAccount, TrainingJob, User)
from verification.hashing import Fingerprint, fingerprint
from verification.imaging import ImageRejected, decode_cost, load_image, too_large
from verification.matching import Portfolio, PortfolioEntry, match
from verification.provenance import ProvenanceVerdict, identity_names, judge, read_provenance
from verification.registry import check_upload
from verification.storage import fingerprint_from_bytes, fingerprint_to_bytes

OVERRIDE_PREFIX = 16  # hex digits of a file's sha256 shown in a provenance refusal, for a moderator's override


@dataclass
class ImageCheck:
    filename: str
    ok: bool
    reason: str  # in English: kept with the maker's images, for moderators and logs
    blob: str = ""
    artwork_id: int | None = None
    someone_elses: bool = False  # matched another artist's claimed or protected work: an incident
    message: Text | None = None  # the same reason for the uploader, who reads it in their own language

    @property
    def line(self) -> Text:
        """"file: why", one line of a list shown to the uploader."""
        return Text("upload.line", filename=self.filename, reason=self.message or self.reason)


def image_reason(exc: ImageRejected) -> Text:
    return Text(exc.key, **exc.params)


def _decode(core: Core, data: bytes, *, candidate: bool) -> Fingerprint:
    image = load_image(data, max_pixels=core.settings.max_image_pixels, max_bytes=core.settings.max_upload_bytes,
                       max_side=core.settings.image_decode_max_side)  # hashing never needs more
    return fingerprint(image, candidate=candidate)


async def fingerprint_only(core: Core, data: bytes, *, candidate: bool = False) -> Fingerprint:
    """Check and hash an image off the event loop, storing nothing."""
    try:
        return await core.app.image_work.run(_decode, core, data, candidate=candidate,  # the process's bounded pool
                                             cost=decode_cost(data, max_side=core.settings.image_decode_max_side))
    except ImageRejected as exc:
        raise Refusal("image.rejected", reason=image_reason(exc)) from None


async def fingerprint_bytes(core: Core, data: bytes, *, candidate: bool = False) -> tuple[str, Fingerprint, str]:
    """Check, hash and store an image (for posts being claimed); returns (image blob, fingerprint, fingerprint
    blob)."""
    fp = await fingerprint_only(core, data, candidate=candidate)
    fp_blob = await core.app.blobs.aput(await asyncio.to_thread(fingerprint_to_bytes, fp))
    return await core.app.blobs.aput(data), fp, fp_blob


async def _registry_check(core: Core, actor: Actor, fp: Fingerprint, filename: str, purpose: str):
    """Another artist's claimed work, or anything on the No AI learning list, is refused (and recorded)."""
    return await asyncio.to_thread(check_upload, core.app.db, actor.user_id, fp, registry=core.registry,
                                   filename=filename, purpose=purpose)


@dataclass
class Identity:
    """Who the uploader is known as, for comparing with the creator a file names; and the files a moderator
    allowed them despite what the files say."""

    names: set[str] = field(default_factory=set)
    allowed: set[str] = field(default_factory=set)  # sha256 prefixes (OVERRIDE_PREFIX hex digits)


async def _identity(core: Core, user_id: int) -> Identity:
    def query(s: Session) -> Identity:
        user = s.get(User, user_id)
        handles = s.exec(select(SocialAccount.handle).where(SocialAccount.user_id == user_id,
                                                            SocialAccount.verified_at.is_not(None))).all()
        overrides = s.exec(select(AuditEvent).where(AuditEvent.action == "provenance.override",
                                                    AuditEvent.target_kind == "user",
                                                    AuditEvent.target_id == user_id)).all()
        return Identity(identity_names(handles, [user.display_name] if user else []),
                        {str(e.detail.get("sha256", ""))[:OVERRIDE_PREFIX] for e in overrides})
    return await core.db(query)


async def _provenance(data: bytes, identity: Identity, *, training: bool) -> tuple[ProvenanceVerdict, str]:
    """What the file says about itself, judged for this uploader (off the event loop: C2PA parsing is native
    work); and the file's sha256 prefix, which a moderator's override names."""
    sha = hashlib.sha256(data).hexdigest()[:OVERRIDE_PREFIX]
    verdict = await asyncio.to_thread(lambda: judge(read_provenance(data), identity.names, training=training))
    if not verdict.allowed and sha in identity.allowed:
        verdict = ProvenanceVerdict(True)
    return verdict, sha


def _provenance_text(verdict: ProvenanceVerdict, sha: str) -> Text:
    return Text(verdict.key, sha=sha, **verdict.params)


async def allow_file(core: Core, actor: Actor, user_id: int, sha256: str, *, note: str = "") -> str:
    """A moderator lets `user_id` use a file whose metadata refused it (an old pen name, a studio's credit),
    named by the sha256 prefix the refusal showed. Recorded in the audit log, which is where the check reads it."""
    actor.require_moderator()
    sha = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{%d,64}" % OVERRIDE_PREFIX, sha):
        raise Refusal("provenance.bad_file", length=OVERRIDE_PREFIX)

    def record(s: Session) -> None:
        if s.get(User, user_id) is None:
            raise Refusal("user.not_found")
        core.audit(s, actor, "provenance.override", "user", user_id, sha256=sha[:OVERRIDE_PREFIX], note=note[:500])
        s.commit()
    await core.db(record)
    return sha[:OVERRIDE_PREFIX]


async def _own_portfolio(core: Core, user_id: int) -> Portfolio:
    rows = await core.db(lambda s: list(s.exec(select(Artwork).where(Artwork.owner_id == user_id,
                                                                      Artwork.fingerprint_blob != ""))))

    def build() -> Portfolio:
        return Portfolio([PortfolioEntry(id=str(row.id),
                                         fingerprint=fingerprint_from_bytes(core.app.blobs.get(row.fingerprint_blob)),
                                         source_url=row.source_url, posted_at=row.posted_at) for row in rows])
    return await asyncio.to_thread(build)


async def check_uploads(core: Core, actor: Actor, uploads, *, from_posts: bool = False,
                        limit: int = 30) -> list[ImageCheck]:
    """One verdict per upload, then (with `from_posts`) per recent post not uploaded already, `limit` accepted at
    most; nothing here writes a maker. The same work twice is used once."""
    checks = await _check_files(core, actor, uploads) if uploads else []
    seen: set[int] = set()
    for check in checks:
        if check.ok and check.artwork_id in seen:
            check.ok, check.reason, check.message = False, "the same work is already among these images", Text(
                "match.duplicate")
        elif check.ok:
            seen.add(check.artwork_id)
    if from_posts:
        room = limit - len(seen)
        posts = [p for p in await _from_posts(core, actor, limit=limit) if p.artwork_id not in seen]
        checks += posts[:max(room, 0)]
    return checks


async def _check_files(core: Core, actor: Actor, uploads) -> list[ImageCheck]:
    portfolio = await _own_portfolio(core, actor.user_id)
    identity = await _identity(core, actor.user_id)
    checks: list[ImageCheck] = []
    for upload in uploads:
        with core.app.metrics.timed_verification() as seen:
            check = await _check_upload(core, actor, upload, portfolio, identity)
            seen["result"] = "accepted" if check.ok else "rejected"
        checks.append(check)
    return checks


async def _check_upload(core: Core, actor: Actor, upload, portfolio: Portfolio, identity: Identity) -> ImageCheck:
    """One upload's verdict: size, decodable image, what the file says about itself, the global registry, then
    the uploader's own posts. Only an accepted upload is stored."""
    if upload.problem is not None:  # the adapter could not even fetch it (too big, not an image, gone)
        return ImageCheck(upload.filename, False, str(upload.problem), message=upload.problem)
    if len(upload.data) > core.settings.max_upload_bytes:
        big = too_large(len(upload.data), core.settings.max_upload_bytes)
        return ImageCheck(upload.filename, False, big.reason, message=image_reason(big))
    try:
        fp = await fingerprint_only(core, upload.data, candidate=True)
    except Refusal as exc:
        why = exc.params.get("reason", Text(exc.key))
        return ImageCheck(upload.filename, False, str(why), message=why)
    said, sha = await _provenance(upload.data, identity, training=True)
    if not said.allowed:
        why = _provenance_text(said, sha)
        return ImageCheck(upload.filename, False, str(why), message=why)
    decision = await _registry_check(core, actor, fp, upload.filename, "maker upload")
    if not decision.allowed:
        return ImageCheck(upload.filename, False, decision.reason, someone_elses=decision.incident in ("someone_elses", "no_ai"),
                          message=Text(decision.key))
    verdict = await asyncio.to_thread(match, fp, portfolio) if len(portfolio) else None
    if verdict is None:
        return ImageCheck(upload.filename, False, "no posted images are indexed for your account yet",
                          message=Text("match.no_index"))
    why = Text(verdict.key, **verdict.params)
    if verdict.verdict != "match":
        return ImageCheck(upload.filename, False, verdict.reason, message=why)
    reason = verdict.reason
    if said.key:  # the file names the uploader as its creator: supporting evidence, shown with the verdict
        support = _provenance_text(said, sha)
        reason, why = f"{reason}; {said.reason}", Text("provenance.supported", reason=why, support=support)
    blob = await core.app.blobs.aput(upload.data)
    return ImageCheck(upload.filename, True, reason, blob=blob, artwork_id=int(verdict.matched), message=why)


async def _from_posts(core: Core, actor: Actor, limit: int = 10) -> list[ImageCheck]:
    rows = await core.db(lambda s: list(s.exec(
        select(Artwork).where(Artwork.owner_id == actor.user_id, Artwork.no_ai.is_(False), Artwork.blob != "")
        .order_by(Artwork.posted_at.desc(), Artwork.id.desc()).limit(limit))))
    return [ImageCheck(row.source_url or f"artwork {row.id}", True, f"posted in {row.source_url}", blob=row.blob,
                       artwork_id=row.id, message=Text("match.posted", post=row.source_url)) for row in rows]


async def check_remake_source(core: Core, actor: Actor, data: bytes) -> None:
    """A remake input may not be another artist's registered work nor anything on the No AI learning list, nor a
    file whose metadata forbids AI use or names another creator. Nothing is stored here."""
    fp = await fingerprint_only(core, data)
    said, sha = await _provenance(data, await _identity(core, actor.user_id), training=False)
    if not said.allowed:
        raise Refusal("remake.provenance", reason=_provenance_text(said, sha))
    decision = await _registry_check(core, actor, fp, "remake input", "remake")
    if not decision.allowed:
        raise Refusal("remake.protected" if decision.claim and decision.claim.no_ai else "remake.others_art")


# blobs nothing points at ----------------------------------------------------------------------------------------

def referenced_blobs(s: Session) -> set[str]:
    """Every blob a row names: artworks, maker images, LoRAs, samples, checkpoints, generations, their
    fingerprints, and both sides' evidence in disputes."""
    refs: set[str] = set()
    columns = [Artwork.blob, Artwork.fingerprint_blob, MakerImage.blob, Maker.lora_blob, Maker.sample_blob,
               TrainingJob.checkpoint_blob, Generation.source_blob, GenerationFingerprint.image_blob,
               GenerationFingerprint.fingerprint_blob, Dispute.holder_blob, Dispute.holder_fingerprint_blob,
               Dispute.claimant_blob, Dispute.claimant_fingerprint_blob]
    for column in columns:
        refs.update(s.exec(select(column).where(column != "").distinct()).all())
    for blobs in s.exec(select(Generation.image_blobs)).all():
        refs.update(blobs or ())
    return refs


async def discard_unreferenced(core: Core, digests) -> list[str]:
    """Delete these blobs unless a row names them (the same bytes may be another row's); returns those deleted."""
    digests = [d for d in dict.fromkeys(digests) if d]
    if not digests:
        return []
    refs = await core.db(referenced_blobs)
    gone = [d for d in digests if d not in refs]
    for digest in gone:
        await core.app.blobs.adelete(digest)
    return gone


@dataclass
class PruneResult:
    orphans: list[str]  # digests nothing points at
    deleted: bool
    kept: int  # blobs still referenced


async def prune_orphans(core: Core, *, delete: bool = False, min_age_s: float = 3600.0) -> PruneResult:
    """Blobs in the store that no row names (refused uploads kept by earlier versions, leftovers of crashes).
    Only blobs older than `min_age_s` count, so an upload between its store and its row is never taken."""
    listing = await asyncio.to_thread(lambda: list(core.app.blobs.listing(older_than_s=min_age_s)))
    refs = await core.db(referenced_blobs)
    orphans = sorted(d for d in listing if d not in refs)
    if delete:
        for digest in orphans:
            await core.app.blobs.adelete(digest)
    return PruneResult(orphans, delete, len(listing) - len(orphans))
