"""Mastodon through Mastodon.py. The library is synchronous (requests), so every call runs in a worker thread.

Handles name the server's LOCAL_DOMAIN, which may differ from the host its API lives on (WEB_DOMAIN): WebFinger
on the handle's domain says where the account really is (https://docs.joinmastodon.org/spec/webfinger/)."""
from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import re
import warnings
from datetime import timezone
from functools import partial
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp

from mastodon import (
    Mastodon, MastodonError, MastodonNetworkError, MastodonNotFoundError, MastodonRatelimitError,
    MastodonServerError, MastodonUnauthorizedError,
)
from mastodon.errors import MastodonAPIError

from verification.media import PublicOnlyResolver
from verification.providers.base import (
    Account, AccountNotFound, AccountSuspended, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialProvider, TextPost, clean_handle, epoch_to_datetime, with_backoff,
)

log = logging.getLogger(__name__)

DEFAULT_INSTANCE = "https://mastodon.social"
PAGE_SIZE = 40  # the API's maximum for account statuses
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
# Mastodon's own usernames are [a-z0-9_]; other fediverse servers (Pixelfed, GoToSocial, Misskey forks) allow
# `.` and `-` inside them, which Mastodon accepts for remote accounts (app/models/account.rb USERNAME_RE)
_USERNAME = re.compile(r"(?=.{1,64}$)[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*")
_ACTIVITY_TYPES = {"application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
_WEBFINGER_MAX_BYTES = 64 * 1024
_MAX_REDIRECTS = 3


class MastodonProvider(SocialProvider):
    """Reads public accounts. Stable ids are `<account id>@<instance host>` of the instance that answered.

    With `follow_home_instance`, `alice@example.social` is read from example.social itself (complete and
    authoritative) rather than from the configured instance, which only knows what federated to it.
    The access token is only ever sent to the configured instance."""

    platform = "mastodon"

    def __init__(self, instance: str = DEFAULT_INSTANCE, access_token: str | None = None, *,
                 backoff: Backoff = Backoff(), timeout_s: float = 30.0, follow_home_instance: bool = True,
                 allow_private_hosts: bool = False):
        self._instance = _base_url(instance or DEFAULT_INSTANCE)
        self._token = access_token or None
        self._timeout_s = timeout_s
        self._follow_home = follow_home_instance
        # tests and intranets: instances on private/loopback addresses may be followed (loopback over plain HTTP)
        self._allow_private = allow_private_hosts
        self._apis: dict[str, Mastodon] = {}
        self._local_domains: dict[str, str] = {}  # API base -> the domain it says its handles use
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
        if domain and domain != self.instance_host and self._follow_home and self._host_allowed(domain):
            # the handle's domain may only host WebFinger, pointing at the API elsewhere (split domains)
            base, acct = await self._webfinger(user, domain) or self._base_for(domain), user
        found = await self._call(base, lambda api: api.account_lookup(acct), clean_handle(handle))
        return await self._account(found, base, clean_handle(handle))

    async def lookup_id(self, account_id: str) -> Account:
        local_id, _, host = str(account_id).rpartition("@")
        if not local_id.isdigit():
            raise AccountNotFound(self.platform, account_id)
        if host == self.instance_host:
            base = self._instance
        elif self._host_allowed(host):
            base = self._base_for(host)
        else:
            raise AccountNotFound(self.platform, account_id)
        found = await self._call(base, lambda api: api.account(local_id), account_id)
        return await self._account(found, base, account_id)

    async def _account(self, found: Any, base: str, asked: str) -> Account:
        # a suspended account is still answered 200, flagged (https://docs.joinmastodon.org/entities/Account/#suspended)
        if found.get("suspended"):
            raise AccountSuspended(self.platform, asked)
        host = urlsplit(base).netloc.lower()
        acct = found.acct if "@" in found.acct else f"{found.acct}@{await self._handle_domain(base, found.acct)}"
        fields = tuple((html_to_text(f.get("name") or ""), html_to_text(f.get("value") or ""))
                       for f in found.get("fields") or [])
        # `locked` only means follow requests are approved by hand; public posts stay public and are read
        # (https://docs.joinmastodon.org/entities/Account/#locked): nothing on Mastodon makes an account protected
        return Account(platform=self.platform, account_id=f"{found.id}@{host}", handle=acct,
                       display_name=found.display_name or "", bio=html_to_text(found.note or ""),
                       profile_url=found.url or "", protected=False, fields=fields)

    async def _handle_domain(self, base: str, username: str) -> str:
        """The domain of a local account's handle: the server's LOCAL_DOMAIN (/api/v1/instance `uri`,
        https://docs.joinmastodon.org/entities/V1_Instance/#uri) when that domain's WebFinger vouches for this
        server, so no server can dress its accounts in another domain's handles; else the API host."""
        host = urlsplit(base).netloc.lower()
        claimed = await self._claimed_domain(base)
        if claimed and claimed != host and self._host_allowed(claimed) \
                and await self._webfinger(username, claimed) == base:
            return claimed
        return host

    async def _claimed_domain(self, base: str) -> str:
        if base not in self._local_domains:
            api = self._api(base)

            def ask() -> str:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return str(api.instance_v1().get("uri") or "")
            try:
                uri = (await asyncio.to_thread(ask)).strip().lower()
            except MastodonError:
                return ""  # not remembered: ask again next time
            # Mastodon gives the bare domain; some compatible servers a URL
            self._local_domains[base] = urlsplit(uri).netloc if "://" in uri else uri
        return self._local_domains[base]

    async def _webfinger(self, user: str, domain: str) -> str | None:
        """The API base of `user@domain` from the `self` link of its WebFinger document (RFC 7033); None when
        the domain doesn't answer one. Redirects are followed (LOCAL_DOMAIN commonly redirects to WEB_DOMAIN),
        every hop checked like the media downloads are."""
        url = f"{self._base_for(domain)}/.well-known/webfinger?{urlencode({'resource': f'acct:{user}@{domain}'})}"
        connector = None if self._allow_private else aiohttp.TCPConnector(resolver=PublicOnlyResolver())
        timeout = aiohttp.ClientTimeout(total=min(self._timeout_s, 10.0))
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                for _ in range(_MAX_REDIRECTS + 1):
                    if not self._host_allowed(urlsplit(url).netloc.lower()):
                        return None
                    async with session.get(url, allow_redirects=False,
                                           headers={"Accept": "application/jrd+json"}) as response:
                        if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                            url = urljoin(url, response.headers["Location"])
                            continue
                        if response.status != 200:
                            return None
                        document = json.loads(await response.content.read(_WEBFINGER_MAX_BYTES))
                        break
                else:
                    return None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.info("no WebFinger answer for %s@%s (%s)", user, domain, type(exc).__name__)
            return None
        for link in document.get("links") or [] if isinstance(document, dict) else []:
            if isinstance(link, dict) and link.get("rel") == "self" and link.get("type") in _ACTIVITY_TYPES:
                actor = urlsplit(str(link.get("href") or ""))
                host = actor.netloc.lower()
                if actor.scheme in ("https", "http") and host and self._host_allowed(host):
                    return self._base_for(host)
        return None

    def _host_allowed(self, host: str) -> bool:
        return bool(host) and (self._allow_private or _public_hostname(host))

    def _base_for(self, host: str) -> str:
        if host == self.instance_host:
            return self._instance
        return f"{'http' if self._allow_private and _is_loopback(host) else 'https'}://{host}"

    # posts ---------------------------------------------------------------------------------------------
    def _split_id(self, account: Account) -> tuple[str, str]:
        local_id, _, host = account.account_id.rpartition("@")
        return local_id, self._base_for(host)

    async def iter_media_posts(self, account: Account, *, limit: int = 3200) -> AsyncIterator[MediaPost]:
        # the statuses endpoint lists only what we may see: followers-only posts of a locked account never come
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
        return (user, parts.netloc.lower()) if _USERNAME.fullmatch(user) else None
    handle = clean_handle(handle)
    user, _, domain = handle.partition("@")
    if not _USERNAME.fullmatch(user):
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


def _is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name == "localhost"


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
