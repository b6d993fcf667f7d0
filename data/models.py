"""SQLModel tables for the whole domain.

Ids are integers; times are timezone-aware UTC. Enumerations are stored as plain strings so that
SQLite and PostgreSQL see the same schema and a new value needs no migration of a database enum."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import JSON, BigInteger, Column, DateTime, LargeBinary, UniqueConstraint, delete, event, insert
from sqlalchemy.orm import Session as OrmSession, attributes
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(**kw) -> Column:
    return Column(DateTime(timezone=True), **kw)


class Platform(str, enum.Enum):
    x = "x"
    bluesky = "bluesky"
    mastodon = "mastodon"


class UsageScope(str, enum.Enum):
    not_allowed = "not_allowed"  # the artist's own use only: fans may not generate
    personal = "personal"
    commercial = "commercial"


class Visibility(str, enum.Enum):
    public = "public"
    unlisted = "unlisted"
    private = "private"


class MakerStatus(str, enum.Enum):
    draft = "draft"
    pending_review = "pending_review"
    training = "training"
    ready = "ready"
    failed = "failed"
    rejected = "rejected"
    revoked = "revoked"
    taken_down = "taken_down"
    suspended = "suspended"  # it trained on a work that turned out to be another artist's: stopped, LoRA quarantined


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class GenerationKind(str, enum.Enum):
    txt2img = "txt2img"
    remake = "remake"


class ReportStatus(str, enum.Enum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class User(SQLModel, table=True):
    """A person, known by their Discord id (or created by the CLI/web for offline use)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    discord_id: Optional[int] = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    display_name: str = ""
    locale: str = "en"
    banned: bool = False
    banned_reason: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    erased_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))  # account deleted (data rights)


class SocialAccount(SQLModel, table=True):
    """A social account proven to belong to a user. Keyed by the platform's stable id: handles change."""

    __table_args__ = (UniqueConstraint("platform", "account_id", name="uq_social_platform_account"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    platform: str = Field(index=True)
    account_id: str
    handle: str
    profile_url: str = ""
    verified_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    last_indexed_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class Challenge(SQLModel, table=True):
    """A one-time code the user puts in their bio or a public post to prove control of an account."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    platform: str
    handle: str
    code: str = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    used_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class Artwork(SQLModel, table=True):
    """An image known to belong to an artist: indexed from their posts or uploaded and matched to them."""

    id: Optional[int] = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    social_account_id: Optional[int] = Field(default=None, foreign_key="socialaccount.id")
    source_url: str = ""  # the post it was seen in
    media_url: str = ""
    posted_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    blob: str = ""  # sha256 in the blob store, when we keep a copy
    fingerprint_blob: str = ""  # the serialised full fingerprint (local features included), for re-matching
    phash: int = Field(default=0, sa_type=BigInteger, index=True)  # signed 64-bit
    pdq: str = ""  # 256-bit hex
    phash_whole: int = Field(default=0, sa_type=BigInteger)  # of the untrimmed image (see verification.hashing)
    pdq_whole: str = ""
    width: int = 0
    height: int = 0
    no_ai: bool = False  # listed as "No AI learning": nobody may train on it or remake it
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Maker(SQLModel, table=True):
    """An artist's personal style model."""

    __table_args__ = (UniqueConstraint("name", name="uq_maker_name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    name: str
    status: str = Field(default=MakerStatus.draft.value, index=True)
    usage: str = UsageScope.personal.value
    visibility: str = Visibility.public.value
    daily_limit: int = 0  # per fan per day; 0 means the server default
    base_model: str = ""
    trigger: str = ""
    lora_blob: str = ""
    sample_blob: str = Field(default="", index=True)  # indexed: the gallery finds a bare image link's maker
    guild_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    revoked_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    # while suspended: the state it had before (a moderator's "restore" returns it there) and when it stopped;
    # its LoRA stays in `lora_blob` but is never loaded nor served (quarantined) until a moderator decides
    suspended_from: str = ""
    suspended_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class MakerImage(SQLModel, table=True):
    """A training image of a maker (public, as the policy requires)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    maker_id: int = Field(foreign_key="maker.id", index=True)
    artwork_id: Optional[int] = Field(default=None, foreign_key="artwork.id")
    blob: str = Field(index=True)  # indexed: the gallery finds a bare image link's maker
    verdict_reason: str = ""


class TrainingJob(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    maker_id: int = Field(foreign_key="maker.id", index=True)
    status: str = Field(default=JobStatus.queued.value, index=True)
    steps: int = 0
    step: int = 0
    loss: Optional[float] = None
    checkpoint_blob: str = ""
    error: str = ""
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    started_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    finished_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class Generation(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="user.id", index=True)
    maker_id: int = Field(foreign_key="maker.id", index=True)
    kind: str = GenerationKind.txt2img.value
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = Field(default=0, sa_type=BigInteger)
    count: int = 1
    steps: int = 0
    guidance: float = 0.0
    source_blob: str = ""  # the input image of a remake
    status: str = Field(default=JobStatus.queued.value, index=True)
    image_blobs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trace_id: int = Field(default=0, sa_type=BigInteger, index=True)  # what the invisible watermark carries
    error: str = ""
    guild_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    channel_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    message_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    taken_down: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    finished_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    undeletable_until: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class GenerationImage(SQLModel, table=True):
    """Which generation an image blob belongs to: the gallery finds a bare `/img/<digest>` link's generation by
    this index instead of searching every generation's JSON list. Derived from `Generation.image_blobs` and kept
    in step with it on every flush (see `_index_generation_images`); it says where an image is, never whether it
    may be shown: the generation and its maker are still checked."""

    blob: str = Field(primary_key=True)
    generation_id: int = Field(foreign_key="generation.id", primary_key=True, index=True, ondelete="CASCADE")


@event.listens_for(OrmSession, "after_flush")
def _index_generation_images(session: OrmSession, _flush_context) -> None:
    """Rewrite the GenerationImage rows of every generation whose `image_blobs` was set in this flush: a finished
    job, a takedown or a withdrawal (which empty the list), test data. One place, so no writer can forget it."""
    changed = [gen for gen in (*session.new, *session.dirty) if isinstance(gen, Generation) and gen.id is not None
               and (gen in session.new or attributes.get_history(gen, "image_blobs",
                                                                 attributes.PASSIVE_NO_INITIALIZE).has_changes())]
    if not changed:
        return
    table, conn = GenerationImage.__table__, session.connection()
    existing = [gen.id for gen in changed if gen not in session.new]
    if existing:
        conn.execute(delete(table).where(table.c.generation_id.in_(existing)))
    rows = [{"blob": blob, "generation_id": gen.id}
            for gen in changed for blob in dict.fromkeys(gen.image_blobs or ())]
    if rows:
        conn.execute(insert(table), rows)


class GenerationFingerprint(SQLModel, table=True):
    """The content fingerprint of one generated image, so that a copy whose invisible mark and metadata are gone (a
    crop that cut the credit off, a heavy edit) is still traced to its generation (see bot/core/content_index.py).
    Written by the worker when it makes the image and kept when the image is taken down or deleted, so moderators
    can trace copies of what they removed. `id` only grows, never reused (AUTOINCREMENT on SQLite too): the
    in-process index catches up by it."""

    __table_args__ = {"sqlite_autoincrement": True}
    id: Optional[int] = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generation.id", index=True, ondelete="CASCADE")
    image_blob: str  # the published image (deleted from the blob store on a takedown; this row stays)
    fingerprint_blob: str  # the whole fingerprint (verification.storage) in the blob store: what a match verifies
    # the part the in-memory index holds, here so that it loads with one query: the upright pHash (signed 64-bit)
    # and PDQ (hex) and the strongest ORB descriptors (32 bytes each, strongest first)
    phash: int = Field(default=0, sa_type=BigInteger)
    pdq: str = ""
    pdq_quality: int = 0
    descriptors: bytes = Field(default=b"", sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Report(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    reporter_id: Optional[int] = Field(default=None, foreign_key="user.id")
    target_kind: str  # generation, maker, artwork, user
    target_id: int
    reason: str
    source: str = "discord"  # discord, web, cli, system
    status: str = Field(default=ReportStatus.open.value, index=True)
    resolution: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    resolved_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class DisputeStatus(str, enum.Enum):
    open = "open"  # waiting for a moderator; nobody is suspended meanwhile, the holder keeps the work
    moved = "moved"  # the work went to the claimant (an earlier post, or a moderator's decision)
    kept = "kept"  # the work stayed with the holder (a moderator's decision)
    refused = "refused"  # the claimant's post came later: the holder keeps it (the claimant may contest)


class Dispute(SQLModel, table=True):
    """Two verified accounts showed posts of the same work: who owns it, and the evidence of both sides.

    One row per meeting of two claims, whatever the outcome: an earlier post moving a work (status moved), a later
    one refused (refused), unclear dates (open until a moderator decides), a contest reopening any of them. Each
    side's post is kept here (link, platform time, image and fingerprint blobs), so a moderator sees both side by
    side and a decision can give the work to either."""

    id: Optional[int] = Field(default=None, primary_key=True)
    artwork_id: int = Field(foreign_key="artwork.id", index=True)
    holder_id: int = Field(foreign_key="user.id", index=True)  # the owner when the claims met
    claimant_id: int = Field(foreign_key="user.id", index=True)  # the newly verified account's person
    status: str = Field(default=DisputeStatus.open.value, index=True)
    origin: str = ""  # earlier_post | later_post | unclear_dates | contest
    holder_post_url: str = ""
    holder_posted_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    holder_media_url: str = ""
    holder_social_account_id: Optional[int] = None
    holder_blob: str = ""
    holder_fingerprint_blob: str = ""
    claimant_post_url: str = ""
    claimant_posted_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))
    claimant_media_url: str = ""
    claimant_social_account_id: Optional[int] = None
    claimant_blob: str = ""
    claimant_fingerprint_blob: str = ""
    note: str = ""  # the contest's words, then the moderator's
    decided_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    decided_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class GuildSettings(SQLModel, table=True):
    guild_id: int = Field(sa_type=BigInteger, primary_key=True)
    gallery_channel_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    review_required: bool = False  # opt-in: the ownership gate already checks every image
    publish_training_images: bool = True
    daily_generations_per_fan: int = 0  # 0: the global default
    moderator_role_id: Optional[int] = Field(default=None, sa_type=BigInteger)


class ExportJob(SQLModel, table=True):
    """A person's "Export my data", built by a worker (engine/jobs.export_data): its progress, then the zip in the
    blob store (deleted with the account; replaced by the next export)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(default=JobStatus.queued.value)
    done: int = 0  # images added so far
    total: int = 0
    blob: str = ""
    size: int = 0
    error: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    finished_at: Optional[datetime] = Field(default=None, sa_column=_ts(nullable=True))


class AuditEvent(SQLModel, table=True):
    """Who did what, for moderators and for tracing. Never holds secrets."""

    id: Optional[int] = Field(default=None, primary_key=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id")
    action: str = Field(index=True)
    target_kind: str = ""
    target_id: Optional[int] = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
