"""X (Twitter) through tweepy's AsyncClient with an app-only bearer token (API v2)."""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from verification.providers.base import (
    Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialProvider, TextPost, clean_handle, epoch_to_datetime, with_backoff,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twitter.com"
TWEEPY_ORIGIN = "https://api.twitter.com"  # tweepy joins every route to this fixed origin
USER_FIELDS = ["description", "protected", "name", "username", "created_at"]
MEDIA_FIELDS = ["url", "type", "width", "height"]
PAGE_SIZE = 100  # the API's maximum per page
TIMELINE_WINDOW = 3200  # the API serves at most the 3,200 most recent posts of a user
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_NOT_AUTHORIZED = "https://api.twitter.com/2/problems/not-authorized-for-resource"


class _HideRequestDebug(logging.Filter):
    """tweepy's debug log prints request headers, bearer token included: those records never pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Authorization" not in str(record.msg)


def _guard_tweepy_log() -> None:
    tweepy_log = logging.getLogger("tweepy.asynchronous.client")
    if not any(isinstance(f, _HideRequestDebug) for f in tweepy_log.filters):
        tweepy_log.addFilter(_HideRequestDebug())


class RebasedSession:
    """tweepy's AsyncClient builds absolute URLs on https://api.twitter.com; its documented `session` attribute
    is the seam we use: every request goes through this adapter, which swaps that origin for `api_base`."""

    def __init__(self, session: aiohttp.ClientSession, api_base: str):
        self._session = session
        self._api_base = api_base.rstrip("/")

    def request(self, method: str, url: Any, **kwargs: Any):
        url = str(url)
        if url.startswith(TWEEPY_ORIGIN):
            url = self._api_base + url[len(TWEEPY_ORIGIN):]
        return self._session.request(method, url, **kwargs)

    async def close(self) -> None:
        await self._session.close()


class XProvider(SocialProvider):
    platform = "x"

    def __init__(self, bearer_token: str, api_base: str = DEFAULT_API_BASE, *, backoff: Backoff = Backoff(),
                 timeout_s: float = 30.0):
        _guard_tweepy_log()
        # wait_on_rate_limit stays off: tweepy would sleep for as long as the server says; we bound the wait
        self._client = AsyncClient(bearer_token=bearer_token, wait_on_rate_limit=False)
        self._api_base = api_base or DEFAULT_API_BASE
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.backoff = backoff

    def _ensure_session(self) -> None:
        if self._client.session is None:  # an aiohttp session must be created inside the running loop
            self._client.session = RebasedSession(aiohttp.ClientSession(timeout=self._timeout), self._api_base)

    async def aclose(self) -> None:
        if self._client.session is not None:
            await self._client.session.close()
            self._client.session = None

    async def _call(self, method: Callable[..., Awaitable[tweepy.Response]], **params: Any) -> tweepy.Response:
        self._ensure_session()

        async def once() -> tweepy.Response:
            try:
                return await method(**params)
            except tweepy.TooManyRequests as exc:
                raise RateLimited(self.platform, epoch_to_datetime(exc.reset_time)) from None
            except (tweepy.Unauthorized, tweepy.Forbidden):
                raise AuthFailed(self.platform) from None
            except tweepy.TwitterServerError as exc:
                raise ProviderUnavailable(self.platform, f"server error {exc.response.status}") from None
            except tweepy.HTTPException as exc:
                raise ProviderUnavailable(self.platform, f"unexpected answer {exc.response.status}") from None
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise ProviderUnavailable(self.platform, type(exc).__name__) from None

        return await with_backoff(once, self.backoff)

    # accounts ------------------------------------------------------------------------------------------
    async def lookup(self, handle: str) -> Account:
        handle = normalise_handle(handle)
        if not _USERNAME.match(handle):  # the API would answer 400; this is simply not an X handle
            raise AccountNotFound(self.platform, handle)
        response = await self._call(self._client.get_user, username=handle, user_fields=USER_FIELDS)
        return self._account(response, handle)

    async def lookup_id(self, account_id: str) -> Account:
        if not str(account_id).isdigit():
            raise AccountNotFound(self.platform, str(account_id))
        response = await self._call(self._client.get_user, id=account_id, user_fields=USER_FIELDS)
        return self._account(response, str(account_id))

    def _account(self, response: tweepy.Response, asked: str) -> Account:
        user = response.data
        if user is None:  # not found and suspended users come back as 200 with `errors`
            raise AccountNotFound(self.platform, asked)
        return Account(platform=self.platform, account_id=str(user.id), handle=user.username,
                       display_name=user.name or "", bio=user.description or "",
                       profile_url=f"https://x.com/{user.username}", protected=bool(user.protected))

    # posts ---------------------------------------------------------------------------------------------
    async def iter_media_posts(self, account: Account, *, limit: int = TIMELINE_WINDOW) -> AsyncIterator[MediaPost]:
        if account.protected:
            raise AccountProtected(self.platform, account.handle)
        token, seen, yielded = None, 0, 0
        while yielded < limit and seen < TIMELINE_WINDOW:
            response = await self._call(
                self._client.get_users_tweets, id=account.account_id, exclude=["retweets", "replies"],
                expansions=["attachments.media_keys"], media_fields=MEDIA_FIELDS,
                tweet_fields=["created_at", "referenced_tweets", "attachments"], max_results=PAGE_SIZE,
                pagination_token=token)
            self._raise_for_errors(response, account)
            media_by_key = {m.media_key: m for m in response.includes.get("media", [])}
            for tweet in response.data or []:
                seen += 1
                post = self._media_post(tweet, media_by_key, account)
                if post is not None:
                    yield post
                    yielded += 1
                    if yielded >= limit:
                        return
            token = response.meta.get("next_token")
            if not token or not response.data:
                return

    async def recent_posts(self, account: Account, *, limit: int = 40) -> list[TextPost]:
        response = await self._call(self._client.get_users_tweets, id=account.account_id, exclude=["retweets"],
                                    tweet_fields=["created_at"], max_results=max(5, min(limit, PAGE_SIZE)))
        self._raise_for_errors(response, account)
        return [TextPost(str(t.id), self._post_url(account, t.id), t.text or "") for t in (response.data or [])]

    def _raise_for_errors(self, response: tweepy.Response, account: Account) -> None:
        if response.data is None and response.errors:
            if any(e.get("type") == _NOT_AUTHORIZED for e in response.errors):
                raise AccountProtected(self.platform, account.handle)
            raise AccountNotFound(self.platform, account.handle)

    def _media_post(self, tweet: tweepy.Tweet, media_by_key: dict, account: Account) -> MediaPost | None:
        if any(ref.type == "retweeted" for ref in tweet.referenced_tweets or []):
            return None  # belt and braces: exclude=retweets already asks the server to leave them out
        keys = (tweet.attachments or {}).get("media_keys", [])
        media = [MediaItem(original_size_url(m.url), m.width or 0, m.height or 0, m.type)
                 for m in (media_by_key.get(k) for k in keys) if m is not None and m.type == "photo" and m.url]
        if not media:
            return None
        return MediaPost(post_id=str(tweet.id), url=self._post_url(account, tweet.id), posted_at=tweet.created_at,
                         media=media, text=tweet.text or "")

    @staticmethod
    def _post_url(account: Account, tweet_id: Any) -> str:
        return f"https://x.com/{account.handle}/status/{tweet_id}"


def normalise_handle(handle: str) -> str:
    """`@alice`, `alice` or a profile link (x.com / twitter.com) all mean `alice`."""
    handle = clean_handle(handle)
    match = re.match(r"^(?:https?://)?(?:www\.|mobile\.)?(?:x|twitter)\.com/([^/?#]+)", handle, re.I)
    return clean_handle(match.group(1)) if match else handle


def original_size_url(url: str) -> str:
    """X's media CDN serves a downscaled picture unless asked for the original."""
    parts = urlsplit(url)
    if parts.hostname == "pbs.twimg.com" and not parts.query:
        return url + "?name=orig"
    return url
