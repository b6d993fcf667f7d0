"""A person's data, as one zip: `data.json` (every row about them) and `images/<sha256>.<ext>` for each of their
images still stored. Pure data work (rows and blobs), so that both the use case (bot/core/data_rights.py, for the
command line) and the worker's export job (engine/jobs.export_data, for the web, with progress) build the same zip."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any, Callable

from sqlmodel import Session, SQLModel, or_, select

from data.blobs import BlobError, BlobNotFound, BlobStore
from data.db import Database
from data.media import file_extension
from data.models import (Artwork, AuditEvent, Generation, Maker, MakerImage, Report, SocialAccount, TrainingJob,
                         User)

EXPORT_FORMAT = "mimic-export/1"


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


def collect(s: Session, user_id: int) -> tuple[dict, list[str]]:
    """The JSON document about one person, and the digests of their images."""
    user = s.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
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


def build_export(db: Database, blobs: BlobStore, user_id: int, *,
                 progress: Callable[[int, int], None] | None = None) -> tuple[bytes, dict[str, str], list[str]]:
    """(zip bytes, sha256 -> path in the zip, digests no longer stored). Blocking: run it in a thread.
    `progress(done, total)` follows the images; LookupError when there is no such person."""
    with db.session() as s:
        document, digests = collect(s, user_id)
    buffer, images, missing = io.BytesIO(), {}, []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if progress is not None:
            progress(0, len(digests))
        for done, digest in enumerate(digests, 1):
            try:
                data = blobs.get(digest)
            except (BlobNotFound, BlobError):
                missing.append(digest)  # withdrawn or damaged: the document says so
            else:
                name = f"images/{digest}.{file_extension(data, 'bin')}"
                zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_STORED)  # images are compressed already
                images[digest] = name
            if progress is not None:
                progress(done, len(digests))
        doc = {**document, "images": images, "images_no_longer_stored": missing}
        zf.writestr("data.json", json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    return buffer.getvalue(), images, missing
