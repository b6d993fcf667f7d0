"""Bluesky through atproto's AsyncClient against a public AppView (no login needed for public reads)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
from atproto_client import AsyncClient
from atproto_client import exceptions as at_errors
from atproto_client.request import AsyncRequest
from atproto_core.exceptions import AtProtocolError

from verification.providers.base import (
    Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialProvider, TextPost, clean_handle, epoch_to_datetime, with_backoff,
)

DEFAULT_APPVIEW = "https://public.api.bsky.app"
PAGE_SIZE = 100
_NOT_FOUND_ERRORS = {"InvalidRequest", "AccountDeactivated", "AccountTakedown", "BlockedActor", "BlockedByActor"}
# the author asked that logged-out viewers (which we are) not be shown their posts
_LOGGED_OUT_OPT_OUT = "!no-unauthenticated"
_IMAGES_VIEW = "app.bsky.embed.images#view"
_RECORD_WITH_MEDIA_VIEW = "app.bsky.embed.recordWithMedia#view"
_REPOST = "app.bsky.feed.defs#reasonRepost"


class BlueskyProvider(SocialProvider):
    platform = "bluesky"

    def __init__(self, appview_url: str = DEFAULT_APPVIEW, *, backoff: Backoff = Backoff(),
                 timeout_s: float = 30.0):
        self._client = AsyncClient(base_url=appview_url or DEFAULT_APPVIEW, request=AsyncRequest(timeout=timeout_s))
        self.backoff = backoff

    async def aclose(self) -> None:
        await self._client.request.close()

    async def _call(self, method: Callable[..., Awaitable[Any]], params: dict, asked: str) -> Any:
        async def once() -> Any:
            try:
                return await method(params={k: v for k, v in params.items() if v is not None})
            except at_errors.RateLimitExceededError as exc:
                headers = exc.response.headers if exc.response else {}
                raise RateLimited(self.platform, epoch_to_datetime(headers.get("ratelimit-reset"))) from None
            except at_errors.BadRequestError as exc:
                if _xrpc_error(exc) in _NOT_FOUND_ERRORS:
                    raise AccountNotFound(self.platform, asked) from None
                raise ProviderUnavailable(self.platform, "unexpected answer") from None
            except at_errors.UnauthorizedError:
                raise AuthFailed(self.platform) from None
            except (at_errors.NetworkError, at_errors.RequestException, httpx.HTTPError):
                raise ProviderUnavailable(self.platform) from None
            except AtProtocolError:  # e.g. a response that does not fit the lexicon
                raise ProviderUnavailable(self.platform, "unexpected answer") from None

        return await with_backoff(once, self.backoff)

    # accounts ------------------------------------------------------------------------------------------
    async def lookup(self, handle: str) -> Account:
        actor = normalise_handle(handle)
        if not actor:
            raise AccountNotFound(self.platform, handle)
        profile = await self._call(self._client.app.bsky.actor.get_profile, {"actor": actor}, actor)
        return Account(platform=self.platform, account_id=profile.did, handle=profile.handle,
                       display_name=profile.display_name or "", bio=profile.description or "",
                       profile_url=f"https://bsky.app/profile/{profile.handle}",
                       protected=any(label.val == _LOGGED_OUT_OPT_OUT for label in profile.labels or []))

    async def lookup_id(self, account_id: str) -> Account:
        if not account_id.startswith("did:"):
            raise AccountNotFound(self.platform, account_id)
        return await self.lookup(account_id)

    # posts ---------------------------------------------------------------------------------------------
    async def iter_media_posts(self, account: Account, *, limit: int = 3200) -> AsyncIterator[MediaPost]:
        if account.protected:
            raise AccountProtected(self.platform, account.handle)
        yielded, seen_uris = 0, set()
        async for item in self._feed(account, "posts_with_media"):
            post = item.post
            if not self._is_own(item, account) or post.uri in seen_uris:  # pinned posts come twice
                continue
            seen_uris.add(post.uri)
            media = _images(post.embed)
            if not media:
                continue
            yield MediaPost(post_id=post.uri, url=_post_url(account, post.uri), posted_at=_created_at(post),
                            media=media, text=getattr(post.record, "text", "") or "")
            yielded += 1
            if yielded >= limit:
                return

    async def recent_posts(self, account: Account, *, limit: int = 40) -> list[TextPost]:
        params = {"actor": account.account_id, "filter": "posts_with_replies", "limit": max(1, min(limit, PAGE_SIZE))}
        page = await self._call(self._client.app.bsky.feed.get_author_feed, params, account.handle)
        return [TextPost(item.post.uri, _post_url(account, item.post.uri), getattr(item.post.record, "text", "") or "")
                for item in page.feed if self._is_own(item, account)]

    async def _feed(self, account: Account, feed_filter: str) -> AsyncIterator[Any]:
        cursor = None
        while True:
            params = {"actor": account.account_id, "filter": feed_filter, "limit": PAGE_SIZE, "cursor": cursor}
            page = await self._call(self._client.app.bsky.feed.get_author_feed, params, account.handle)
            for item in page.feed:
                yield item
            cursor = page.cursor
            if not cursor or not page.feed:
                return

    @staticmethod
    def _is_own(item: Any, account: Account) -> bool:
        """Original posts only: a repost carries a reason, and its post belongs to someone else."""
        if item.reason is not None and getattr(item.reason, "py_type", "") == _REPOST:
            return False
        return item.post.author.did == account.account_id


def normalise_handle(handle: str) -> str:
    """`@Alice.bsky.social`, `alice` or a bsky.app profile link all mean `alice.bsky.social`."""
    handle = clean_handle(handle)
    if "bsky.app/profile/" in handle:
        handle = handle.split("bsky.app/profile/", 1)[1].split("/", 1)[0]
    if handle.startswith("did:"):
        return handle
    handle = handle.lower()
    if handle and "." not in handle:
        handle += ".bsky.social"
    return handle


def _images(embed: Any) -> list[MediaItem]:
    if embed is None:
        return []
    kind = getattr(embed, "py_type", "")
    if kind == _RECORD_WITH_MEDIA_VIEW:  # a quote post with its own pictures: keep those, not the quoted ones
        return _images(embed.media)
    if kind != _IMAGES_VIEW:
        return []
    items = []
    for image in embed.images:
        ratio = image.aspect_ratio
        items.append(MediaItem(url=image.fullsize, width=ratio.width if ratio else 0,
                               height=ratio.height if ratio else 0, type="photo"))
    return items


def _post_url(account: Account, uri: str) -> str:
    return f"https://bsky.app/profile/{account.handle}/post/{uri.rsplit('/', 1)[-1]}"


def _created_at(post: Any) -> datetime | None:
    for value in (getattr(post.record, "created_at", None), post.indexed_at):
        if not value:
            continue
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return None


def _xrpc_error(exc: at_errors.RequestErrorBase) -> str:
    content = exc.response.content if exc.response else None
    return getattr(content, "error", "") or ""
