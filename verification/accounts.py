"""Account proof (challenge codes), links stored by the platform's stable id, and reading an account's portfolio.

    challenge = await asyncio.to_thread(start_challenge, db, settings, user_id, "x", "@alice")
    # the user puts challenge.code in their bio or a public post
    result = await check_challenge(db, settings, providers["x"], user_id)
    portfolio = await fetch_portfolio(providers["x"], result.account, settings)
"""
from __future__ import annotations

import asyncio
import io
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Iterator

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from data.db import Database
from data.models import Challenge, SocialAccount
from data.settings import Settings, redact
from verification.media import MediaDownloader
from verification.providers.base import (
    Account, AccountProtected, Backoff, MediaPost, SocialError, SocialProvider, clean_handle, display_platform,
)

log = logging.getLogger(__name__)

PLATFORMS = ("x", "bluesky", "mastodon")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: people copy codes by hand


# errors -----------------------------------------------------------------------------------------------

class LinkRefused(SocialError):
    """The account could not be linked; the message says why and what to do."""


class NoChallenge(LinkRefused):
    def __init__(self, platform: str):
        super().__init__(f"There is no open {display_platform(platform)} verification for you. "
                         "Start one to get a code.")


class ChallengeExpired(LinkRefused):
    def __init__(self, ttl_minutes: int):
        super().__init__(f"Your code has expired (codes last {ttl_minutes} minutes). Please start again to get "
                         "a new one.")


class CodeNotFound(LinkRefused):
    def __init__(self, platform: str, handle: str, code: str):
        super().__init__(f"I couldn't find {code} in the bio or the recent public posts of {handle} on "
                         f"{display_platform(platform)}. Add it, wait a moment, then check again.")


class AlreadyLinked(LinkRefused):
    def __init__(self, platform: str, handle: str):
        super().__init__(f"The {display_platform(platform)} account {handle} is already linked to another "
                         "Discord user. If that is wrong, please contact a moderator.")


# challenges -------------------------------------------------------------------------------------------

def new_code() -> str:
    """A one-time code such as `mimic-7F3K-Q9ZD` (31^8 possibilities)."""
    pick = lambda: "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))  # noqa: E731
    return f"mimic-{pick()}-{pick()}"


def start_challenge(db: Database, settings: Settings, user_id: int, platform: str, handle: str,
                    *, now: datetime | None = None) -> Challenge:
    """A fresh code for `user_id` to prove control of `handle` on `platform`; replaces any open one. Sync (DB)."""
    if platform not in PLATFORMS:
        raise LinkRefused(f"Unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}.")
    handle = clean_handle(handle)
    if not handle:
        raise LinkRefused("Please give the handle of the account to verify.")
    now = now or datetime.now(timezone.utc)
    with db.session() as session:
        for old in session.exec(select(Challenge).where(Challenge.user_id == user_id,
                                                        Challenge.platform == platform,
                                                        Challenge.used_at.is_(None))):
            old.used_at = now  # superseded: only the newest code counts
            session.add(old)
        challenge = Challenge(user_id=user_id, platform=platform, handle=handle, code=new_code(), created_at=now,
                              expires_at=now + timedelta(minutes=settings.challenge_ttl_minutes))
        session.add(challenge)
        session.commit()
        session.refresh(challenge)
        return challenge


@dataclass(frozen=True)
class LinkResult:
    social_account: SocialAccount
    account: Account  # as the platform shows it now
    found_in: str  # "bio" or the URL of the post that carried the code
    created: bool  # False when an existing link was refreshed
    previous_handle: str | None = None  # set when the handle changed since the last verification


async def check_challenge(db: Database, settings: Settings, provider: SocialProvider, user_id: int,
                          *, now: datetime | None = None) -> LinkResult:
    """Look for the user's open code on the platform; when found, link the account by its stable id."""
    now = now or datetime.now(timezone.utc)
    challenge = await asyncio.to_thread(_open_challenge, db, user_id, provider.platform)
    if challenge is None:
        raise NoChallenge(provider.platform)
    if _aware(challenge.expires_at) <= now:
        raise ChallengeExpired(settings.challenge_ttl_minutes)
    account = await provider.lookup(challenge.handle)
    if account.protected:  # nothing of a protected account can be indexed, so a link would be useless
        raise AccountProtected(provider.platform, account.handle)
    found_in = await provider.find_code(account, challenge.code)
    if found_in is None:
        raise CodeNotFound(provider.platform, account.handle, challenge.code)
    return await asyncio.to_thread(_link, db, user_id, account, challenge.id, found_in, now)


def _open_challenge(db: Database, user_id: int, platform: str) -> Challenge | None:
    with db.session() as session:
        return session.exec(select(Challenge).where(Challenge.user_id == user_id, Challenge.platform == platform,
                                                    Challenge.used_at.is_(None))
                            .order_by(Challenge.created_at.desc(), Challenge.id.desc())).first()


def _link(db: Database, user_id: int, account: Account, challenge_id: int, found_in: str,
          now: datetime) -> LinkResult:
    with db.session() as session:
        existing = session.exec(select(SocialAccount).where(SocialAccount.platform == account.platform,
                                                            SocialAccount.account_id == account.account_id)).first()
        if existing is not None and existing.user_id != user_id:
            raise AlreadyLinked(account.platform, account.handle)
        previous = None
        if existing is None:
            link = SocialAccount(user_id=user_id, platform=account.platform, account_id=account.account_id,
                                 handle=account.handle, profile_url=account.profile_url, verified_at=now)
        else:
            link = existing
            if link.handle != account.handle:
                previous = link.handle
            link.handle, link.profile_url, link.verified_at = account.handle, account.profile_url, now
        challenge = session.get(Challenge, challenge_id)
        challenge.used_at = now
        session.add(link)
        session.add(challenge)
        try:
            session.commit()
        except IntegrityError:  # another user linked the same account at the same moment
            session.rollback()
            raise AlreadyLinked(account.platform, account.handle) from None
        session.refresh(link)
        return LinkResult(link, account, found_in, created=existing is None, previous_handle=previous)


async def refresh_social_account(db: Database, provider: SocialProvider, link: SocialAccount) -> Account:
    """The linked account as the platform shows it now, read by stable id; a changed handle is stored."""
    account = await provider.lookup_id(link.account_id)
    if account.handle != link.handle or account.profile_url != link.profile_url:
        await asyncio.to_thread(_store_handle, db, link.id, account)
        link.handle, link.profile_url = account.handle, account.profile_url
    return account


def _store_handle(db: Database, link_id: int, account: Account) -> None:
    with db.session() as session:
        row = session.get(SocialAccount, link_id)
        if row is not None:
            row.handle, row.profile_url = account.handle, account.profile_url
            session.add(row)
            session.commit()


# portfolio --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortfolioItem:
    post_url: str
    posted_at: datetime | None
    media_url: str
    image_bytes: bytes
    post_id: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class SkippedMedia:
    post_url: str
    media_url: str
    reason: str


@dataclass
class Portfolio:
    """Downloaded images (iterate it like a list) and the ones skipped, each with a reason."""

    items: list[PortfolioItem] = field(default_factory=list)
    skipped: list[SkippedMedia] = field(default_factory=list)

    def __iter__(self) -> Iterator[PortfolioItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> PortfolioItem:
        return self.items[index]


async def iter_portfolio(provider: SocialProvider, account: Account, settings: Settings, *, limit: int = 3200,
                         downloader: MediaDownloader | None = None
                         ) -> AsyncIterator[PortfolioItem | SkippedMedia]:
    """The account's posted images, newest first, downloaded a batch at a time while paging on."""
    own = downloader is None
    downloader = downloader or MediaDownloader.from_settings(settings)
    batch: list[tuple[MediaPost, int]] = []
    batch_size = max(1, settings.media_concurrency) * 4
    try:
        async for post in provider.iter_media_posts(account, limit=limit):
            batch.extend((post, n) for n in range(len(post.media)))
            if len(batch) >= batch_size:
                for item in await _download(downloader, batch):
                    yield item
                batch = []
        for item in await _download(downloader, batch):
            yield item
    finally:
        if own:
            await downloader.aclose()


async def _download(downloader: MediaDownloader, batch: list[tuple[MediaPost, int]]
                    ) -> list[PortfolioItem | SkippedMedia]:
    results = await downloader.fetch_many(post.media[n].url for post, n in batch)
    out: list[PortfolioItem | SkippedMedia] = []
    for (post, n), result in zip(batch, results):
        media = post.media[n]
        if result.ok:
            width, height = (media.width, media.height) if media.width and media.height else _size(result.data)
            out.append(PortfolioItem(post.url, post.posted_at, media.url, result.data, post.post_id, width, height))
        else:
            out.append(SkippedMedia(post.url, media.url, result.error or "unknown error"))
    return out


async def fetch_portfolio(provider: SocialProvider, account: Account, settings: Settings, *, limit: int = 3200,
                          downloader: MediaDownloader | None = None) -> Portfolio:
    """All of the account's posted images (up to `limit` posts); deleted or oversized media are skipped."""
    portfolio = Portfolio()
    async for item in iter_portfolio(provider, account, settings, limit=limit, downloader=downloader):
        if isinstance(item, PortfolioItem):
            portfolio.items.append(item)
        else:
            log.info("skipped %s from %s: %s", item.media_url, item.post_url, item.reason)
            portfolio.skipped.append(item)
    return portfolio


# providers --------------------------------------------------------------------------------------------

def build_providers(settings: Settings, *, backoff: Backoff | None = None) -> dict[str, SocialProvider]:
    """One provider per platform that can work with these settings; each missing one is logged once."""
    from verification.providers.bluesky import BlueskyProvider
    from verification.providers.mastodon import MastodonProvider
    from verification.providers.x import XProvider

    backoff = backoff or Backoff()
    providers: dict[str, SocialProvider] = {}
    token = settings.x_bearer_token.get_secret_value() if settings.x_bearer_token else ""
    makers = {
        "x": (lambda: XProvider(token, settings.x_api_base, backoff=backoff)) if token else None,
        "bluesky": (lambda: BlueskyProvider(settings.bluesky_appview_url, plc_url=settings.bluesky_plc_url,
                                            backoff=backoff))
        if settings.bluesky_appview_url else None,
        "mastodon": (lambda: MastodonProvider(settings.mastodon_instance, _secret(settings.mastodon_access_token),
                                              backoff=backoff,
                                              allow_private_hosts=settings.media_allow_private_hosts))
        if settings.mastodon_instance else None,
    }
    missing = {"x": "X_BEARER_TOKEN is not set", "bluesky": "BLUESKY_APPVIEW_URL is empty",
               "mastodon": "MASTODON_INSTANCE is empty"}
    for platform, make in makers.items():
        if make is None:
            log.warning("%s provider disabled: %s", display_platform(platform), missing[platform])
            continue
        try:
            providers[platform] = make()
        except Exception as exc:  # noqa: BLE001 - a bad setting disables one platform, never the bot
            log.warning("%s provider disabled: %s", display_platform(platform),
                        redact(f"{type(exc).__name__}: {exc}", settings))
    return providers


def _size(data: bytes) -> tuple[int, int]:
    """The picture's size from its header, for platforms that don't state it (older Bluesky posts)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            return probe.size
    except Exception:  # noqa: BLE001 - not readable here: the fingerprinting step gives the reason
        return 0, 0


def _secret(value) -> str | None:
    return value.get_secret_value() if value else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone
