"""The artist's control room and the fan's own requests, as use cases: what a signed-in person may see of their own
makers (every image ever made with them, who asked, with which prompt, what was reported) and of their own
requests. Every function checks that the actor owns what they ask about (Refusal "maker.not_owner" otherwise: the
web answers 403); changes go through the existing use cases (makers.update_settings, makers.revoke_maker,
generations.delete_generation)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.core.gallery import aware
from bot.core.makers import maker_named
from data.models import Generation, Maker, MakerImage, MakerStatus, Report, User

GONE = {MakerStatus.revoked.value, MakerStatus.taken_down.value}


@dataclass
class OwnMaker:
    maker: Maker
    images: int
    generations: int
    open_reports: int

    @property
    def gone(self) -> bool:
        return self.maker.status in GONE


@dataclass
class MadeWith:
    """One generation or remake made with the artist's maker, as its artist sees it."""

    generation: Generation
    requester: str  # the requester's name ("" when they deleted their account)
    reports: list[Report] = field(default_factory=list)

    @property
    def shown(self) -> list[str]:
        return list(self.generation.image_blobs or ())


@dataclass
class OwnMakerDetail:
    maker: Maker
    training: list[MakerImage]
    made: list[MadeWith]
    reports: list[Report]  # about the maker itself

    @property
    def gone(self) -> bool:
        return self.maker.status in GONE


@dataclass
class OwnRequest:
    generation: Generation
    maker_name: str
    now: datetime

    @property
    def lock_until(self) -> datetime | None:
        return aware(self.generation.undeletable_until)

    @property
    def withdrawn(self) -> bool:
        return self.generation.taken_down

    @property
    def can_withdraw(self) -> bool:
        until = self.lock_until
        return not self.withdrawn and (until is None or until <= self.now)


def _signed_in(s: Session, actor: Actor) -> User:
    user = s.get(User, actor.user_id)
    if user is None or user.erased_at is not None:
        raise Refusal("user.not_found")
    return user


def own_maker(s: Session, actor: Actor, name: str) -> Maker:
    maker = maker_named(s, name)
    if maker.owner_id != actor.user_id:
        raise Refusal("maker.not_owner")
    return maker


async def my_makers(core: Core, actor: Actor) -> list[OwnMaker]:
    def query(s: Session) -> list[OwnMaker]:
        _signed_in(s, actor)
        makers = s.exec(select(Maker).where(Maker.owner_id == actor.user_id).order_by(Maker.created_at.desc())).all()
        ids = [m.id for m in makers]
        if not ids:
            return []
        images = dict(s.exec(select(MakerImage.maker_id, func.count()).where(MakerImage.maker_id.in_(ids))
                             .group_by(MakerImage.maker_id)).all())
        gens = dict(s.exec(select(Generation.maker_id, func.count()).where(Generation.maker_id.in_(ids))
                           .group_by(Generation.maker_id)).all())
        reported: dict[int, int] = {}
        for maker_id, count in s.exec(
                select(Generation.maker_id, func.count()).join(Report, (Report.target_kind == "generation")
                                                               & (Report.target_id == Generation.id))
                .where(Generation.maker_id.in_(ids), Report.status == "open").group_by(Generation.maker_id)):
            reported[maker_id] = count
        for maker_id, count in s.exec(select(Report.target_id, func.count()).where(
                Report.target_kind == "maker", Report.target_id.in_(ids), Report.status == "open")
                .group_by(Report.target_id)):
            reported[maker_id] = reported.get(maker_id, 0) + count
        return [OwnMaker(m, images.get(m.id, 0), gens.get(m.id, 0), reported.get(m.id, 0)) for m in makers]
    return await core.db(query)


async def my_maker(core: Core, actor: Actor, name: str) -> OwnMakerDetail:
    """One of the actor's makers with its training images and every generation and remake made with it, newest
    first, each with its requester, prompt and reports."""
    def query(s: Session) -> OwnMakerDetail:
        _signed_in(s, actor)
        maker = own_maker(s, actor, name)
        training = list(s.exec(select(MakerImage).where(MakerImage.maker_id == maker.id).order_by(MakerImage.id)))
        gens = list(s.exec(select(Generation).where(Generation.maker_id == maker.id)
                           .order_by(Generation.created_at.desc(), Generation.id.desc())))
        names = {u.id: u.display_name for u in s.exec(select(User).where(
            User.id.in_({g.requester_id for g in gens})))} if gens else {}
        reports: dict[int, list[Report]] = {}
        if gens:
            for report in s.exec(select(Report).where(Report.target_kind == "generation",
                                                      Report.target_id.in_([g.id for g in gens]))
                                 .order_by(Report.created_at)):
                reports.setdefault(report.target_id, []).append(report)
        about = list(s.exec(select(Report).where(Report.target_kind == "maker", Report.target_id == maker.id)
                            .order_by(Report.created_at)))
        made = [MadeWith(g, names.get(g.requester_id, ""), reports.get(g.id, [])) for g in gens]
        return OwnMakerDetail(maker, training, made, about)
    return await core.db(query)


async def my_requests(core: Core, actor: Actor, *, limit: int = 200) -> list[OwnRequest]:
    """The fan's own generation and remake requests, newest first."""
    def query(s: Session) -> list[OwnRequest]:
        _signed_in(s, actor)
        gens = list(s.exec(select(Generation).where(Generation.requester_id == actor.user_id)
                           .order_by(Generation.created_at.desc(), Generation.id.desc()).limit(limit)))
        names = {m.id: m.name for m in s.exec(select(Maker).where(Maker.id.in_({g.maker_id for g in gens})))} \
            if gens else {}
        now = core.clock()
        return [OwnRequest(g, names.get(g.maker_id, ""), now) for g in gens]
    return await core.db(query)


async def may_see_image(core: Core, actor: Actor, digest: str, *, maker_id: int | None = None,
                        generation_id: int | None = None) -> bool:
    """A stored image the signed-in person may see on their own pages though the public gallery may not show it: a
    training image or sample of their maker, an image made with it, or one they asked for."""
    def check(s: Session) -> bool:
        if maker_id is not None:
            maker = s.get(Maker, maker_id)
            if maker is None or maker.owner_id != actor.user_id:
                return False
            return maker.sample_blob == digest or s.exec(select(MakerImage.id).where(
                MakerImage.maker_id == maker_id, MakerImage.blob == digest)).first() is not None
        if generation_id is not None:
            gen = s.get(Generation, generation_id)
            if gen is None or digest not in (gen.image_blobs or ()):
                return False
            maker = s.get(Maker, gen.maker_id)
            return gen.requester_id == actor.user_id or (maker is not None and maker.owner_id == actor.user_id)
        return False
    return await core.db(check)


async def signed_in_user(core: Core, user_id: int) -> User | None:
    """The person a session names, or None when the account is unknown or was deleted."""
    def get(s: Session) -> User | None:
        user = s.get(User, user_id)
        return None if user is None or user.erased_at is not None else user
    return await core.db(get)
