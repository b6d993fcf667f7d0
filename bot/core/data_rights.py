"""A person's data rights: take everything stored about them with them (export), and leave (erase).

One use case each, shared by `mimic admin export|erase`, the web's "Export my data" / "Delete my account" and
whatever Discord adds later. Export is a zip: `data.json` (every row about the person: account, social accounts,
artworks and their hashes, makers with their training images and jobs, generations they asked for and those made
with their makers, reports, audit events) and `images/<sha256>.<ext>` for every image of theirs still stored.

Erase keeps only what moderation must keep, and says so (ERASE_KEEPS): the registry fingerprints of the person's
works with the public post proving each (so nobody else can claim or train on them), their makers as tombstones,
the fingerprints of generated images (so copies still trace), report and audit records without personal text, and a ban (the Discord id of a banned
person stays, else a ban would end with a new sign-in)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from sqlmodel import Session, or_, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from data.blobs import BlobError, BlobNotFound
from data.exports import build_export
from data.models import (Artwork, AuditEvent, Challenge, ExportJob, Generation, JobStatus, Maker, MakerImage,
                         MakerStatus, Report, SocialAccount, TrainingJob, User)
# free text and links in audit details that name or quote the person
PERSONAL_DETAIL = ("reason", "prompt", "note", "handle", "display_name", "message", "source_url", "filename")
ERASE_KEEPS = ("fingerprints", "tombstones", "trace", "records", "ban")  # message keys account.erase.keeps.*
LIVE = {MakerStatus.draft.value, MakerStatus.pending_review.value, MakerStatus.training.value,
        MakerStatus.ready.value, MakerStatus.failed.value}


def _may_act_for(actor: Actor, user_id: int) -> None:
    """The person themself, or a moderator/the operator: nobody else exports or erases someone."""
    if actor.user_id != user_id and not actor.is_moderator:
        raise Refusal("permission.moderator_only")


async def request_export(core: Core, actor: Actor, user_id: int) -> ExportJob:
    """Ask a worker to build the person's zip (engine/jobs.export_data): the web's "Export my data". One export in
    progress at a time (asking again answers the one under way); a new one replaces the last finished zip."""
    _may_act_for(actor, user_id)

    def create(s: Session) -> tuple[ExportJob, bool, list[str]]:
        if s.get(User, user_id) is None:
            raise Refusal("user.not_found")
        open_ = s.exec(select(ExportJob).where(ExportJob.user_id == user_id,
                                               ExportJob.status.in_(["queued", "running"]))).first()
        if open_ is not None:
            return open_, False, []
        old = list(s.exec(select(ExportJob).where(ExportJob.user_id == user_id)))
        stale = [job.blob for job in old if job.blob]
        for job in old:
            s.delete(job)
        job = ExportJob(user_id=user_id, created_at=core.clock())
        s.add(job)
        s.flush()
        core.audit(s, actor, "user.export", "user", user_id, export_id=job.id)
        s.commit()
        s.refresh(job)
        return job, True, stale
    job, new, stale = await core.db(create)
    for blob in stale:
        await core.app.blobs.adelete(blob)
    if new:
        await core.queue.enqueue_export(job.id)
    return job


async def latest_export(core: Core, actor: Actor) -> ExportJob | None:
    """The person's newest export, for its progress and its download."""
    return await core.db(lambda s: s.exec(select(ExportJob).where(ExportJob.user_id == actor.user_id)
                                          .order_by(ExportJob.id.desc())).first())


async def export_file(core: Core, actor: Actor, export_id: int) -> bytes:
    """The finished zip of one of the person's own exports (Refusal "export.not_yours" for anyone else's)."""
    job = await core.db(lambda s: s.get(ExportJob, export_id))
    if job is None:
        raise Refusal("export.not_found")
    if job.user_id != actor.user_id:
        raise Refusal("export.not_yours")
    if job.status != JobStatus.done.value or not job.blob:
        raise Refusal("export.not_ready")
    try:
        return await core.app.blobs.aget(job.blob)
    except (BlobNotFound, BlobError):
        raise Refusal("export.not_found") from None


async def export_user(core: Core, actor: Actor, user_id: int, *,
                      progress: Callable[[int, int], None] | None = None) -> bytes:
    """The person's data as one zip (bytes), built here (the command line); the web asks a worker instead
    (request_export). `progress(done, total)` follows the images as they are added."""
    _may_act_for(actor, user_id)
    try:
        data, images, missing = await asyncio.to_thread(build_export, core.app.db, core.app.blobs, user_id,
                                                        progress=progress)
    except LookupError:
        raise Refusal("user.not_found") from None

    def record(s: Session) -> None:
        core.audit(s, actor, "user.export", "user", user_id, images=len(images), missing=len(missing))
        s.commit()
    await core.db(record)
    return data


@dataclass
class Erased:
    user_id: int
    makers_revoked: list[str]
    blobs_deleted: int


def _scrub(detail: dict) -> dict:
    return {k: ("" if k in PERSONAL_DETAIL else v) for k, v in (detail or {}).items()}


async def erase_user(core: Core, actor: Actor, user_id: int) -> Erased:
    """Delete the person's account: every maker revoked (jobs stopped, LoRA deleted), training images, artwork
    copies, generated images of theirs and personal fields removed; what moderation must keep stays (module doc)."""
    from bot.core.makers import revoke_maker

    _may_act_for(actor, user_id)
    live = await core.db(lambda s: _live_makers(s, user_id))
    revoked = []
    as_owner = Actor(user_id=user_id) if actor.user_id == user_id else actor
    for name in live:
        try:
            await revoke_maker(core, as_owner, name)
        except Refusal as refusal:  # revoked meanwhile (another tab, a moderator): already off
            if refusal.key != "maker.already_revoked":
                raise
        revoked.append(name)

    def erase(s: Session) -> list[str]:
        user = s.get(User, user_id)
        if user is None:
            raise Refusal("user.not_found")
        blobs: list[str] = []
        makers = s.exec(select(Maker).where(Maker.owner_id == user_id)).all()
        for maker in makers:
            for image in s.exec(select(MakerImage).where(MakerImage.maker_id == maker.id)):
                blobs.append(image.blob)
                s.delete(image)
            for job in s.exec(select(TrainingJob).where(TrainingJob.maker_id == maker.id)):
                if job.checkpoint_blob:
                    blobs.append(job.checkpoint_blob)
                job.checkpoint_blob, job.error = "", ""
                s.add(job)
            blobs += [b for b in (maker.sample_blob, maker.lora_blob) if b]
            maker.sample_blob, maker.lora_blob = "", ""
            if maker.status in LIVE:  # revoked above; a maker in no live state keeps its own tombstone
                maker.status = MakerStatus.revoked.value
            s.add(maker)
            for gen in s.exec(select(Generation).where(Generation.maker_id == maker.id)):
                blobs += list(gen.image_blobs or ())
                gen.image_blobs = []
                s.add(gen)
        for gen in s.exec(select(Generation).where(Generation.requester_id == user_id)):
            blobs += list(gen.image_blobs or ()) + ([gen.source_blob] if gen.source_blob else [])
            gen.image_blobs, gen.source_blob, gen.prompt, gen.negative_prompt = [], "", "", ""
            gen.taken_down = True  # shown as a tombstone: the image was theirs
            s.add(gen)
        for artwork in s.exec(select(Artwork).where(Artwork.owner_id == user_id)):
            # the registry entry (hashes, date, fingerprint file, and the public post that proves whose work it is:
            # verification.registry counts a claim with a source_url as ownership) keeps protecting the work; the
            # stored copy goes
            if artwork.blob:
                blobs.append(artwork.blob)
            artwork.blob, artwork.media_url, artwork.social_account_id = "", "", None
            s.add(artwork)
        s.flush()
        for job in s.exec(select(ExportJob).where(ExportJob.user_id == user_id)):  # the zips hold everything
            if job.blob:
                blobs.append(job.blob)
            s.delete(job)
        for account in s.exec(select(SocialAccount).where(SocialAccount.user_id == user_id)):
            s.delete(account)
        for challenge in s.exec(select(Challenge).where(Challenge.user_id == user_id)):
            s.delete(challenge)
        for report in s.exec(select(Report).where(or_(Report.reporter_id == user_id,
                                                      (Report.target_kind == "user") & (Report.target_id == user_id)))):
            if report.reporter_id == user_id:
                report.reporter_id = None
            report.reason = ""
            s.add(report)
        for event in s.exec(select(AuditEvent).where(or_(AuditEvent.actor_id == user_id,
                                                         (AuditEvent.target_kind == "user")
                                                         & (AuditEvent.target_id == user_id)))):
            event.detail = _scrub(event.detail)
            s.add(event)
        user.display_name, user.banned_reason, user.locale = "", "", "en"
        if not user.banned:
            user.discord_id = None
        user.erased_at = core.clock()
        s.add(user)
        core.audit(s, actor, "user.erase", "user", user_id, makers_revoked=len(revoked), blobs=len(set(blobs)))
        s.commit()
        return list(dict.fromkeys(b for b in blobs if b))
    blobs = await core.db(erase)
    for digest in blobs:
        await core.app.blobs.adelete(digest)
    return Erased(user_id=user_id, makers_revoked=revoked, blobs_deleted=len(blobs))


def _live_makers(s: Session, user_id: int) -> list[str]:
    if s.get(User, user_id) is None:
        raise Refusal("user.not_found")
    return [m.name for m in s.exec(select(Maker).where(Maker.owner_id == user_id, Maker.status.in_(LIVE))
                                   .order_by(Maker.id))]
