"""Readiness: can this process reach what it depends on (database, Redis, blob storage)?

Each check gets a short timeout and reports only the kind of failure (no URL, no password)."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import text

from data.context import AppContext

CHECK_TIMEOUT_S = 2.0


async def _database(app: AppContext) -> None:
    def ping() -> None:
        with app.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    await asyncio.to_thread(ping)


async def _redis(client: aioredis.Redis) -> None:
    await client.ping()


async def _storage(app: AppContext) -> None:
    store = app.blobs
    check = getattr(store, "check", None)
    if check is not None:  # a backend that knows how to ask its service (an object store's bucket)
        result = check()
        if asyncio.iscoroutine(result):
            await result
        return
    root = Path(store.root)

    def probe() -> None:
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError("the blob folder is missing or not writable")
    await asyncio.to_thread(probe)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_S:.0f} s"
    return type(exc).__name__


async def readiness(app: AppContext, redis: aioredis.Redis, *, timeout: float = CHECK_TIMEOUT_S) -> dict[str, str]:
    """{"database": "ok", "redis": "failed: ConnectionError", "storage": "ok"}: every check runs, at once."""
    checks = {"database": _database(app), "redis": _redis(redis), "storage": _storage(app)}
    outcomes = await asyncio.gather(*(asyncio.wait_for(c, timeout) for c in checks.values()), return_exceptions=True)
    return {name: "ok" if outcome is None else f"failed: {_describe(outcome)}"
            for name, outcome in zip(checks, outcomes)}
