"""Progress and completion events over Redis pub/sub, from workers to the bot and the web.

An event is a small JSON object: {"type": "generation.done", "id": 42, ...}. Events are notifications only;
the database row stays the source of truth, so a missed event never loses state."""
from __future__ import annotations

import json
from typing import Any, AsyncIterator

import redis.asyncio as aioredis


class EventBus:
    def __init__(self, url: str, prefix: str = "mimic"):
        self.url = url
        self.channel = f"{prefix}:events"
        self._redis = aioredis.Redis.from_url(url)

    async def publish(self, type_: str, **fields: Any) -> None:
        await self._redis.publish(self.channel, json.dumps({"type": type_, **fields}, default=str))

    async def listen(self) -> AsyncIterator[dict]:
        """Yield events until cancelled. Subscribe before triggering work you wait for."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()

    async def aclose(self) -> None:
        await self._redis.aclose()
