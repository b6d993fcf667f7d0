"""Reports, takedowns, bans and server settings."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal, is_row_id
from bot.core.gallery import shown_to_public
from data.models import (Artwork, Generation, GuildSettings, JobStatus, Maker, MakerStatus, Report, ReportStatus,
                         User)
from engine.queue import generation_job_id

TARGETS = {"generation": Generation, "maker": Maker, "artwork": Artwork, "user": User}
MAX_REASON = 1000


async def file_report(core: Core, actor: Actor | None, target_kind: str, target_id: int, reason: str, *,
                      source: str = "discord") -> Report:
    reason = reason.strip()
    if target_kind not in TARGETS:
        raise Refusal("report.bad_target")
    if not reason:
        raise Refusal("report.no_reason")

    def create(s: Session) -> Report:
        if not is_row_id(target_id) or not _visible_to(s, actor, s.get(TARGETS[target_kind], target_id)):
            raise Refusal("report.target_missing")  # one answer for "none" and "not yours to see"
        report = Report(reporter_id=actor.user_id if actor else None, target_kind=target_kind,
                        target_id=target_id, reason=reason[:MAX_REASON], source=source)
        s.add(report)
        s.flush()
        core.audit(s, actor, "report.file", target_kind, target_id, report_id=report.id, source=source)
        s.commit()
        s.refresh(report)
        return report
    return await core.db(create)


def _visible_to(s: Session, actor: Actor | None, target) -> bool:
    """Whether the reporter may see the target: a maker or image the public sees, or their own (a private maker's
    owner, an image's requester), or anything for a moderator. Anything else is reported on as if it did not exist,
    so that reports cannot tell a private maker from a missing one."""
    if target is None:
        return False
    if actor is not None and actor.is_moderator:
        return True
    if isinstance(target, Maker):
        return shown_to_public(target) or (actor is not None and target.owner_id == actor.user_id)
    if isinstance(target, Generation):
        if actor is not None and target.requester_id == actor.user_id:
            return True
        maker = s.get(Maker, target.maker_id)
        return shown_to_public(maker) or (actor is not None and maker is not None and maker.owner_id == actor.user_id)
    return True


async def open_reports(core: Core, actor: Actor, *, limit: int = 25) -> list[Report]:
    actor.require_moderator()
    return await core.db(lambda s: list(s.exec(select(Report).where(Report.status == ReportStatus.open.value)
                                               .order_by(Report.created_at).limit(limit)).all()))


async def resolve_report(core: Core, actor: Actor, report_id: int, *, upheld: bool, note: str = "") -> Report:
    actor.require_moderator()

    def resolve(s: Session) -> Report:
        report = s.get(Report, report_id)
        if report is None:
            raise Refusal("report.not_found", id=report_id)
        report.status = (ReportStatus.upheld if upheld else ReportStatus.dismissed).value
        report.resolution, report.resolved_at = note[:MAX_REASON], core.clock()
        core.audit(s, actor, "report.resolve", "report", report.id, upheld=upheld)
        s.add(report)
        s.commit()
        s.refresh(report)
        return report
    return await core.db(resolve)


async def take_down(core: Core, actor: Actor, target_kind: str, target_id: int, reason: str) -> None:
    """Remove a generation's images or a whole maker; the gallery shows a tombstone instead."""
    actor.require_moderator()
    if target_kind not in ("generation", "maker"):
        raise Refusal("takedown.bad_target")

    def down(s: Session) -> tuple[list[str], list[str]]:
        blobs, aborts = [], []
        if target_kind == "generation":
            gen = s.get(Generation, target_id)
            if gen is None:
                raise Refusal("generation.not_found", id=target_id)
            blobs, gen.image_blobs, gen.taken_down = list(gen.image_blobs), [], True
            if gen.status in (JobStatus.queued.value, JobStatus.running.value):
                gen.status = JobStatus.cancelled.value
                aborts.append(generation_job_id(core.settings.redis_prefix, gen.id))
            s.add(gen)
        else:
            maker = s.get(Maker, target_id)
            if maker is None:
                raise Refusal("maker.not_found", name=str(target_id))
            if maker.lora_blob:
                blobs.append(maker.lora_blob)
            maker.status, maker.lora_blob = MakerStatus.taken_down.value, ""
            for gen in s.exec(select(Generation).where(Generation.maker_id == maker.id,
                                                       Generation.status.in_(["queued", "running"]))):
                gen.status = JobStatus.cancelled.value
                aborts.append(generation_job_id(core.settings.redis_prefix, gen.id))
                s.add(gen)
            s.add(maker)
        for report in s.exec(select(Report).where(Report.target_kind == target_kind, Report.target_id == target_id,
                                                  Report.status == ReportStatus.open.value)):
            report.status, report.resolution, report.resolved_at = ReportStatus.upheld.value, reason, core.clock()
            s.add(report)
        core.audit(s, actor, "takedown", target_kind, target_id, reason=reason[:MAX_REASON])
        s.commit()
        return blobs, aborts
    blobs, aborts = await core.db(down)
    for job in aborts:
        await core.queue.abort(job)
    for blob in blobs:
        await core.app.blobs.adelete(blob)


async def ban_user(core: Core, actor: Actor, user_id: int, reason: str) -> User:
    actor.require_moderator()

    def ban(s: Session) -> User:
        user = s.get(User, user_id)
        if user is None:
            raise Refusal("user.not_found")
        if user.id == actor.user_id:
            raise Refusal("ban.self")
        user.banned, user.banned_reason = True, reason[:MAX_REASON]
        core.audit(s, actor, "user.ban", "user", user.id, reason=reason[:MAX_REASON])
        s.add(user)
        s.commit()
        s.refresh(user)
        return user
    return await core.db(ban)


async def unban_user(core: Core, actor: Actor, user_id: int) -> User:
    actor.require_moderator()

    def unban(s: Session) -> User:
        user = s.get(User, user_id)
        if user is None:
            raise Refusal("user.not_found")
        if not user.banned:
            raise Refusal("unban.not_banned")
        user.banned, user.banned_reason = False, ""
        core.audit(s, actor, "user.unban", "user", user.id)
        s.add(user)
        s.commit()
        s.refresh(user)
        return user
    return await core.db(unban)


async def guild_settings(core: Core, guild_id: int) -> GuildSettings:
    return await core.db(lambda s: s.get(GuildSettings, guild_id) or GuildSettings(guild_id=guild_id))


async def update_guild_settings(core: Core, actor: Actor, guild_id: int, **changes) -> GuildSettings:
    actor.require_moderator()
    allowed = {"gallery_channel_id", "review_required", "publish_training_images", "daily_generations_per_fan",
               "moderator_role_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise Refusal("server.bad_setting", name=", ".join(sorted(unknown)))

    def update(s: Session) -> GuildSettings:
        row = s.get(GuildSettings, guild_id) or GuildSettings(guild_id=guild_id)
        for key, value in changes.items():
            if value is not None:
                setattr(row, key, value)
        core.audit(s, actor, "server.settings", "guild", None, guild_id=guild_id,
                   **{k: v for k, v in changes.items() if v is not None})
        s.add(row)
        s.commit()
        s.refresh(row)
        return row
    return await core.db(update)
