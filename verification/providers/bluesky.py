"""Bluesky through atproto's AsyncClient against a public AppView (no login needed for public reads).

Posts and profiles come from the AppView; the pictures themselves come from the account's own PDS
(com.atproto.sync.getBlob), found in its DID document: the AppView's `fullsize` is a CDN re-encode fitted inside
1000x1000 (bluesky-social/atproto packages/bsky/src/image/uri.ts), weaker evidence than the file as posted."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import unquote, urlencode

import httpx
from atproto_client import AsyncClient
from atproto_client import exceptions as at_errors
from atproto_client.request import AsyncRequest
from atproto_core.did_doc import DidDocument
from atproto_core.exceptions import AtProtocolError

from verification.providers.base import (
    Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialProvider, TextPost, clean_handle, epoch_to_datetime, with_backoff,
)

log = logging.getLogger(__name__)

DEFAULT_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PLC = "https://plc.directory"
# shown instead of a handle once it stops verifying (https://docs.bsky.app/docs/advanced-guides/resolution)
INVALID_HANDLE = "handle.invalid"
PAGE_SIZE = 100
MAX_EMPTY_PAGES = 50  # a feed of nothing but hidden posts still ends
_NOT_FOUND_ERRORS = {"InvalidRequest", "AccountDeactivated", "AccountTakedown", "BlockedActor", "BlockedByActor"}
# the author asked that logged-out viewers (which we are) not be shown their posts
_LOGGED_OUT_OPT_OUT = "!no-unauthenticated"
_IMAGES_VIEW = "app.bsky.embed.images#view"
_RECORD_WITH_MEDIA_VIEW = "app.bsky.embed.recordWithMedia#view"
_REPOST = "app.bsky.feed.defs#reasonRepost"


class BlueskyProvider(SocialProvider):
    platform = "bluesky"

    def __init__(self, appview_url: str = DEFAULT_APPVIEW, *, plc_url: str = DEFAULT_PLC,
                 backoff: Backoff = Backoff(), timeout_s: float = 30.0):
        self._client = AsyncClient(base_url=appview_url or DEFAULT_APPVIEW, request=AsyncRequest(timeout=timeout_s))
        self._plc_url = (plc_url or DEFAULT_PLC).rstrip("/")
        self._identity = httpx.AsyncClient(timeout=min(timeout_s, 10.0), follow_redirects=False)
        self.backoff = backoff

    async def aclose(self) -> None:
        await self._client.request.close()
        await self._identity.aclose()

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
        name = public_name(profile.handle, profile.did)
        return Account(platform=self.platform, account_id=profile.did, handle=name,
                       display_name=profile.display_name or "", bio=profile.description or "",
                       profile_url=f"https://bsky.app/profile/{name}",
                       protected=any(label.val == _LOGGED_OUT_OPT_OUT for label in profile.labels or []))

    async def lookup_id(self, account_id: str) -> Account:
        if not account_id.startswith("did:"):
            raise AccountNotFound(self.platform, account_id)
        return await self.lookup(account_id)

    # posts ---------------------------------------------------------------------------------------------
    async def iter_media_posts(self, account: Account, *, limit: int = 3200) -> AsyncIterator[MediaPost]:
        if account.protected:
            raise AccountProtected(self.platform, account.handle)
        yielded, seen_uris, pds = 0, set(), None
        async for item in self._feed(account, "posts_with_media"):
            post = item.post
            if not self._is_own(item, account) or post.uri in seen_uris:  # pinned posts come twice
                continue
            seen_uris.add(post.uri)
            if pds is None:
                pds = await self.pds_of(account.account_id) or ""
            media = _images(post.embed, getattr(post.record, "embed", None), account.account_id, pds)
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
        """Every page until the AppView gives no cursor: it drops posts it can't show (taken down, blocked) after
        cutting the page, so a page may be short or empty and the feed still go on (getAuthorFeed.ts)."""
        cursor, empty_pages = None, 0
        while True:
            params = {"actor": account.account_id, "filter": feed_filter, "limit": PAGE_SIZE, "cursor": cursor}
            page = await self._call(self._client.app.bsky.feed.get_author_feed, params, account.handle)
            for item in page.feed:
                yield item
            empty_pages = 0 if page.feed else empty_pages + 1
            if not page.cursor or page.cursor == cursor or empty_pages >= MAX_EMPTY_PAGES:
                return
            cursor = page.cursor

    async def pds_of(self, did: str) -> str | None:
        """The account's PDS, from its DID document (#atproto_pds, https://atproto.com/specs/did); None when
        it can't be told, and then the AppView's re-encoded pictures are used instead."""
        url = did_document_url(did, self._plc_url)
        if url is None:
            return None
        try:
            response = await self._identity.get(url)
            if response.status_code != 200:
                raise ValueError(f"answered {response.status_code}")
            document = DidDocument.from_dict(response.json())
            if document.id != did:
                raise ValueError("the document names another DID")
            return document.get_pds_endpoint()
        except Exception as exc:  # noqa: BLE001 - any failure here only weakens the evidence, never the read
            log.warning("no PDS for %s (%s): using the AppView's re-encoded images", did, type(exc).__name__)
            return None

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


def public_name(handle: str, did: str) -> str:
    """The handle, or the DID once the handle stops verifying: links built from `handle.invalid` lead nowhere."""
    return did if not handle or handle == INVALID_HANDLE else handle


def did_document_url(did: str, plc_url: str = DEFAULT_PLC) -> str | None:
    """Where a DID's document is published: the PLC directory for did:plc, the host itself for did:web
    (https://atproto.com/specs/did#blessed-did-methods). did:web hosts must be public names."""
    if re.fullmatch(r"did:plc:[a-z2-7]{24}", did):
        return f"{plc_url}/{did}"
    match = re.fullmatch(r"did:web:([A-Za-z0-9.-]+(?:%3[Aa]\d+)?)", did)
    if match:
        host = unquote(match.group(1)).lower()
        if re.fullmatch(r"([a-z0-9-]+\.)+[a-z]{2,63}", host) and not host.endswith((".local", ".internal")):
            return f"https://{host}/.well-known/did.json"
    return None


def _images(view: Any, record: Any, did: str, pds: str) -> list[MediaItem]:
    """The post's own pictures: the originals on the PDS when it is known (blob CIDs from the record),
    else the AppView's `fullsize` re-encodes. Width and height come from aspectRatio, 0 when the post has none."""
    if view is None:
        return []
    kind = getattr(view, "py_type", "")
    if kind == _RECORD_WITH_MEDIA_VIEW:  # a quote post with its own pictures: keep those, not the quoted ones
        return _images(view.media, getattr(record, "media", None), did, pds)
    if kind != _IMAGES_VIEW:
        return []
    originals = list(getattr(record, "images", None) or [])
    items = []
    for n, image in enumerate(view.images):
        cid = _blob_cid(originals[n].image) if n < len(originals) else None
        url = blob_url(pds, did, cid) if pds and cid else image.fullsize
        ratio = image.aspect_ratio
        items.append(MediaItem(url=url, width=ratio.width if ratio else 0, height=ratio.height if ratio else 0,
                               type="photo"))
    return items


def blob_url(pds: str, did: str, cid: str) -> str:
    """com.atproto.sync.getBlob on the account's PDS: the file exactly as uploaded
    (lexicons/com/atproto/sync/getBlob.json)."""
    return f"{pds.rstrip('/')}/xrpc/com.atproto.sync.getBlob?{urlencode({'did': did, 'cid': cid})}"


def _blob_cid(blob: Any) -> str | None:
    ref = getattr(blob, "ref", None)
    cid = getattr(ref, "link", ref)
    return cid if isinstance(cid, str) and re.fullmatch(r"b[a-z2-7]{20,}", cid) else None


def _post_url(account: Account, uri: str) -> str:
    return f"https://bsky.app/profile/{account.handle}/post/{uri.rsplit('/', 1)[-1]}"


def _created_at(post: Any) -> datetime | None:
    """Since when the post is provably public: the later of the record's `createdAt` and the AppView's `indexedAt`.
    `createdAt` is written by the client and "can be set arbitrarily" (a post can claim 2019), `indexedAt` is when
    the AppView first saw it (https://docs.bsky.app/docs/advanced-guides/timestamps): the earliest post owns a
    work (verification/registry.py), so a backdated record must not win on its own word."""
    times = []
    for value in (getattr(post.record, "created_at", None), post.indexed_at):
        try:
            moment = datetime.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            continue
        if moment is not None:
            times.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return max(times) if times else None


def _xrpc_error(exc: at_errors.RequestErrorBase) -> str:
    content = exc.response.content if exc.response else None
    return getattr(content, "error", "") or ""
