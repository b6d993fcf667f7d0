"""Ownership changes and disputes as use cases: what a move of a work does to the losing side, what moderators
see and decide, and an artist's contest.

The registry (verification/registry.py) decides whose a work is by the earliest post; this module carries out
the consequences at once, in the same use case that moved the work:
- every maker of the losing side that trained on the work is suspended: its queued and running jobs stop, its
  generations become tombstones in the gallery and on the web pages, its LoRA is quarantined (kept, never loaded
  nor served) until a moderator restores the maker or deletes the LoRA;
- both people are told in their language (`Notice`s for the adapter to deliver);
- moderators already have one report with both posts' links and dates (written by the registry);
- the audit log records each step. Nothing is ever recorded against the earlier poster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.i18n import Text
from data.models import (Artwork, Dispute, DisputeStatus, Generation, JobStatus, Maker, MakerImage, MakerStatus,
                         Report, TrainingJob, User)
from engine.queue import generation_job_id, training_job_id
from verification.registry import ClaimResult, assign

# states a maker can lose its works in: everything still alive (revoked and taken-down makers are gone already)
SUSPENDABLE = (MakerStatus.draft.value, MakerStatus.pending_review.value, MakerStatus.training.value,
               MakerStatus.ready.value, MakerStatus.failed.value)
MAX_NOTE = 1000


@dataclass(frozen=True)
class Notice:
    """A message for one person, delivered by the adapter (a Discord DM, a CLI line) in their language."""

    user_id: int
    discord_id: int | None
    locale: str
    text: Text


@dataclass
class OwnershipChange:
    dispute_id: int
    winner_id: int
    loser_id: int
    suspended: list[str] = field(default_factory=list)  # maker names
    hidden: list[Generation] = field(default_factory=list)  # finished generations now tombstones (posted ones too)
    notices: list[Notice] = field(default_factory=list)


@dataclass
class Side:
    user: User | None
    post_url: str
    posted_at: datetime | None
    blob: str  # the image as posted there ("" when none is kept)


@dataclass
class DisputeView:
    """A dispute as a moderator reads it: both posts side by side."""

    dispute: Dispute
    holder: Side
    claimant: Side
    owner_id: int | None  # who owns the work now


def _notice(s: Session, user_id: int, key: str, **params) -> Notice:
    user = s.get(User, user_id)
    return Notice(user_id, user.discord_id if user else None, user.locale if user else "en", Text(key, **params))


def _date(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "?"


def _suspend_losers(core: Core, s: Session, actor: Actor | None, dispute: Dispute, loser_id: int,
                    change: OwnershipChange) -> list[str]:
    """Suspend the loser's makers that trained on the work; returns the queue jobs to abort."""
    prefix, aborts = core.settings.redis_prefix, []
    makers = s.exec(select(Maker).join(MakerImage, MakerImage.maker_id == Maker.id).where(
        MakerImage.artwork_id == dispute.artwork_id, Maker.owner_id == loser_id,
        Maker.status.in_(SUSPENDABLE))).unique().all()
    for maker in makers:
        for job in s.exec(select(TrainingJob).where(TrainingJob.maker_id == maker.id,
                                                    TrainingJob.status.in_(["queued", "running"]))):
            job.status, job.error = JobStatus.cancelled.value, "the maker was suspended: a work is another artist's"
            aborts.append(training_job_id(prefix, job.id))
            s.add(job)
        for gen in s.exec(select(Generation).where(Generation.maker_id == maker.id)):
            if gen.status in (JobStatus.queued.value, JobStatus.running.value):
                gen.status, gen.error = JobStatus.cancelled.value, "the maker was suspended"
                aborts.append(generation_job_id(prefix, gen.id))
                s.add(gen)
            elif gen.status == JobStatus.done.value:
                change.hidden.append(gen)
        maker.suspended_from, maker.suspended_at = maker.status, core.clock()
        maker.status = MakerStatus.suspended.value
        s.add(maker)
        core.audit(s, actor, "maker.suspend", "maker", maker.id, dispute_id=dispute.id,
                   artwork_id=dispute.artwork_id, was=maker.suspended_from, cancelled=len(aborts))
        change.suspended.append(maker.name)
    return aborts


def _change(core: Core, s: Session, actor: Actor | None, dispute: Dispute, winner_id: int,
            loser_id: int) -> tuple[OwnershipChange, list[str]]:
    """The consequences of a work moving from `loser_id` to `winner_id` (in the caller's transaction)."""
    change = OwnershipChange(int(dispute.id), winner_id, loser_id)
    aborts = _suspend_losers(core, s, actor, dispute, loser_id, change)
    won, lost = (dispute.claimant_post_url, dispute.claimant_posted_at), (dispute.holder_post_url,
                                                                         dispute.holder_posted_at)
    if winner_id == dispute.holder_id:
        won, lost = lost, won
    change.notices.append(_notice(s, loser_id, "ownership.lost", post=lost[0] or "?", other=won[0] or "?",
                                  date=_date(won[1]), makers=change.suspended or "—"))
    change.notices.append(_notice(s, winner_id, "ownership.won", post=won[0] or "?", date=_date(won[1])))
    core.audit(s, actor, "ownership.change", "dispute", dispute.id, artwork_id=dispute.artwork_id,
               winner_id=winner_id, loser_id=loser_id, suspended=change.suspended)
    return change, aborts


async def _abort(core: Core, aborts: list[str]) -> None:
    for job_id in aborts:
        await core.queue.abort(job_id)


async def settle_claims(core: Core, claimed: ClaimResult) -> tuple[list[OwnershipChange], list[Notice]]:
    """After a verification claimed posts: carry out every move at once, tell both sides of every dispute."""
    changes: list[OwnershipChange] = []
    notices: list[Notice] = []

    def work(s: Session) -> list[str]:
        aborts: list[str] = []
        for dispute_id in claimed.moved:
            dispute = s.get(Dispute, dispute_id)
            change, more = _change(core, s, None, dispute, dispute.claimant_id, dispute.holder_id)
            changes.append(change)
            aborts += more
        for dispute_id in claimed.disputed:
            dispute = s.get(Dispute, dispute_id)
            for user_id in (dispute.claimant_id, dispute.holder_id):
                post = dispute.claimant_post_url if user_id == dispute.claimant_id else dispute.holder_post_url
                notices.append(_notice(s, user_id, "dispute.opened", id=dispute.id, post=post or "?"))
        s.commit()
        return aborts
    if claimed.moved or claimed.disputed:
        await _abort(core, await core.db(work))
    return changes, notices


# moderators ---------------------------------------------------------------------------------------------------

def _view(s: Session, dispute: Dispute) -> DisputeView:
    artwork = s.get(Artwork, dispute.artwork_id)
    return DisputeView(dispute,
                       Side(s.get(User, dispute.holder_id), dispute.holder_post_url, dispute.holder_posted_at,
                            dispute.holder_blob),
                       Side(s.get(User, dispute.claimant_id), dispute.claimant_post_url, dispute.claimant_posted_at,
                            dispute.claimant_blob),
                       artwork.owner_id if artwork else None)


async def open_disputes(core: Core, actor: Actor, *, limit: int = 10) -> list[DisputeView]:
    """Disputes waiting for a moderator, oldest first, each with both posts' links, dates and images."""
    actor.require_moderator()
    return await core.db(lambda s: [_view(s, d) for d in s.exec(
        select(Dispute).where(Dispute.status == DisputeStatus.open.value).order_by(Dispute.id).limit(limit))])


async def dispute_view(core: Core, actor: Actor, dispute_id: int) -> DisputeView:
    actor.require_moderator()

    def query(s: Session) -> DisputeView:
        dispute = s.get(Dispute, dispute_id)
        if dispute is None:
            raise Refusal("dispute.not_found", id=dispute_id)
        return _view(s, dispute)
    return await core.db(query)


async def decide_dispute(core: Core, actor: Actor, dispute_id: int, decision: Literal["move", "keep"], *,
                         note: str = "") -> tuple[Dispute, OwnershipChange | None]:
    """A moderator's decision: `move` gives the work to the claimant, `keep` leaves (or gives back) it to the
    holder. Whoever loses the work loses it with the same consequences as an automatic move."""
    actor.require_moderator()
    if decision not in ("move", "keep"):
        raise Refusal("dispute.bad_decision")

    def decide(s: Session) -> tuple[Dispute, OwnershipChange | None, list[str]]:
        dispute = s.get(Dispute, dispute_id)
        if dispute is None:
            raise Refusal("dispute.not_found", id=dispute_id)
        if dispute.status != DisputeStatus.open.value:
            raise Refusal("dispute.not_open", id=dispute_id)
        dispute.status = (DisputeStatus.moved if decision == "move" else DisputeStatus.kept).value
        dispute.decided_by, dispute.decided_at = actor.user_id, core.clock()
        if note.strip():
            dispute.note = (dispute.note + "\nmoderator: " + note.strip())[-MAX_NOTE:]
        s.add(dispute)
        moved = assign(s, dispute, "claimant" if decision == "move" else "holder")
        core.audit(s, actor, "dispute.decide", "dispute", dispute.id, decision=decision, note=note[:MAX_NOTE])
        change, aborts = None, []
        if moved is not None:  # else nobody's work changed hands (decision_notices tells both the outcome)
            change, aborts = _change(core, s, actor, dispute, *moved)
        for report in s.exec(select(Report).where(Report.target_kind == "artwork",
                                                  Report.target_id == dispute.artwork_id,
                                                  Report.status == "open", Report.source == "system",
                                                  Report.reason.startswith(f"dispute {dispute.id}:"))):
            report.status, report.resolved_at = "upheld", core.clock()
            report.resolution = f"decided: {decision}"
            s.add(report)
        s.commit()
        s.refresh(dispute)
        return dispute, change, aborts
    dispute, change, aborts = await core.db(decide)
    await _abort(core, aborts)
    return dispute, change


async def decision_notices(core: Core, dispute: Dispute, change: OwnershipChange | None) -> list[Notice]:
    """What both sides are told of a decision: the move's notices, or that the work stays where it was."""
    if change is not None:
        return change.notices

    def query(s: Session) -> list[Notice]:
        key = "dispute.kept" if dispute.status == DisputeStatus.kept.value else "dispute.moved"
        return [_notice(s, user_id, key, id=dispute.id) for user_id in (dispute.claimant_id, dispute.holder_id)]
    return await core.db(query)


# artists ------------------------------------------------------------------------------------------------------

async def contest(core: Core, actor: Actor, post_url: str, note: str) -> tuple[Dispute, list[Notice]]:
    """An artist contests the outcome of a claim on one of their posts (by the post's link): the dispute opens
    again for moderators with the artist's words. Until a moderator decides, the work stays where it is now."""
    post_url, note = post_url.strip(), note.strip()
    if not note:
        raise Refusal("contest.no_reason")

    def reopen(s: Session) -> tuple[Dispute, list[Notice]]:
        mine = ((Dispute.claimant_id == actor.user_id) & (Dispute.claimant_post_url == post_url)) | (
            (Dispute.holder_id == actor.user_id) & (Dispute.holder_post_url == post_url))
        dispute = s.exec(select(Dispute).where(mine).order_by(Dispute.id.desc())).first()
        if dispute is None:
            raise Refusal("contest.no_claim", post=post_url)
        if dispute.status == DisputeStatus.open.value:
            raise Refusal("contest.already_open", id=dispute.id)
        artwork = s.get(Artwork, dispute.artwork_id)
        if artwork is not None and artwork.owner_id == actor.user_id:
            raise Refusal("contest.already_yours", post=post_url)
        dispute.status, dispute.origin, dispute.decided_at = DisputeStatus.open.value, "contest", None
        dispute.note = (dispute.note + ("\n" if dispute.note else "") + f"contest by user {actor.user_id}: "
                        + note)[-MAX_NOTE:]
        s.add(dispute)
        s.add(Report(reporter_id=actor.user_id, target_kind="artwork", target_id=dispute.artwork_id,
                     source="system", reason=f"dispute {dispute.id}: contested by user {actor.user_id}: "
                                             f"{dispute.claimant_post_url or '?'} "
                                             f"({_date(dispute.claimant_posted_at)}) against "
                                             f"{dispute.holder_post_url or '?'} ({_date(dispute.holder_posted_at)}): "
                                             + note[:500]))
        core.audit(s, actor, "dispute.contest", "dispute", dispute.id, note=note[:MAX_NOTE])
        other = dispute.holder_id if dispute.claimant_id == actor.user_id else dispute.claimant_id
        notices = [_notice(s, other, "dispute.contested", id=dispute.id, post=post_url)]
        s.commit()
        s.refresh(dispute)
        return dispute, notices
    return await core.db(reopen)


# suspended makers ---------------------------------------------------------------------------------------------

async def suspended_makers(core: Core, actor: Actor) -> list[Maker]:
    actor.require_moderator()
    return await core.db(lambda s: list(s.exec(select(Maker).where(
        Maker.status == MakerStatus.suspended.value).order_by(Maker.suspended_at, Maker.id))))


async def settle_suspended(core: Core, actor: Actor, name: str, *, restore: bool, note: str = "") -> Maker:
    """A moderator ends a suspension: `restore` returns the maker to the state it had (its training starts again
    when it was cut short), else its quarantined LoRA is deleted and the maker is taken down. A maker still holding
    another artist's work cannot be restored."""
    actor.require_moderator()

    def settle(s: Session) -> tuple[Maker, str, int | None]:
        maker = s.exec(select(Maker).where(Maker.name == name.strip().lower())).first()
        if maker is None:
            raise Refusal("maker.not_found", name=name)
        if maker.status != MakerStatus.suspended.value:
            raise Refusal("maker.not_suspended", name=maker.name)
        lora, job_id = "", None
        if restore:
            others = s.exec(select(Artwork.id).join(MakerImage, MakerImage.artwork_id == Artwork.id).where(
                MakerImage.maker_id == maker.id, Artwork.owner_id != maker.owner_id)).first()
            if others is not None:
                raise Refusal("maker.still_others", name=maker.name)
            back = maker.suspended_from or MakerStatus.failed.value
            if back == MakerStatus.training.value or (back == MakerStatus.ready.value and not maker.lora_blob):
                job = TrainingJob(maker_id=maker.id, steps=core.settings.train_steps)
                s.add(job)
                s.flush()
                job_id, back = job.id, MakerStatus.training.value
            maker.status = back
        else:
            lora, maker.lora_blob, maker.status = maker.lora_blob, "", MakerStatus.taken_down.value
        maker.suspended_from, maker.suspended_at = "", None
        core.audit(s, actor, "maker.restore" if restore else "maker.quarantine_delete", "maker", maker.id,
                   status=maker.status, note=note[:MAX_NOTE])
        s.add(maker)
        s.commit()
        s.refresh(maker)
        return maker, lora, job_id
    maker, lora, job_id = await core.db(settle)
    if lora:
        await core.app.blobs.adelete(lora)
    if job_id is not None:
        await core.queue.enqueue_training(job_id)
    return maker


# an artist's own disputes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MyDispute:
    """A dispute about a work of the actor's, from their side: their post and the other side's, each as a public
    link and its platform date. Nothing private of the other person (their name, their image as kept here, the
    words of a contest or a moderator's note) is carried."""

    id: int
    state: str  # open | contested | moved | kept | refused
    my_post_url: str
    my_posted_at: datetime | None
    their_post_url: str
    their_posted_at: datetime | None
    opened_at: datetime
    decided_at: datetime | None
    yours_now: bool  # whether the work is the actor's now

    @property
    def decided(self) -> bool:
        return self.state in ("moved", "kept", "refused")


def dispute_state(dispute: Dispute) -> str:
    """open (the dates could not decide), contested (reopened by an artist), moved, kept, or refused (the later
    post: the earlier keeps it)."""
    if dispute.status == DisputeStatus.open.value:
        return "contested" if dispute.origin == "contest" else "open"
    return dispute.status


def _mine(s: Session, dispute: Dispute, user_id: int) -> MyDispute:
    holder = dispute.holder_id == user_id
    mine = (dispute.holder_post_url, dispute.holder_posted_at) if holder else (dispute.claimant_post_url,
                                                                               dispute.claimant_posted_at)
    theirs = (dispute.claimant_post_url, dispute.claimant_posted_at) if holder else (dispute.holder_post_url,
                                                                                     dispute.holder_posted_at)
    artwork = s.get(Artwork, dispute.artwork_id)
    return MyDispute(int(dispute.id), dispute_state(dispute), mine[0], mine[1], theirs[0], theirs[1],
                     dispute.created_at, dispute.decided_at, artwork is not None and artwork.owner_id == user_id)


async def my_disputes(core: Core, actor: Actor, *, limit: int = 200) -> list[MyDispute]:
    """Every dispute where the actor is a party (holder or claimant), newest first, from their side."""
    return await core.db(lambda s: [_mine(s, d, actor.user_id) for d in s.exec(
        select(Dispute).where((Dispute.holder_id == actor.user_id) | (Dispute.claimant_id == actor.user_id))
        .order_by(Dispute.id.desc()).limit(limit))])
