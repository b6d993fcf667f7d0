"""Makers: create (every image checked by the ownership gate), settings, list, review, revoke."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.core.ownership import ImageCheck, check_uploads
from bot.i18n import Text
from data.credit import public_credits
from data.models import (Generation, GuildSettings, JobStatus, Maker, MakerImage, MakerStatus, SocialAccount,
                         TrainingJob, UsageScope, User, Visibility)
from engine.queue import generation_job_id, training_job_id

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
MAX_IMAGES = 30  # the design asks artists for 15–30 of their works
MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices
LIVE = (MakerStatus.draft, MakerStatus.pending_review, MakerStatus.training, MakerStatus.ready, MakerStatus.failed)


@dataclass
class Upload:
    filename: str
    data: bytes
    problem: Text | None = None  # why the adapter could not fetch it (then `data` is empty): refused, others go on


@dataclass(frozen=True)
class MakerChoice:
    """A maker as a name picker offers it."""

    name: str
    credit: str  # the artist's public credit (data.credit)
    usage: str
    status: str


@dataclass
class MakerCreated:
    maker: Maker
    accepted: list[ImageCheck] = field(default_factory=list)
    rejected: list[ImageCheck] = field(default_factory=list)
    queue_position: int | None = None  # None while it waits for review


def _live(column):
    return column.in_([s.value for s in LIVE])


def maker_named(s: Session, name: str) -> Maker:
    """The maker called `name` (names are case-insensitive), or a polite refusal."""
    maker = s.exec(select(Maker).where(Maker.name == name.strip().lower())).first()
    if maker is None:
        raise Refusal("maker.not_found", name=name)
    return maker


def require_verified_artist(s: Session, actor: Actor) -> None:
    """Only a user who is not banned and has proven a social account may train or protect works."""
    user = s.get(User, actor.user_id)
    if user is None or user.banned:
        raise Refusal("user.banned")
    if not s.exec(select(SocialAccount).where(SocialAccount.user_id == actor.user_id,
                                              SocialAccount.verified_at.is_not(None))).first():
        raise Refusal("maker.not_verified")


async def can_create_maker(core: Core, actor: Actor, name: str) -> str:
    """Every refusal that needs no image, before anyone uploads 30 files: the normalised name, or a Refusal."""
    name = name.strip().lower()
    if not NAME_RE.match(name):
        raise Refusal("maker.bad_name")

    def preconditions(s: Session) -> None:
        require_verified_artist(s, actor)
        if s.exec(select(Maker).where(Maker.name == name)).first():
            raise Refusal("maker.name_taken", name=name)
        owned = s.exec(select(Maker).where(Maker.owner_id == actor.user_id, _live(Maker.status))).all()
        if len(owned) >= core.settings.free_makers_per_artist:
            raise Refusal("maker.quota", limit=core.settings.free_makers_per_artist)
    await core.db(preconditions)
    return name


async def create_maker(core: Core, actor: Actor, name: str, uploads: list[Upload], *,
                       from_posts: bool = False) -> MakerCreated:
    if not NAME_RE.match(name.strip().lower()):
        raise Refusal("maker.bad_name")
    if not uploads and not from_posts:
        raise Refusal("maker.no_images")
    if len(uploads) > MAX_IMAGES:
        raise Refusal("maker.too_many_images", limit=MAX_IMAGES)
    name = await can_create_maker(core, actor, name)

    checks = await check_uploads(core, actor, uploads, from_posts=from_posts, limit=MAX_IMAGES)
    accepted = [c for c in checks if c.ok]
    rejected = [c for c in checks if not c.ok]
    if any(c.someone_elses for c in checks):
        raise Refusal("maker.others_art", details=[c.line for c in rejected if c.someone_elses])
    if not accepted:
        raise Refusal("maker.nothing_accepted", details=[c.line for c in rejected])

    def create(s: Session) -> tuple[Maker, int | None]:
        guild = s.get(GuildSettings, actor.guild_id) if actor.guild_id else None
        review = guild.review_required if guild else False
        maker = Maker(owner_id=actor.user_id, name=name, base_model=core.settings.base_model,
                      trigger=f"mimic_{name.replace('-', '_')}", guild_id=actor.guild_id,
                      status=(MakerStatus.pending_review if review else MakerStatus.training).value)
        s.add(maker)
        s.flush()
        for c in accepted:
            s.add(MakerImage(maker_id=maker.id, artwork_id=c.artwork_id, blob=c.blob, verdict_reason=c.reason))
        job_id = None
        if not review:
            job = TrainingJob(maker_id=maker.id, steps=core.settings.train_steps)
            s.add(job)
            s.flush()
            job_id = job.id
        core.audit(s, actor, "maker.create", "maker", maker.id, images=len(accepted), rejected=len(rejected))
        s.commit()
        s.refresh(maker)
        return maker, job_id
    maker, job_id = await core.db(create)
    position = await core.queue.enqueue_training(job_id) if job_id else None
    return MakerCreated(maker=maker, accepted=accepted, rejected=rejected, queue_position=position)


async def find_maker(core: Core, name: str) -> Maker:
    return await core.db(lambda s: maker_named(s, name))


async def update_settings(core: Core, actor: Actor, name: str, *, usage: str | None = None,
                          visibility: str | None = None, daily_limit: int | None = None) -> Maker:
    if usage is not None and usage not in {u.value for u in UsageScope}:
        raise Refusal("maker.bad_usage")
    if visibility is not None and visibility not in {v.value for v in Visibility}:
        raise Refusal("maker.bad_visibility")
    if daily_limit is not None and not 0 <= daily_limit <= 1000:
        raise Refusal("maker.bad_limit")

    def update(s: Session) -> Maker:
        maker = maker_named(s, name)
        if maker.owner_id != actor.user_id:
            raise Refusal("maker.not_owner")
        if usage is not None:
            maker.usage = usage
        if visibility is not None:
            maker.visibility = visibility
        if daily_limit is not None:
            maker.daily_limit = daily_limit
        core.audit(s, actor, "maker.settings", "maker", maker.id, usage=maker.usage, visibility=maker.visibility,
                   daily_limit=maker.daily_limit)
        s.add(maker)
        s.commit()
        s.refresh(maker)
        return maker
    return await core.db(update)


async def list_makers(core: Core, *, owner_id: int | None = None, include_hidden: bool = False) -> list[Maker]:
    def query(s: Session) -> list[Maker]:
        q = select(Maker).order_by(Maker.created_at.desc())
        if owner_id is not None:
            q = q.where(Maker.owner_id == owner_id)
        if not include_hidden:
            q = q.where(Maker.visibility == Visibility.public.value)
        return list(s.exec(q).all())
    return await core.db(query)


async def usable_maker_choices(core: Core, actor: Actor, typed: str = "", *,
                               limit: int = MAX_CHOICES) -> list[MakerChoice]:
    """Ready makers this person may generate with and may find (request_generation's rules): their own, and other
    artists' public ones that allow use. Unlisted makers work by name but are not offered to others."""
    def query(s: Session) -> list[MakerChoice]:
        user = s.get(User, actor.user_id)
        if user is None or user.banned:
            return []
        others = (Maker.visibility == Visibility.public.value) & (Maker.usage != UsageScope.not_allowed.value)
        q = select(Maker).where(Maker.status == MakerStatus.ready.value, (Maker.owner_id == actor.user_id) | others)
        return _choices(s, q, typed, limit)
    return await core.db(query)


async def own_maker_choices(core: Core, actor: Actor, typed: str = "", *,
                            limit: int = MAX_CHOICES) -> list[MakerChoice]:
    """The artist's own makers that can still be changed or revoked (any state but revoked or taken down)."""
    def query(s: Session) -> list[MakerChoice]:
        q = select(Maker).where(Maker.owner_id == actor.user_id, _live(Maker.status))
        return _choices(s, q, typed, limit)
    return await core.db(query)


def _choices(s: Session, q, typed: str, limit: int) -> list[MakerChoice]:
    """Names containing what was typed, those starting with it first."""
    typed = typed.strip().lower()
    if typed:
        q = q.where(Maker.name.contains(typed, autoescape=True))
    makers = sorted(s.exec(q.order_by(Maker.name).limit(200)).all(),
                    key=lambda m: (not m.name.startswith(typed), m.name))[:limit]
    credits = public_credits(s, {m.owner_id for m in makers})
    return [MakerChoice(m.name, credits[m.owner_id].name, m.usage, m.status) for m in makers]


async def revoke_maker(core: Core, actor: Actor, name: str) -> Maker:
    """The artist's (or a moderator's) off switch: queued and running work stops, the LoRA is deleted."""
    def revoke(s: Session) -> tuple[Maker, list[str], str]:
        maker = maker_named(s, name)
        if maker.owner_id != actor.user_id and not actor.is_moderator:
            raise Refusal("maker.not_owner")
        if maker.status == MakerStatus.revoked.value:
            raise Refusal("maker.already_revoked", name=maker.name)
        prefix = core.settings.redis_prefix
        aborts = []
        for job in s.exec(select(TrainingJob).where(TrainingJob.maker_id == maker.id,
                                                    TrainingJob.status.in_(["queued", "running"]))):
            job.status = JobStatus.cancelled.value
            aborts.append(training_job_id(prefix, job.id))
            s.add(job)
        for gen in s.exec(select(Generation).where(Generation.maker_id == maker.id,
                                                   Generation.status.in_(["queued", "running"]))):
            gen.status, gen.error = JobStatus.cancelled.value, "the artist revoked this maker"
            aborts.append(generation_job_id(prefix, gen.id))
            s.add(gen)
        lora = maker.lora_blob
        maker.status, maker.revoked_at, maker.lora_blob = MakerStatus.revoked.value, core.clock(), ""
        core.audit(s, actor, "maker.revoke", "maker", maker.id, cancelled=len(aborts))
        s.add(maker)
        s.commit()
        s.refresh(maker)
        return maker, aborts, lora
    maker, aborts, lora = await core.db(revoke)
    for job_id in aborts:
        await core.queue.abort(job_id)
    if lora:
        await core.app.blobs.adelete(lora)
    return maker


async def review_queue(core: Core, actor: Actor) -> list[Maker]:
    actor.require_moderator()
    return await core.db(lambda s: list(s.exec(select(Maker).where(
        Maker.status == MakerStatus.pending_review.value).order_by(Maker.created_at)).all()))


@dataclass
class ReviewEntry:
    maker: Maker
    owner: User | None
    image_count: int


async def review_entries(core: Core, actor: Actor, *, limit: int = 20) -> list[ReviewEntry]:
    """The review queue as a moderator reads it: each maker with its artist and how many images it holds."""
    makers = (await review_queue(core, actor))[:limit]

    def query(s: Session) -> list[ReviewEntry]:
        counts = dict(s.exec(select(MakerImage.maker_id, func.count()).where(
            MakerImage.maker_id.in_([m.id for m in makers])).group_by(MakerImage.maker_id)).all())
        return [ReviewEntry(m, s.get(User, m.owner_id), counts.get(m.id, 0)) for m in makers]
    return await core.db(query)


async def approve_maker(core: Core, actor: Actor, name: str) -> tuple[Maker, int]:
    actor.require_moderator()

    def approve(s: Session) -> tuple[Maker, int]:
        maker = maker_named(s, name)
        if maker.status != MakerStatus.pending_review.value:
            raise Refusal("review.not_pending", name=maker.name)
        maker.status = MakerStatus.training.value
        job = TrainingJob(maker_id=maker.id, steps=core.settings.train_steps)
        s.add(maker), s.add(job)
        s.flush()
        core.audit(s, actor, "review.approve", "maker", maker.id)
        s.commit()
        s.refresh(maker)
        return maker, job.id
    maker, job_id = await core.db(approve)
    return maker, await core.queue.enqueue_training(job_id)


async def reject_maker(core: Core, actor: Actor, name: str, reason: str) -> Maker:
    actor.require_moderator()

    def reject(s: Session) -> Maker:
        maker = maker_named(s, name)
        if maker.status != MakerStatus.pending_review.value:
            raise Refusal("review.not_pending", name=maker.name)
        maker.status = MakerStatus.rejected.value
        core.audit(s, actor, "review.reject", "maker", maker.id, reason=reason[:500])
        s.add(maker)
        s.commit()
        s.refresh(maker)
        return maker
    return await core.db(reject)


async def training_images(core: Core, maker_id: int) -> list[MakerImage]:
    return await core.db(lambda s: list(s.exec(select(MakerImage).where(MakerImage.maker_id == maker_id)
                                                .order_by(MakerImage.id)).all()))
