"""The parts every process needs, built once from the settings and passed explicitly (no global state)."""
from __future__ import annotations

from dataclasses import dataclass, field

from data.blob_stores import open_blob_store
from data.blobs import BlobError, BlobNotFound, BlobStore
from data.db import Database
from data.events import EventBus
from data.metrics import ErrorCountingBlobs, Metrics
from data.redis import check_redis, redis_url
from data.settings import ConfigError, Settings


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
                   events=EventBus(url, settings.redis_prefix), metrics=metrics)

    async def aclose(self) -> None:
        await self.events.aclose()
        self.db.dispose()
