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
    AccessTierLacking, Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost,
    ProviderUnavailable, RateLimited, SocialProvider, TextPost, UsageCapReached, clean_handle, epoch_to_datetime,
    with_backoff,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twitter.com"
TWEEPY_ORIGIN = "https://api.twitter.com"  # tweepy joins every route to this fixed origin
USER_FIELDS = ["description", "protected", "name", "username", "created_at"]
MEDIA_FIELDS = ["url", "type", "width", "height"]
PAGE_SIZE = 100  # the API's maximum per page
# GET /2/users/:id/tweets reaches the 3,200 most recent posts, but only the 800 most recent once any
# exclude=replies is given, and a self-thread (an artist's series) is made of replies: so replies are read and
# only retweets excluded. https://developer.x.com/en/docs/x-api/tweets/timelines/api-reference/get-users-id-tweets
TIMELINE_WINDOW = 3200
TIMELINE_EXCLUDE = ["retweets"]
# note_tweet: the full text of posts over 280 characters (`text` holds only the beginning);
# attachments.media_source_tweet_id + author_id of the expanded source posts: whose reused media is.
# https://developer.x.com/en/docs/x-api/data-dictionary/object-model/tweet
TWEET_FIELDS = ["created_at", "referenced_tweets", "attachments", "author_id", "in_reply_to_user_id", "note_tweet"]
TIMELINE_EXPANSIONS = ["attachments.media_keys", "attachments.media_source_tweet"]
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_PROBLEMS = "https://api.twitter.com/2/problems/"
_NOT_AUTHORIZED = _PROBLEMS + "not-authorized-for-resource"
_USAGE_CAPPED = _PROBLEMS + "usage-capped"
_CLIENT_FORBIDDEN = _PROBLEMS + "client-forbidden"
_ROUTES = [(re.compile(r"^/2/users/by/username/[^/]+$"), "/2/users/by/username/:username"),
           (re.compile(r"^/2/users/\d+/tweets$"), "/2/users/:id/tweets"),
           (re.compile(r"^/2/users/\d+$"), "/2/users/:id")]


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
                problem = await _problem(exc)
                if problem.get("type") == _USAGE_CAPPED or problem.get("title") == "UsageCapExceeded":
                    # the plan's cap (monthly), not the 15-minute window the x-rate-limit-* headers describe:
                    # no retry, and no reset time we could honestly quote
                    raise UsageCapReached(self.platform, problem.get("period") or "monthly") from None
                raise RateLimited(self.platform, epoch_to_datetime(exc.reset_time)) from None
            except tweepy.Forbidden as exc:
                if (await _problem(exc)).get("type") == _CLIENT_FORBIDDEN:
                    raise AccessTierLacking(self.platform, _route(exc.response)) from None
                raise AuthFailed(self.platform) from None
            except tweepy.Unauthorized:
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
        token, yielded, pages = None, 0, 0
        while yielded < limit and pages < TIMELINE_WINDOW // PAGE_SIZE + 1:
            response = await self._call(
                self._client.get_users_tweets, id=account.account_id, exclude=TIMELINE_EXCLUDE,
                expansions=TIMELINE_EXPANSIONS, media_fields=MEDIA_FIELDS, tweet_fields=TWEET_FIELDS,
                max_results=PAGE_SIZE, pagination_token=token)
            pages += 1
            self._raise_for_errors(response, account)
            media_by_key = {m.media_key: m for m in response.includes.get("media", [])}
            sources = {str(t.id): t for t in response.includes.get("tweets", [])}
            for tweet in response.data or []:
                post = self._media_post(tweet, media_by_key, sources, account)
                if post is not None:
                    yield post
                    yielded += 1
                    if yielded >= limit:
                        return
            # excluded retweets still fill pages, so a page may come back empty: only a missing token ends it
            token = response.meta.get("next_token")
            if not token:
                return

    async def recent_posts(self, account: Account, *, limit: int = 40) -> list[TextPost]:
        response = await self._call(self._client.get_users_tweets, id=account.account_id, exclude=TIMELINE_EXCLUDE,
                                    tweet_fields=["created_at", "note_tweet"],
                                    max_results=max(5, min(limit, PAGE_SIZE)))
        self._raise_for_errors(response, account)
        return [TextPost(str(t.id), self._post_url(account, t.id), full_text(t)) for t in (response.data or [])]

    def _raise_for_errors(self, response: tweepy.Response, account: Account) -> None:
        if response.data is None and response.errors:
            if any(e.get("type") == _NOT_AUTHORIZED for e in response.errors):
                raise AccountProtected(self.platform, account.handle)
            raise AccountNotFound(self.platform, account.handle)

    def _media_post(self, tweet: tweepy.Tweet, media_by_key: dict, sources: dict, account: Account
                    ) -> MediaPost | None:
        if any(ref.type == "retweeted" for ref in tweet.referenced_tweets or []):
            return None  # belt and braces: exclude=retweets already asks the server to leave them out
        if tweet.author_id is not None and str(tweet.author_id) != account.account_id:
            return None
        attachments = tweet.attachments or {}
        for source_id in attachments.get("media_source_tweet_id") or []:
            source = sources.get(str(source_id))
            # media reused from another post counts only when that post is the artist's own; a source we can't
            # see (deleted, protected) proves nothing
            if source is None or str(source.author_id) != account.account_id:
                return None
        keys = attachments.get("media_keys", [])
        media = [MediaItem(original_size_url(m.url), m.width or 0, m.height or 0, m.type)
                 for m in (media_by_key.get(k) for k in keys) if m is not None and m.type == "photo" and m.url]
        if not media:
            return None
        return MediaPost(post_id=str(tweet.id), url=self._post_url(account, tweet.id), posted_at=tweet.created_at,
                         media=media, text=full_text(tweet))

    @staticmethod
    def _post_url(account: Account, tweet_id: Any) -> str:
        return f"https://x.com/{account.handle}/status/{tweet_id}"


def full_text(tweet: tweepy.Tweet) -> str:
    """A long post's whole text is in note_tweet; `text` holds only its first 280 characters."""
    note = (tweet.data or {}).get("note_tweet") or {}
    return note.get("text") or tweet.text or ""


async def _problem(exc: tweepy.HTTPException) -> dict:
    """The problem object of an error answer (https://developer.x.com/en/support/x-api/error-troubleshooting):
    tweepy keeps only its `errors` list, but the body is already read and cached by aiohttp."""
    try:
        body = await exc.response.json(content_type=None)
    except Exception:  # noqa: BLE001 - no or broken body: no problem details
        return {}
    return body if isinstance(body, dict) else {}


def _route(response: Any) -> str:
    """The documented name of the endpoint a response answered (ids removed), for the admin's message."""
    path = urlsplit(str(getattr(response, "url", ""))).path
    for pattern, name in _ROUTES:
        if pattern.match(path):
            return name
    return path


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
