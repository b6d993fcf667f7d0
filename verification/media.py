"""Polite downloads of posted images: bounded concurrency, a size cap enforced while streaming, a time limit.

A failed item never fails the batch: it comes back with a reason a person can read.

Media addresses come from the platforms' answers (and a Mastodon handle may name any instance), so by default
nothing on a private, loopback or link-local network is fetched, through redirects either: the connector's
resolver refuses such addresses and IP-literal hops are checked before each request."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from data.settings import Settings

CHUNK = 64 * 1024
MAX_REDIRECTS = 3


class PrivateAddress(aiohttp.ClientError):
    pass


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not ip.is_multicast


class PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver but never hands out a non-public address."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        found = [entry for entry in await self._inner.resolve(host, port, family) if is_public(entry["host"])]
        if not found:
            raise PrivateAddress(f"{host} does not resolve to a public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class MediaResult:
    url: str
    data: bytes | None = None
    error: str | None = None  # why it was skipped, when it was

    @property
    def ok(self) -> bool:
        return self.data is not None


class MediaDownloader:
    """Use as `async with MediaDownloader.from_settings(settings) as dl: results = await dl.fetch_many(urls)`."""

    def __init__(self, *, max_bytes: int, concurrency: int, timeout_s: float = 60.0,
                 session: aiohttp.ClientSession | None = None, allow_private: bool = False):
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.timeout_s = timeout_s
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._session = session
        self._owns_session = session is None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs) -> "MediaDownloader":
        return cls(max_bytes=settings.media_max_bytes, concurrency=settings.media_concurrency,
                   allow_private=settings.media_allow_private_hosts, **kwargs)

    async def __aenter__(self) -> "MediaDownloader":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_many(self, urls: Iterable[str]) -> list[MediaResult]:
        """Results in the order of `urls`."""
        return list(await asyncio.gather(*(self.fetch(url) for url in urls)))

    async def fetch(self, url: str) -> MediaResult:
        if not url.startswith(("http://", "https://")):
            return MediaResult(url, error="not a web address")
        if self._session is None:
            connector = None if self.allow_private else aiohttp.TCPConnector(resolver=PublicOnlyResolver())
            self._session = aiohttp.ClientSession(connector=connector)
        async with self._limit:
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await self._download(url)
            except TimeoutError:
                return MediaResult(url, error=f"the download took longer than {self.timeout_s:g} s")
            except PrivateAddress:
                return MediaResult(url, error="the address is not on the public internet")
            except aiohttp.ClientError as exc:
                if isinstance(getattr(exc, "os_error", None), PrivateAddress) or "public address" in str(exc):
                    return MediaResult(url, error="the address is not on the public internet")
                return MediaResult(url, error=f"the download failed ({type(exc).__name__})")

    def _check_host(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return  # a name: the resolver checks what it resolves to
        if not self.allow_private and not is_public(str(literal)):
            raise PrivateAddress(host)

    async def _download(self, url: str) -> MediaResult:
        target = url
        for _ in range(MAX_REDIRECTS + 1):
            self._check_host(target)
            async with self._session.get(target, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    target = urljoin(target, response.headers["Location"])
                    continue
                return await self._read(url, response)
        return MediaResult(url, error="too many redirects")

    async def _read(self, url: str, response: aiohttp.ClientResponse) -> MediaResult:
        if response.status in (404, 410):
            return MediaResult(url, error=f"the image was deleted ({response.status})")
        if response.status == 400 and response.content_type == "application/json":
            # an atproto PDS answers getBlob for a blob that is gone with 400 BlobNotFound
            # (lexicons/com/atproto/sync/getBlob.json)
            body = await response.content.read(4096)
            if b'"BlobNotFound"' in body or b"blob not found" in body.lower():
                return MediaResult(url, error="the image was deleted (BlobNotFound)")
        if response.status != 200:
            return MediaResult(url, error=f"the server answered {response.status}")
        if response.content_type.startswith("text/"):
            return MediaResult(url, error=f"not an image ({response.content_type})")
        if response.content_length is not None and response.content_length > self.max_bytes:
            return MediaResult(url, error=self._too_big())
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > self.max_bytes:  # stop reading: the server may lie about or omit the length
                return MediaResult(url, error=self._too_big())
        return MediaResult(url, data=bytes(data))

    def _too_big(self) -> str:
        return f"the image is larger than {self.max_bytes / 1_048_576:.1f} MB"
