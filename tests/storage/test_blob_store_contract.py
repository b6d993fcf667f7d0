"""One contract for every blob store, run against the local folder and against S3 (moto's server over HTTP):
content-addressed names, conditional writes, digest-checked reads, large blobs, the async API."""
from __future__ import annotations

import asyncio
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import pytest

from data.blobs import BlobDamaged, BlobNotFound, BlobStore, FolderBlobStore, blob_key
from data.blobs_s3 import MiB, S3BlobStore
from data.settings import Settings


@dataclass
class Backend:
    kind: str
    store: BlobStore
    damage: Callable[[str, bytes], None]  # overwrite a stored blob behind the store's back
    parts: Callable[[str], int]  # how many parts the stored object was uploaded in (1: a single put)


def _folder(tmp_path) -> Backend:
    store = FolderBlobStore(tmp_path / "blobs")
    return Backend("folder", store, lambda digest, data: (store.root / blob_key(digest)).write_bytes(data),
                   lambda digest: 1)


def _s3(tmp_path, fake_s3) -> Backend:
    bucket = fake_s3.new_bucket()
    settings = Settings(_env_file=None, var_dir=tmp_path / "var", **fake_s3.settings_overrides(bucket))
    store = S3BlobStore.from_settings(settings, multipart_threshold=6 * MiB, part_size=5 * MiB)

    def damage(digest: str, data: bytes) -> None:
        fake_s3.client.put_object(Bucket=bucket, Key=store.key(digest), Body=data)

    def parts(digest: str) -> int:
        etag = fake_s3.client.head_object(Bucket=bucket, Key=store.key(digest))["ETag"].strip('"')
        return int(etag.split("-")[1]) if "-" in etag else 1  # a multipart ETag ends in -<parts>
    return Backend("s3", store, damage, parts)


@pytest.fixture(params=["folder", "s3"])
def backend(request, tmp_path) -> Backend:
    if request.param == "folder":
        return _folder(tmp_path)
    return _s3(tmp_path, request.getfixturevalue("fake_s3"))


def test_names_are_digests_and_writes_happen_once(backend):
    store = backend.store
    name = store.put(b"hello")
    assert name == hashlib.sha256(b"hello").hexdigest()
    assert store.put(b"hello") == name  # already there: not an error
    assert store.exists(name) and store.get(name) == b"hello"
    assert store.peek(name, 3) == b"hel"
    assert store.path(name).read_bytes() == b"hello"
    store.delete(name)
    store.delete(name)  # gone already: fine
    assert not store.exists(name)
    for missing in (name, "../../etc/passwd", "A" * 64):
        with pytest.raises(BlobNotFound):
            store.get(missing)
        with pytest.raises(BlobNotFound):
            store.path(missing)
        assert not store.exists(missing)


def test_large_blobs_round_trip_in_parts(backend, tmp_path):
    data = os.urandom(12 * MiB + 123)
    source = tmp_path / "lora.safetensors"
    source.write_bytes(data)
    name = backend.store.put_file(source)
    assert name == hashlib.sha256(data).hexdigest()
    assert backend.store.put(data) == name  # the same bytes from memory: already there
    assert backend.store.get(name) == data
    assert backend.store.path(name).read_bytes() == data
    if backend.kind == "s3":
        assert backend.parts(name) == 3  # 5 + 5 + 2 MiB


def test_a_damaged_blob_is_an_error_never_served_and_a_new_put_repairs_it(backend):
    store = backend.store
    good = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    name = store.put(good)
    backend.damage(name, good[:-1] + b"X")
    with pytest.raises(BlobDamaged):
        store.get(name)
    with pytest.raises(BlobDamaged):
        store.path(name)
    assert asyncio.run(store.aget_present([name])) == []
    assert store.put(good) == name  # present but damaged: replaced, not trusted
    assert store.get(name) == good
    assert store.path(name).read_bytes() == good


def test_concurrent_writers_of_the_same_bytes_all_succeed(backend):
    data = os.urandom(4096)
    with ThreadPoolExecutor(8) as pool:
        names = set(pool.map(lambda _: backend.store.put(data), range(16)))
    assert names == {hashlib.sha256(data).hexdigest()}
    assert backend.store.get(names.pop()) == data


async def test_the_async_api_runs_off_the_event_loop(backend):
    store = backend.store
    names = [await store.aput(f"image {n}".encode()) for n in range(3)]
    assert await store.aexists(names[0])
    assert await store.aget(names[1]) == b"image 1"
    await store.adelete(names[2])
    assert await store.aget_present(names) == [b"image 0", b"image 1"]
