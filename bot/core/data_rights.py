"""A person's data rights: take everything stored about them with them (export), and leave (erase).

One use case each, shared by `mimic admin export|erase`, the web's "Export my data" / "Delete my account" and
whatever Discord adds later. Export is a zip: `data.json` (every row about the person: account, social accounts,
artworks and their hashes, makers with their training images and jobs, generations they asked for and those made
with their makers, reports, audit events) and `images/<sha256>.<ext>` for every image of theirs still stored.

Erase keeps only what moderation must keep, and says so (ERASE_KEEPS): the registry fingerprints of the person's
works with the public post proving each (so nobody else can claim or train on them), their makers as tombstones, the fingerprints of generated images
(so copies still trace), report and audit records without personal text, and a ban (the Discord id of a banned
person stays, else a ban would end with a new sign-in)."""
from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlmodel import Session, SQLModel, or_, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from data.blobs import BlobError, BlobNotFound
from data.media import file_extension
from data.models import (Artwork, AuditEvent, Challenge, Generation, Maker, MakerImage, MakerStatus, Report,
                         SocialAccount, TrainingJob, User)

EXPORT_FORMAT = "mimic-export/1"
# free text and links in audit details that name or quote the person
PERSONAL_DETAIL = ("reason", "prompt", "note", "handle", "display_name", "message", "source_url", "filename")
ERASE_KEEPS = ("fingerprints", "tombstones", "trace", "records", "ban")  # message keys account.erase.keeps.*
LIVE = {MakerStatus.draft.value, MakerStatus.pending_review.value, MakerStatus.training.value,
        MakerStatus.ready.value, MakerStatus.failed.value}


def _may_act_for(actor: Actor, user_id: int) -> None:
    """The person themself, or a moderator/the operator: nobody else exports or erases someone."""
    if actor.user_id != user_id and not actor.is_moderator:
        raise Refusal("permission.moderator_only")


def _row(model: SQLModel, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {}
    for key, value in model.model_dump().items():
        if key in drop:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.hex()
        out[key] = value
    return out


@dataclass
class Export:
    document: dict
    images: dict[str, str]  # sha256 -> path inside the zip


def _collect(s: Session, user_id: int) -> tuple[dict, list[str]]:
    """The JSON document about one person, and the digests of their images."""
    user = s.get(User, user_id)
    if user is None:
        raise Refusal("user.not_found")
    blobs: list[str] = []
    accounts = s.exec(select(SocialAccount).where(SocialAccount.user_id == user_id)).all()
    artworks = s.exec(select(Artwork).where(Artwork.owner_id == user_id).order_by(Artwork.id)).all()
    blobs += [a.blob for a in artworks if a.blob]
    makers = []
    maker_rows = s.exec(select(Maker).where(Maker.owner_id == user_id).order_by(Maker.id)).all()
    for maker in maker_rows:
        images = s.exec(select(MakerImage).where(MakerImage.maker_id == maker.id).order_by(MakerImage.id)).all()
        jobs = s.exec(select(TrainingJob).where(TrainingJob.maker_id == maker.id).order_by(TrainingJob.id)).all()
        blobs += [i.blob for i in images if i.blob] + ([maker.sample_blob] if maker.sample_blob else [])
        makers.append({**_row(maker, drop=("lora_blob",)), "training_images": [_row(i) for i in images],
                       "training_jobs": [_row(j, drop=("checkpoint_blob",)) for j in jobs]})
    requested = s.exec(select(Generation).where(Generation.requester_id == user_id).order_by(Generation.id)).all()
    maker_ids = [m.id for m in maker_rows]
    with_mine = (s.exec(select(Generation).where(Generation.maker_id.in_(maker_ids)).order_by(Generation.id)).all()
                 if maker_ids else [])
    for gen in (*requested, *with_mine):
        blobs += list(gen.image_blobs or ())
    blobs += [g.source_blob for g in requested if g.source_blob]  # a remake's input: the person's upload
    about = [(Report.target_kind == "user") & (Report.target_id == user_id)]
    if maker_ids:
        about.append((Report.target_kind == "maker") & Report.target_id.in_(maker_ids))
    if with_mine:
        about.append((Report.target_kind == "generation") & Report.target_id.in_([g.id for g in with_mine]))
    if artworks:
        about.append((Report.target_kind == "artwork") & Report.target_id.in_([a.id for a in artworks]))
    filed = s.exec(select(Report).where(Report.reporter_id == user_id).order_by(Report.id)).all()
    about_me = s.exec(select(Report).where(or_(*about), Report.reporter_id.is_distinct_from(user_id))
                      .order_by(Report.id)).all()
    audit = s.exec(select(AuditEvent).where(or_(AuditEvent.actor_id == user_id,
                                                (AuditEvent.target_kind == "user") & (AuditEvent.target_id == user_id)))
                   .order_by(AuditEvent.id)).all()
    document = {
        "format": EXPORT_FORMAT,
        "user": _row(user),
        "social_accounts": [_row(a) for a in accounts],
        "artworks": [_row(a) for a in artworks],
        "makers": makers,
        "generations_requested": [_row(g) for g in requested],
        "generations_with_my_makers": [_row(g, drop=("source_blob",)) for g in with_mine],
        "reports_filed": [_row(r) for r in filed],
        "reports_about_me": [_row(r, drop=("reporter_id",)) for r in about_me],  # who reported is theirs to keep
        "audit_events": [_row(e) for e in audit],
    }
    return document, list(dict.fromkeys(blobs))


async def export_user(core: Core, actor: Actor, user_id: int, *,
                      progress: Callable[[int, int], None] | None = None) -> bytes:
    """The person's data as one zip (bytes). `progress(done, total)` follows the images as they are added."""
    _may_act_for(actor, user_id)
    document, digests = await core.db(lambda s: _collect(s, user_id))

    def build() -> tuple[bytes, dict[str, str], list[str]]:
        buffer, images, missing = io.BytesIO(), {}, []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for done, digest in enumerate(digests, 1):
                try:
                    data = core.app.blobs.get(digest)
                except (BlobNotFound, BlobError):
                    missing.append(digest)  # withdrawn or damaged: the document says so
                else:
                    name = f"images/{digest}.{file_extension(data, 'bin')}"
                    zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                                compress_type=zipfile.ZIP_STORED)
                    images[digest] = name
                if progress is not None:
                    progress(done, len(digests))
            doc = {**document, "images": images, "images_no_longer_stored": missing}
            zf.writestr("data.json", json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
        return buffer.getvalue(), images, missing
    data, images, missing = await asyncio.to_thread(build)

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
