"""The parts every process needs, built once from the settings and passed explicitly (no global state)."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from data.blob_stores import open_blob_store
from data.blobs import BlobError, BlobNotFound, BlobStore
from data.db import Database
from data.events import EventBus
from data.metrics import ErrorCountingBlobs, Metrics
from data.redis import check_redis, redis_url
from data.settings import ConfigError, Settings


class ImageWork:
    """The one bounded pool for image work in a process (decoding and reading uploads, trace and remake inputs):
    at most `threads` jobs at once, and together at most `budget_bytes` of the memory each says it needs, so that N
    hostile requests cost at most the budget however many arrive; the others wait their turn. A job that needs more
    than the whole budget runs alone."""

    def __init__(self, budget_bytes: int, threads: int):
        self.budget = max(1, int(budget_bytes))
        self._free = self.budget
        self._turn = threading.Condition()
        self._executor = ThreadPoolExecutor(max_workers=max(1, int(threads)), thread_name_prefix="image-work")

    @classmethod
    def from_settings(cls, settings: Settings) -> "ImageWork":
        return cls(settings.image_work_mb * 1024 * 1024, settings.image_work_threads)

    def _within_budget(self, cost: int, work: Callable[[], Any]) -> Any:
        cost = min(max(0, int(cost)), self.budget)
        with self._turn:
            self._turn.wait_for(lambda: self._free >= cost)
            self._free -= cost
        try:
            return work()
        finally:
            with self._turn:
                self._free += cost
                self._turn.notify_all()

    async def run(self, function: Callable[..., Any], *args, cost: int = 0, **kwargs) -> Any:
        """`function(*args, **kwargs)` on the pool, once `cost` bytes of the budget are free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._within_budget, cost, partial(function, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _default_image_work() -> ImageWork:  # an AppContext built by hand (tests): the settings' defaults
    fields = Settings.model_fields
    return ImageWork(fields["image_work_mb"].default * 1024 * 1024, fields["image_work_threads"].default)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    redis_url: str
    events: EventBus
    # in-memory indexes that the services of one process (bot, web gallery) share rather than each load, by name
    caches: dict = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    image_work: ImageWork = field(default_factory=_default_image_work)

    @classmethod
    def create(cls, settings: Settings, *, check: bool = True) -> "AppContext":
        metrics = Metrics()
        blobs = ErrorCountingBlobs(open_blob_store(settings), metrics, BlobNotFound)
        db = Database.from_settings(settings)
        url = redis_url(settings)
        if check:
            db.check()
            check_redis(url)
            try:
                blobs.check()
            except BlobError as exc:
                raise ConfigError(f"STORAGE_URL: {exc}") from None
        return cls(settings=settings, db=db, blobs=blobs, redis_url=url,
                   events=EventBus(url, settings.redis_prefix), metrics=metrics,
                   image_work=ImageWork.from_settings(settings))

    async def aclose(self) -> None:
        await self.events.aclose()
        self.image_work.close()
        self.db.dispose()
