"""Mastodon through Mastodon.py. The library is synchronous (requests), so every call runs in a worker thread."""
from __future__ import annotations

import asyncio
import html
import ipaddress
import re
from datetime import timezone
from functools import partial
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlsplit

from mastodon import (
    Mastodon, MastodonError, MastodonNetworkError, MastodonNotFoundError, MastodonRatelimitError,
    MastodonServerError, MastodonUnauthorizedError,
)
from mastodon.errors import MastodonAPIError

from verification.providers.base import (
    Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialProvider, TextPost, clean_handle, epoch_to_datetime, with_backoff,
)

DEFAULT_INSTANCE = "https://mastodon.social"
PAGE_SIZE = 40  # the API's maximum for account statuses
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


class MastodonProvider(SocialProvider):
    """Reads public accounts. Stable ids are `<account id>@<instance host>` of the instance that answered.

    With `follow_home_instance`, `alice@example.social` is read from example.social itself (complete and
    authoritative) rather than from the configured instance, which only knows what federated to it.
    The access token is only ever sent to the configured instance."""

    platform = "mastodon"

    def __init__(self, instance: str = DEFAULT_INSTANCE, access_token: str | None = None, *,
                 backoff: Backoff = Backoff(), timeout_s: float = 30.0, follow_home_instance: bool = True):
        self._instance = _base_url(instance or DEFAULT_INSTANCE)
        self._token = access_token or None
        self._timeout_s = timeout_s
        self._follow_home = follow_home_instance
        self._apis: dict[str, Mastodon] = {}
        self.backoff = backoff

    @property
    def instance_host(self) -> str:
        return urlsplit(self._instance).netloc.lower()

    def _api(self, base: str) -> Mastodon:
        if base not in self._apis:
            # "throw": Mastodon.py would otherwise sleep inside the thread for as long as the server says;
            # version checks stay off so no extra request is made at construction
            self._apis[base] = Mastodon(api_base_url=base, access_token=self._token if base == self._instance else None,
                                        ratelimit_method="throw", request_timeout=self._timeout_s,
                                        version_check_mode="none", user_agent="mimic-bot")
        return self._apis[base]

    async def aclose(self) -> None:
        for api in self._apis.values():
            api.session.close()
        self._apis.clear()

    async def _call(self, base: str, fn: Callable[[Mastodon], Any], asked: str) -> Any:
        api = self._api(base)

        async def once() -> Any:
            try:
                return await asyncio.to_thread(fn, api)
            except MastodonRatelimitError:
                raise RateLimited(self.platform, epoch_to_datetime(api.ratelimit_reset)) from None
            except MastodonNotFoundError:
                raise AccountNotFound(self.platform, asked) from None
            except MastodonUnauthorizedError:
                raise AuthFailed(self.platform) from None
            except (MastodonNetworkError, MastodonServerError):
                raise ProviderUnavailable(self.platform) from None
            except MastodonAPIError as exc:
                if _status(exc) == 410:  # suspended or deleted
                    raise AccountNotFound(self.platform, asked) from None
                raise ProviderUnavailable(self.platform, "unexpected answer") from None
            except MastodonError:
                raise ProviderUnavailable(self.platform) from None

        return await with_backoff(once, self.backoff)

    # accounts ------------------------------------------------------------------------------------------
    async def lookup(self, handle: str) -> Account:
        parsed = parse_handle(handle)
        if parsed is None:
            raise AccountNotFound(self.platform, clean_handle(handle))
        user, domain = parsed
        base, acct = self._instance, user if domain in (None, self.instance_host) else f"{user}@{domain}"
        if domain and domain != self.instance_host and self._follow_home and _public_hostname(domain):
            base, acct = f"https://{domain}", user
        found = await self._call(base, lambda api: api.account_lookup(acct), clean_handle(handle))
        return self._account(found, base)

    async def lookup_id(self, account_id: str) -> Account:
        local_id, _, host = str(account_id).rpartition("@")
        if not local_id.isdigit():
            raise AccountNotFound(self.platform, account_id)
        if host == self.instance_host:
            base = self._instance
        elif _public_hostname(host):
            base = f"https://{host}"
        else:
            raise AccountNotFound(self.platform, account_id)
        found = await self._call(base, lambda api: api.account(local_id), account_id)
        return self._account(found, base)

    def _account(self, found: Any, base: str) -> Account:
        host = urlsplit(base).netloc.lower()
        acct = found.acct if "@" in found.acct else f"{found.acct}@{host}"
        return Account(platform=self.platform, account_id=f"{found.id}@{host}", handle=acct,
                       display_name=found.display_name or "", bio=html_to_text(found.note or ""),
                       profile_url=found.url or "", protected=bool(found.locked))

    # posts ---------------------------------------------------------------------------------------------
    def _split_id(self, account: Account) -> tuple[str, str]:
        local_id, _, host = account.account_id.rpartition("@")
        return local_id, self._instance if host == self.instance_host else f"https://{host}"

    async def iter_media_posts(self, account: Account, *, limit: int = 3200) -> AsyncIterator[MediaPost]:
        if account.protected:  # locked accounts mostly post to followers only, which we cannot see
            raise AccountProtected(self.platform, account.handle)
        local_id, base = self._split_id(account)
        page = await self._call(base, lambda api: api.account_statuses(
            local_id, only_media=True, exclude_reblogs=True, limit=PAGE_SIZE), account.handle)
        yielded = 0
        while page:
            for status in page:
                post = _media_post(status, local_id)
                if post is not None:
                    yield post
                    yielded += 1
                    if yielded >= limit:
                        return
            page = await self._call(base, partial(_fetch_next, page), account.handle)

    async def recent_posts(self, account: Account, *, limit: int = 40) -> list[TextPost]:
        local_id, base = self._split_id(account)
        page = await self._call(base, lambda api: api.account_statuses(
            local_id, exclude_reblogs=True, limit=max(1, min(limit, PAGE_SIZE))), account.handle)
        return [TextPost(str(s.id), s.url or s.uri or "", html_to_text(s.content or "")) for s in page
                if not s.reblog and str(s.account.id) == local_id]


def _fetch_next(page: Any, api: Mastodon) -> Any:
    return api.fetch_next(page)


def _media_post(status: Any, local_id: str) -> MediaPost | None:
    if status.reblog or str(status.account.id) != local_id:
        return None  # exclude_reblogs already asks the server to leave boosts out
    media = []
    for attachment in status.media_attachments or []:
        if attachment.type != "image" or not attachment.url:
            continue
        original = (attachment.get("meta") or {}).get("original") or {}
        media.append(MediaItem(url=attachment.url, width=int(original.get("width") or 0),
                               height=int(original.get("height") or 0), type="photo"))
    if not media:
        return None
    posted_at = status.created_at.astimezone(timezone.utc) if status.created_at else None  # library gives local time
    return MediaPost(post_id=str(status.id), url=status.url or status.uri or "", posted_at=posted_at,
                     media=media, text=html_to_text(status.content or ""))


def parse_handle(handle: str) -> tuple[str, str | None] | None:
    """`@alice@example.social`, `alice@example.social`, `alice` or `https://example.social/@alice`
    -> ("alice", "example.social" or None)."""
    handle = (handle or "").strip()
    if handle.startswith(("http://", "https://")):
        parts = urlsplit(handle)
        user = parts.path.strip("/").split("/")[0].lstrip("@")
        return (user, parts.netloc.lower()) if user else None
    handle = clean_handle(handle)
    user, _, domain = handle.partition("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,30}", user):
        return None
    return user, (domain.lower() or None)


def html_to_text(markup: str) -> str:
    """Mastodon bios and posts are HTML; codes must be found in what a reader sees."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", markup, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _base_url(instance: str) -> str:
    instance = instance.strip().rstrip("/")
    return instance if "://" in instance else f"https://{instance}"


def _public_hostname(host: str) -> bool:
    """A remote instance named by a user must look like a public DNS name: no IP literals, no local names."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False
    except ValueError:
        pass
    host = host.lower()
    return bool(_HOSTNAME.match(host)) and not host.endswith((".local", ".internal", ".localhost", ".lan"))


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
