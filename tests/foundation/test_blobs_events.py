from __future__ import annotations

import asyncio
import hashlib

import pytest

from data.blobs import BlobNotFound, FolderBlobStore
from data.events import EventBus, GenerationDone, parse_event
from data.redis import ensure_embedded_redis, stop_embedded_redis


def test_blob_store_is_content_addressed(tmp_path):
    store = FolderBlobStore(tmp_path / "blobs")
    name = store.put(b"hello")
    assert name == hashlib.sha256(b"hello").hexdigest()
    assert store.put(b"hello") == name
    assert store.get(name) == b"hello"
    assert store.path(name).read_bytes() == b"hello"
    store.delete(name)
    assert not store.exists(name)
    with pytest.raises(BlobNotFound):
        store.get(name)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")


async def _roundtrip(url: str, prefix: str) -> dict:
    bus = EventBus(url, prefix)
    received = asyncio.Queue()

    async def listen():
        async for event in bus.listen():
            await received.put(event)

    task = asyncio.create_task(listen())
    try:
        for _ in range(50):  # publish until the subscription is live
            await bus.publish(GenerationDone(id=7, maker_id=3, images=("a" * 64,)))
            try:
                return await asyncio.wait_for(received.get(), 0.1)
            except asyncio.TimeoutError:
                continue
        raise AssertionError("no event received")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.aclose()


async def test_events_over_real_redis(settings):
    wire = await _roundtrip(settings.redis_url, settings.redis_prefix)
    assert wire == {"type": "generation.done", "id": 7, "maker_id": 3, "images": ["a" * 64]}
    assert parse_event(wire) == GenerationDone(id=7, maker_id=3, images=("a" * 64,))
    assert parse_event({"type": "generation.done", "id": 7}) is None  # no maker_id: not that event
    assert parse_event({"type": "from.a.newer.worker", "id": 7, "maker_id": 3}) is None
    assert parse_event({**wire, "extra": 1}) == GenerationDone(id=7, maker_id=3, images=("a" * 64,))


async def test_events_over_embedded_redis(tmp_path):
    url = ensure_embedded_redis(tmp_path / "var")
    try:
        assert url.startswith("unix://")
        assert ensure_embedded_redis(tmp_path / "var") == url  # a second process reuses the same server
        assert (await _roundtrip(url, "mimic"))["type"] == "generation.done"
    finally:
        stop_embedded_redis(tmp_path / "var")
