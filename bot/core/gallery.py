"""Read-only views for the public gallery: makers, artists, generations, image pages, and which blobs are public.

The rules of what the public may see live here, not in the web adapter:
- a private maker and everything made with it is invisible; an unlisted one is reachable by link but not listed;
- a maker that is revoked, taken down or suspended (it learned from a work that turned out to be another artist's),
  and every generation made with it, shows as a tombstone: its record
  stays (so a link or a trace still explains what happened) but none of its images are shown or served;
- a taken-down generation is a tombstone too;
- a maker's training images are public (the policy) unless its server turned `publish_training_images` off;
- a remake's input image is never public (it may be someone's photo).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.app import Core
from data.credit import public_credits
from data.models import (Generation, GenerationImage, GenerationKind, GuildSettings, JobStatus, Maker, MakerImage,
                         MakerStatus, SocialAccount, User, Visibility)

GONE = (MakerStatus.revoked.value, MakerStatus.taken_down.value, MakerStatus.suspended.value)
# makers the public may see: trained or training, and the tombstones of withdrawn ones
LISTED_STATUSES = (MakerStatus.ready.value, MakerStatus.training.value, *GONE)
PER_PAGE = 24
MAX_PAGE = 10_000
MAX_ARTIST_MAKERS = 100  # an artist page lists at most this many makers


@dataclass
class Page:
    items: list
    page: int
    pages: int | None  # None where counting would cost a scan (generations): then only `more` is known
    total: int | None
    more: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more if self.pages is None else self.page < self.pages


@dataclass
class SocialLink:
    platform: str
    handle: str
    url: str


@dataclass
class ArtistView:
    id: int
    name: str
    credit: str  # the public credit, as on the image and in Discord (data.credit)
    accounts: list[SocialLink] = field(default_factory=list)
    makers: list[str] = field(default_factory=list)  # names of public makers that are not gone


@dataclass
class MakerCard:
    maker: Maker
    artist: ArtistView
    gone: bool  # revoked or taken down: a tombstone
    cover_blob: str  # "" when there is nothing to show


@dataclass
class Shown:
    """An image on a page, with where it belongs (the server checks that place instead of searching)."""

    blob: str
    generation_id: int | None = None
    maker_id: int | None = None


@dataclass
class MakerDetail:
    card: MakerCard
    samples: list[Shown]  # the maker's sample and images of its recent visible generations
    training_images: list[str]  # blobs, empty when gone or not published
    training_published: bool
    generation_count: int


@dataclass
class GenerationCard:
    generation: Generation
    maker: Maker
    artist: ArtistView
    gone: bool  # taken down, or its maker is gone
    gone_reason: str  # "taken_down" | "maker_revoked" | "maker_taken_down" | "maker_suspended" | ""
    image_blobs: list[str]  # empty when gone

    @property
    def lock_until(self) -> datetime | None:
        return aware(self.generation.undeletable_until)


GENERATION_PATH = "/g/{id}"  # the web gallery's page of one generation (bot/web/views.py routes it)
MAKER_PATH = "/makers/{name}"
ARTIST_PATH = "/artists/{id}"


def generation_url(public_url: str, generation_id: int) -> str:
    """The public page of a generation: every link to one (Discord, the CLI, feeds) is built here."""
    return public_url.rstrip("/") + GENERATION_PATH.format(id=generation_id)


def maker_url(public_url: str, name: str) -> str:
    return public_url.rstrip("/") + MAKER_PATH.format(name=name)


def artist_url(public_url: str, artist_id: int) -> str:
    return public_url.rstrip("/") + ARTIST_PATH.format(id=artist_id)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def social_url(account: SocialAccount) -> str:
    """The account's public profile; only http(s) links ever reach a page."""
    url = account.profile_url.strip()
    if url.startswith(("https://", "http://")):
        return url
    handle = account.handle.strip().lstrip("@")
    if account.platform == "x":
        return f"https://x.com/{handle}"
    if account.platform == "bluesky":
        return f"https://bsky.app/profile/{handle}"
    if account.platform == "mastodon" and "@" in handle:
        user, _, host = handle.partition("@")
        return f"https://{host}/@{user}"
    return ""


def _clamp_page(page: int) -> int:
    return min(max(page, 1), MAX_PAGE)


def _pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def _artists(s: Session, user_ids: set[int]) -> dict[int, ArtistView]:
    if not user_ids:
        return {}
    users = s.exec(select(User).where(User.id.in_(user_ids))).all()
    credits = public_credits(s, user_ids)
    views = {u.id: ArtistView(id=u.id, name=u.display_name or f"artist {u.id}", credit=credits[u.id].name)
             for u in users}
    accounts = s.exec(select(SocialAccount).where(SocialAccount.user_id.in_(user_ids),
                                                  SocialAccount.verified_at.is_not(None))
                      .order_by(SocialAccount.id)).all()
    for account in accounts:
        url = social_url(account)
        if url:
            views[account.user_id].accounts.append(SocialLink(account.platform, account.handle, url))
    return views


def _visible_maker(maker: Maker | None) -> bool:
    return maker is not None and maker.visibility != Visibility.private.value and maker.status in LISTED_STATUSES


def shown_to_public(maker: Maker | None) -> bool:
    """Whether the public may see this maker and what was made with it (by link, for an unlisted one)."""
    return _visible_maker(maker)


def _generation_card(gen: Generation, maker: Maker, artist: ArtistView) -> GenerationCard:
    reason = ""
    if gen.taken_down:
        reason = "taken_down"
    elif maker.status == MakerStatus.revoked.value:
        reason = "maker_revoked"
    elif maker.status == MakerStatus.taken_down.value:
        reason = "maker_taken_down"
    elif maker.status == MakerStatus.suspended.value:
        reason = "maker_suspended"
    return GenerationCard(generation=gen, maker=maker, artist=artist, gone=bool(reason), gone_reason=reason,
                          image_blobs=[] if reason else list(gen.image_blobs))


def _training_published(s: Session, maker: Maker) -> bool:
    guild = s.get(GuildSettings, maker.guild_id) if maker.guild_id else None
    return guild.publish_training_images if guild else True


# makers -------------------------------------------------------------------------------------------------------


async def makers_page(core: Core, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Public makers, newest first; withdrawn ones come as tombstones."""
    page = _clamp_page(page)

    def query(s: Session) -> Page:
        where = (Maker.visibility == Visibility.public.value, Maker.status.in_(LISTED_STATUSES))
        total = s.exec(select(func.count()).select_from(Maker).where(*where)).one()
        makers = s.exec(select(Maker).where(*where).order_by(Maker.created_at.desc(), Maker.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
        artists = _artists(s, {m.owner_id for m in makers})
        cards = [MakerCard(maker=m, artist=artists[m.owner_id], gone=m.status in GONE,
                           cover_blob="" if m.status in GONE else _cover(s, m)) for m in makers]
        return Page(cards, page, _pages(total, per_page), total)
    return await core.db(query)


def _cover(s: Session, maker: Maker) -> str:
    if maker.sample_blob:
        return maker.sample_blob
    if _training_published(s, maker):
        first = s.exec(select(MakerImage.blob).where(MakerImage.maker_id == maker.id).order_by(MakerImage.id)).first()
        return first or ""
    return ""


async def maker_detail(core: Core, name: str, *, samples: int = 8) -> MakerDetail | None:
    """None when there is no such maker for the public (unknown, private, or not yet public)."""
    def query(s: Session) -> MakerDetail | None:
        maker = s.exec(select(Maker).where(Maker.name == name.strip().lower())).first()
        if not _visible_maker(maker):
            return None
        artist = _artists(s, {maker.owner_id})[maker.owner_id]
        artist.makers = _public_maker_names(s, maker.owner_id)
        gone = maker.status in GONE
        published = _training_published(s, maker)
        count = s.exec(select(func.count()).select_from(Generation).where(
            Generation.maker_id == maker.id, Generation.status == JobStatus.done.value)).one()
        card = MakerCard(maker=maker, artist=artist, gone=gone, cover_blob="" if gone else _cover(s, maker))
        if gone:
            return MakerDetail(card, [], [], published, count)
        shown = [Shown(maker.sample_blob, maker_id=maker.id)] if maker.sample_blob else []
        recent = s.exec(select(Generation).where(Generation.maker_id == maker.id,
                                                 Generation.status == JobStatus.done.value,
                                                 Generation.taken_down.is_(False))
                        .order_by(Generation.id.desc()).limit(samples)).all()
        for gen in recent:
            shown.extend(Shown(b, generation_id=gen.id) for b in gen.image_blobs)
        training = []
        if published:
            training = list(s.exec(select(MakerImage.blob).where(MakerImage.maker_id == maker.id)
                                   .order_by(MakerImage.id)).all())
        return MakerDetail(card, shown[:samples], training, published, count)
    return await core.db(query)


def _public_maker_names(s: Session, owner_id: int) -> list[str]:
    return list(s.exec(select(Maker.name).where(Maker.owner_id == owner_id,
                                                Maker.visibility == Visibility.public.value,
                                                Maker.status.in_((MakerStatus.ready.value,
                                                                  MakerStatus.training.value)))
                       .order_by(Maker.name)).all())


# artists ------------------------------------------------------------------------------------------------------


async def artists_page(core: Core, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """People with at least one verified social account, by name."""
    page = _clamp_page(page)

    def query(s: Session) -> Page:
        verified = select(SocialAccount.user_id).where(SocialAccount.verified_at.is_not(None))
        where = (User.id.in_(verified), User.banned.is_(False))
        total = s.exec(select(func.count()).select_from(User).where(*where)).one()
        users = s.exec(select(User).where(*where).order_by(User.display_name, User.id)
                       .offset((page - 1) * per_page).limit(per_page)).all()
        views = _artists(s, {u.id for u in users})
        for view in views.values():
            view.makers = _public_maker_names(s, view.id)
        return Page([views[u.id] for u in users], page, _pages(total, per_page), total)
    return await core.db(query)


@dataclass
class ArtistProfile:
    """What /artist shows of a Discord user: their verified accounts and their public, ready makers."""

    accounts: list[SocialAccount]
    makers: list[Maker]


async def artist_profile(core: Core, discord_id: int) -> ArtistProfile:
    def query(s: Session) -> ArtistProfile:
        user = s.exec(select(User).where(User.discord_id == discord_id)).first()
        if user is None:
            return ArtistProfile([], [])
        accounts = s.exec(select(SocialAccount).where(SocialAccount.user_id == user.id,
                                                      SocialAccount.verified_at.is_not(None))).all()
        makers = s.exec(select(Maker).where(Maker.owner_id == user.id, Maker.visibility == Visibility.public.value,
                                            Maker.status == MakerStatus.ready.value).order_by(Maker.name)).all()
        return ArtistProfile(list(accounts), list(makers))
    return await core.db(query)


@dataclass
class ArtistDetail:
    artist: ArtistView
    makers: list[MakerCard]  # public makers, newest first, tombstones of withdrawn ones included


def _public_artist(s: Session, user_id: int) -> bool:
    """The rule of the artists list: someone with a verified account who is not banned."""
    user = s.get(User, user_id)
    if user is None or user.banned:
        return False
    return s.exec(select(SocialAccount.id).where(SocialAccount.user_id == user_id,
                                                 SocialAccount.verified_at.is_not(None))).first() is not None


async def artist_detail(core: Core, artist_id: int) -> ArtistDetail | None:
    """One artist's page; None for anyone the artists list does not show."""
    def query(s: Session) -> ArtistDetail | None:
        if not _public_artist(s, artist_id):
            return None
        artist = _artists(s, {artist_id})[artist_id]
        artist.makers = _public_maker_names(s, artist_id)
        makers = s.exec(select(Maker).where(Maker.owner_id == artist_id, Maker.visibility == Visibility.public.value,
                                            Maker.status.in_(LISTED_STATUSES))
                        .order_by(Maker.created_at.desc(), Maker.id.desc()).limit(MAX_ARTIST_MAKERS)).all()
        cards = [MakerCard(maker=m, artist=artist, gone=m.status in GONE,
                           cover_blob="" if m.status in GONE else _cover(s, m)) for m in makers]
        return ArtistDetail(artist, cards)
    return await core.db(query)


# generations --------------------------------------------------------------------------------------------------


async def generations_page(core: Core, *, kind: str | None = None, page: int = 1, per_page: int = PER_PAGE,
                           maker_name: str | None = None, artist_id: int | None = None) -> Page:
    """Finished generations, newest first; `kind` is "txt2img", "remake" or None for both.

    By default those of public makers (the gallery's lists); `maker_name` narrows to one maker, with the rule of
    its page (an unlisted maker is reachable by its link, a private one never); `artist_id` to the artist's public
    makers, as their artist page lists them. Tombstones come as cards with `gone` set and no images.

    Ordered by id (the primary key: newest first without a sort) and not counted: at millions of rows a count
    is a scan, so the page knows only whether another follows."""
    page = _clamp_page(page)

    def query(s: Session) -> Page:
        where = [Generation.status == JobStatus.done.value, Maker.status.in_(LISTED_STATUSES)]
        if maker_name is not None:
            where += [Maker.name == maker_name.strip().lower(), Maker.visibility != Visibility.private.value]
        else:
            where.append(Maker.visibility == Visibility.public.value)
        if artist_id is not None:
            where.append(Maker.owner_id == artist_id)
        if kind is not None:
            where.append(Generation.kind == GenerationKind(kind).value)
        rows = s.exec(select(Generation, Maker).join(Maker, Maker.id == Generation.maker_id).where(*where)
                      .order_by(Generation.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)).all()
        more, rows = len(rows) > per_page, rows[:per_page]
        artists = _artists(s, {m.owner_id for _, m in rows})
        return Page([_generation_card(g, m, artists[m.owner_id]) for g, m in rows], page, None, None, more)
    return await core.db(query)


async def generation_view(core: Core, generation_id: int) -> GenerationCard | None:
    """One image page; None when the public may not see it at all (unknown, or its maker is private)."""
    def query(s: Session) -> GenerationCard | None:
        gen = s.get(Generation, generation_id)
        if gen is None:
            return None
        maker = s.get(Maker, gen.maker_id)
        if not _visible_maker(maker):
            return None
        artist = _artists(s, {maker.owner_id})[maker.owner_id]
        return _generation_card(gen, maker, artist)
    return await core.db(query)


# blobs --------------------------------------------------------------------------------------------------------


async def is_public_blob(core: Core, digest: str, *, generation_id: int | None = None,
                         maker_id: int | None = None) -> bool:
    """Whether the gallery may serve this blob: shown on some page that is not a tombstone.

    Pages name where an image belongs (`generation_id` or `maker_id`), and then only that place is checked:
    a primary-key look-up. Without a hint (a bare link shared by hand) every place is looked up by index:
    makers by sample and training image, generations through GenerationImage.
    LoRA files, checkpoints, remake inputs and anything withdrawn are never served."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return False
    live = (Maker.visibility != Visibility.private.value, Maker.status.in_((MakerStatus.ready.value,
                                                                          MakerStatus.training.value)))

    def maker_shows(s: Session, maker: Maker) -> bool:
        if maker.sample_blob == digest:
            return True
        return _training_published(s, maker) and s.exec(select(MakerImage.id).where(
            MakerImage.maker_id == maker.id, MakerImage.blob == digest)).first() is not None

    def by_generation(s: Session) -> bool:
        gen = s.get(Generation, generation_id)
        if gen is None or gen.taken_down or gen.status != JobStatus.done.value or digest not in gen.image_blobs:
            return False
        return s.exec(select(Maker.id).where(Maker.id == gen.maker_id, *live)).first() is not None

    def by_maker(s: Session) -> bool:
        maker = s.exec(select(Maker).where(Maker.id == maker_id, *live)).first()
        return maker is not None and maker_shows(s, maker)

    def anywhere(s: Session) -> bool:
        candidates = s.exec(select(Maker).where(Maker.sample_blob == digest, *live)).all()
        candidates += s.exec(select(Maker).join(MakerImage, MakerImage.maker_id == Maker.id)
                             .where(MakerImage.blob == digest, *live)).all()
        if any(maker_shows(s, m) for m in candidates):
            return True
        # the index says which generations hold the digest; their rows, read by primary key, still decide. Two
        # statements on purpose: joined, a planner short of statistics (SQLite always, PostgreSQL after a bulk
        # load) may walk every finished generation by status or maker and probe the index for each
        holders = s.exec(select(GenerationImage.generation_id).where(GenerationImage.blob == digest)).all()
        if not holders:
            return False
        hit = s.exec(select(Generation.id).join(Maker, Maker.id == Generation.maker_id)
                     .where(Generation.id.in_(holders), Generation.taken_down.is_(False),
                            Generation.status == JobStatus.done.value, *live)).first()
        return hit is not None
    if generation_id is not None:
        return await core.db(by_generation)
    if maker_id is not None:
        return await core.db(by_maker)
    return await core.db(anywhere)
