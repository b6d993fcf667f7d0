"""Polite downloads of posted images: bounded concurrency, a size cap enforced while streaming, a time limit.

A failed item never fails the batch: it comes back with a reason a person can read."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Iterable

import aiohttp

from data.settings import Settings

CHUNK = 64 * 1024


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
                 session: aiohttp.ClientSession | None = None):
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._session = session
        self._owns_session = session is None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs) -> "MediaDownloader":
        return cls(max_bytes=settings.media_max_bytes, concurrency=settings.media_concurrency, **kwargs)

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
            self._session = aiohttp.ClientSession()
        async with self._limit:
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await self._download(url)
            except TimeoutError:
                return MediaResult(url, error=f"the download took longer than {self.timeout_s:g} s")
            except aiohttp.ClientError as exc:
                return MediaResult(url, error=f"the download failed ({type(exc).__name__})")

    async def _download(self, url: str) -> MediaResult:
        async with self._session.get(url, allow_redirects=True) as response:
            if response.status in (404, 410):
                return MediaResult(url, error=f"the image was deleted ({response.status})")
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
