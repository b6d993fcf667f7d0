"""The one small interface every social platform is read through, its value types and its errors.

Every error carries a sentence that can be shown to a user as is; none ever contains a token."""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from abc import ABC, abstractmethod
from typing import AsyncIterator, Awaitable, Callable, TypeVar

T = TypeVar("T")


# values ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str  # the platform's stable id (X user id, Bluesky DID, Mastodon id@instance): handles change
    handle: str
    display_name: str = ""
    bio: str = ""
    profile_url: str = ""
    protected: bool = False  # posts not publicly visible: nothing can be indexed
    fields: tuple[tuple[str, str], ...] = ()  # profile fields (name, value) as shown, where a platform has them


@dataclass(frozen=True)
class MediaItem:
    url: str  # full-size image URL
    width: int = 0
    height: int = 0
    type: str = "photo"


@dataclass(frozen=True)
class MediaPost:
    post_id: str
    url: str  # the public web page of the post
    posted_at: datetime | None
    media: list[MediaItem] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True)
class TextPost:
    """A recent post of any kind, read when looking for a challenge code."""

    post_id: str
    url: str
    text: str


# errors ------------------------------------------------------------------------------------------------

class SocialError(Exception):
    """Base of every error of the ownership flow; `str(error)` is a polite sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AccountNotFound(SocialError):
    def __init__(self, platform: str, handle: str):
        super().__init__(f"I couldn't find the {display_platform(platform)} account {handle!r}. "
                         "Please check the spelling of the handle.")
        self.platform, self.handle = platform, handle


class AccountProtected(SocialError):
    def __init__(self, platform: str, handle: str):
        super().__init__(f"The {display_platform(platform)} account {handle!r} is protected, so its posts can't be "
                         "read publicly. Make its posts public, then try again.")
        self.platform, self.handle = platform, handle


class AccountSuspended(SocialError):
    def __init__(self, platform: str, handle: str):
        super().__init__(f"The {display_platform(platform)} account {handle!r} has been suspended by its server, "
                         "so it can't be verified or read.")
        self.platform, self.handle = platform, handle


class ProviderUnavailable(SocialError):
    def __init__(self, platform: str, detail: str = ""):
        super().__init__(f"{display_platform(platform)} can't be reached right now"
                         f"{f' ({detail})' if detail else ''}. Please try again in a few minutes.")
        self.platform = platform


class RateLimited(SocialError):
    def __init__(self, platform: str, reset_at: datetime | None):
        when = f" after {reset_at:%H:%M} UTC" if reset_at else " in a few minutes"
        super().__init__(f"{display_platform(platform)} asked us to slow down. Please try again{when}.")
        self.platform, self.reset_at = platform, reset_at


class UsageCapReached(SocialError):
    """The bot's app has spent a usage cap of its plan (X: the monthly post cap). Waiting minutes won't help and
    retrying only burns requests, so it is never retried; the message is for the user and the admin alike."""

    def __init__(self, platform: str, period: str = "monthly"):
        period = (period or "monthly").lower()
        super().__init__(f"The bot's {display_platform(platform)} app has used up its {period} API usage cap "
                         f"(a limit on the bot's app, not on you), so {display_platform(platform)} can't be read "
                         f"until the cap resets with the app's next {period} billing period. Please tell an "
                         "administrator; trying again sooner won't help.")
        self.platform, self.period = platform, period


class AccessTierLacking(SocialError):
    """The platform refused the bot's app this endpoint: its access tier (plan) doesn't include it."""

    def __init__(self, platform: str, endpoint: str = ""):
        where = f" ({endpoint})" if endpoint else ""
        super().__init__(f"The bot's {display_platform(platform)} app isn't allowed to use this part of the "
                         f"{display_platform(platform)} API{where}: its access tier doesn't include it. An "
                         "administrator needs to move the app to an access level that does, in the platform's "
                         "developer portal.")
        self.platform, self.endpoint = platform, endpoint


class AuthFailed(SocialError):
    def __init__(self, platform: str):
        super().__init__(f"The bot's {display_platform(platform)} credentials were refused (expired or invalid). "
                         "An administrator needs to renew them.")
        self.platform = platform


# the interface -----------------------------------------------------------------------------------------

class SocialProvider(ABC):
    """One platform. Implementations translate their library's errors into the SocialError family."""

    platform: str

    @abstractmethod
    async def lookup(self, handle: str) -> Account:
        """The account behind a handle; AccountNotFound when there is none."""

    @abstractmethod
    async def lookup_id(self, account_id: str) -> Account:
        """The account behind a stable id (its current handle may differ from the stored one)."""

    @abstractmethod
    def iter_media_posts(self, account: Account, *, limit: int = 3200) -> AsyncIterator[MediaPost]:
        """The account's own posts that carry images, newest first, reposts excluded, at most `limit` posts.
        AccountProtected when the posts are not public."""

    @abstractmethod
    async def recent_posts(self, account: Account, *, limit: int = 40) -> list[TextPost]:
        """The account's most recent own posts of any kind (where challenge codes are looked for)."""

    async def find_code(self, account: Account, code: str) -> str | None:
        """Where `code` appears: "bio" (the bio or a profile field), or the URL of a recent post; None when
        nowhere."""
        if contains_code(account.bio, code) or any(contains_code(value, code) or contains_code(name, code)
                                                   for name, value in account.fields):
            return "bio"
        if account.protected:
            raise AccountProtected(self.platform, account.handle)
        for post in await self.recent_posts(account):
            if contains_code(post.text, code):
                return post.url
        return None

    async def aclose(self) -> None:
        """Release HTTP sessions."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


def contains_code(text: str, code: str) -> bool:
    """Case- and separator-insensitive: people retype codes, platforms linkify or reflow them."""
    wanted = _letters_digits(code)
    return bool(wanted) and wanted in _letters_digits(text)


def _letters_digits(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


# helpers shared by the providers -----------------------------------------------------------------------

PLATFORM_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}


def display_platform(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def clean_handle(handle: str) -> str:
    return (handle or "").strip().lstrip("@").strip()


@dataclass(frozen=True)
class Backoff:
    """How long we are willing to wait for a rate limit to reset before giving up politely."""

    max_wait_s: float = 900.0  # X's windows are 15 minutes
    max_attempts: int = 4
    fallback_wait_s: float = 5.0  # when the server gives no reset time


async def with_backoff(call: Callable[[], Awaitable[T]], backoff: Backoff,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run `call`, waiting out RateLimited errors whose reset lies within the allowed wait."""
    attempt = 0
    while True:
        try:
            return await call()
        except RateLimited as exc:
            attempt += 1
            if exc.reset_at is not None:
                wait = max(0.0, exc.reset_at.timestamp() - time.time()) + 0.05
            else:
                wait = backoff.fallback_wait_s * attempt
            if attempt >= backoff.max_attempts or wait > backoff.max_wait_s:
                raise
            await sleep(wait)


def epoch_to_datetime(value: str | int | float | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
