"""Progress and completion events over Redis pub/sub, from workers to the bot and the web.

Every event kind and its payload is a class below (the contract between engine/jobs.py, which publishes, and
bot/discord/poster.py, which posts). On the wire an event is a small JSON object, {"type": "generation.done",
"id": 42, ...}. Events are notifications only: the database row stays the source of truth, so a missed event never
loses state, and a reader ignores kinds and fields it does not know (a newer worker beside an older bot)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, ClassVar

import redis.asyncio as aioredis


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class JobEvent(Event):
    id: int  # the TrainingJob or Generation row
    maker_id: int


@dataclass(frozen=True)
class TrainingStarted(JobEvent):
    type: ClassVar[str] = "training.started"
    attempt: int = 1


@dataclass(frozen=True)
class TrainingProgress(JobEvent):
    type: ClassVar[str] = "training.progress"
    step: int = 0
    total: int = 0
    loss: float | None = None
    eta_s: float | None = None


@dataclass(frozen=True)
class TrainingDone(JobEvent):
    type: ClassVar[str] = "training.done"
    lora_blob: str = ""


@dataclass(frozen=True)
class TrainingFailed(JobEvent):
    type: ClassVar[str] = "training.failed"


@dataclass(frozen=True)
class TrainingCancelled(JobEvent):
    type: ClassVar[str] = "training.cancelled"


@dataclass(frozen=True)
class GenerationStarted(JobEvent):
    type: ClassVar[str] = "generation.started"


@dataclass(frozen=True)
class GenerationDone(JobEvent):
    type: ClassVar[str] = "generation.done"
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationFailed(JobEvent):
    type: ClassVar[str] = "generation.failed"


@dataclass(frozen=True)
class GenerationCancelled(JobEvent):
    type: ClassVar[str] = "generation.cancelled"


@dataclass(frozen=True)
class BotProbe(Event):
    """The bot's own echo: once its subscription hears it, no later event can be missed."""

    type: ClassVar[str] = "bot.probe"
    nonce: str = ""


KINDS: dict[str, type[Event]] = {cls.type: cls for cls in (
    TrainingStarted, TrainingProgress, TrainingDone, TrainingFailed, TrainingCancelled,
    GenerationStarted, GenerationDone, GenerationFailed, GenerationCancelled, BotProbe)}


def parse_event(raw: dict[str, Any]) -> Event | None:
    """The typed event of a wire object; None for a kind we do not know or a payload that does not fit."""
    cls = KINDS.get(str(raw.get("type", "")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in raw.items() if k in names}
    if "images" in fields:
        fields["images"] = tuple(fields["images"] or ())
    try:
        return cls(**fields)
    except TypeError:  # a required field missing
        return None


class EventBus:
    def __init__(self, url: str, prefix: str = "mimic"):
        self.url = url
        self.channel = f"{prefix}:events"
        self._redis = aioredis.Redis.from_url(url)

    async def publish(self, event: Event) -> None:
        await self._redis.publish(self.channel, json.dumps(event.to_wire(), default=str))

    async def events(self, ready: asyncio.Event | None = None) -> AsyncIterator[Event]:
        """Typed events until cancelled (unknown kinds skipped). Subscribe before triggering work you wait for:
        `ready` is set once the subscription holds."""
        async for raw in self.listen(ready):
            event = parse_event(raw)
            if event is not None:
                yield event

    async def listen(self, ready: asyncio.Event | None = None) -> AsyncIterator[dict]:
        """Wire objects until cancelled, as published. Subscribe before triggering work you wait for."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        if ready is not None:
            ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()

    async def aclose(self) -> None:
        await self._redis.aclose()
