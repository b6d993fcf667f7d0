"""Blob store throughput: put and get on the local folder against S3-compatible storage.

Small blobs (generated images) are written and read by several threads at once, the way the bot and workers
call the store (asyncio.to_thread); one large blob (a LoRA file or checkpoint) goes up as a multipart upload
and comes back through the worker's local cache. Every read checks the sha256 of what it got, as in production.

By default S3 is moto's server in this process (werkzeug, objects in memory): the figures then show the cost of
boto3 and of a Python S3 server, not of a real service. Point it at one (MinIO, AWS) to measure that:

    .venv/bin/python bench/blob_store.py                                  # local folder vs moto
    .venv/bin/python bench/blob_store.py -n 400 --size-kib 512 --large-mib 256 --threads 16
    STORAGE_URL=s3://bench/run1 S3_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=... \\
        AWS_SECRET_ACCESS_KEY=... .venv/bin/python bench/blob_store.py --s3-from-env
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.blob_cache import BlobCache  # noqa: E402
from data.blobs import BlobStore, FolderBlobStore  # noqa: E402
from data.blobs_s3 import MiB, S3BlobStore  # noqa: E402
from data.settings import Settings  # noqa: E402


def _moto_store(var: Path) -> tuple[S3BlobStore, object]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings = Settings(_env_file=None, var_dir=var, storage_url="s3://bench/blobs",
                        s3_endpoint_url=f"http://{host}:{port}", aws_access_key_id="bench",
                        aws_secret_access_key="bench", aws_region="us-east-1")
    store = S3BlobStore.from_settings(settings)
    store.client.create_bucket(Bucket="bench")
    return store, server


def _timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def _parallel(threads: int, fn, items) -> list:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))


def run(name: str, store: BlobStore, cold_reader: BlobStore, args, work: Path) -> None:
    """`cold_reader`: the same store as another process or machine sees it (nothing checked or cached yet)."""
    remote = name != "local"
    small = [os.urandom(args.size_kib * 1024) for _ in range(args.n)]
    total_mb = args.n * args.size_kib / 1024
    took, names = _timed(_parallel, args.threads, store.put, small)
    print(f"{name:>6}  put   {args.n} x {args.size_kib} KiB, {args.threads} threads: {args.n / took:8.1f} blobs/s "
          f"{total_mb / took:8.1f} MB/s")
    took, _ = _timed(_parallel, args.threads, store.put, small)
    print(f"{name:>6}  put   the same again (already there):       {args.n / took:8.1f} blobs/s")
    took, got = _timed(_parallel, args.threads, cold_reader.get, names)
    assert got == small
    print(f"{name:>6}  get   {args.n} x {args.size_kib} KiB, checked:          {args.n / took:8.1f} blobs/s "
          f"{total_mb / took:8.1f} MB/s")
    if remote:
        _parallel(args.threads, store.get, names)  # fills the local cache
        took, _ = _timed(_parallel, args.threads, store.get, names)
        print(f"{name:>6}  get   the same from the local cache (HEAD + read): {args.n / took:8.1f} blobs/s")

    large = work / f"large-{name}.bin"
    with open(large, "wb") as fh:
        for _ in range(args.large_mib):
            fh.write(os.urandom(MiB))
    took, digest = _timed(store.put_file, large)
    print(f"{name:>6}  put   one {args.large_mib} MiB file{' (multipart)' if remote else ''}:"
          f"            {args.large_mib / took:8.1f} MB/s")
    took, _ = _timed(cold_reader.path, digest)
    print(f"{name:>6}  path  the same file, fetched and checked:      {args.large_mib / took:8.1f} MB/s")
    if remote:
        took, _ = _timed(cold_reader.path, digest)
        print(f"{name:>6}  path  again, from the local cache (checked once): {took * 1000:6.1f} ms")
    large.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="small blobs (default 200)")
    parser.add_argument("--size-kib", type=int, default=256, help="size of each small blob (default 256 KiB)")
    parser.add_argument("--large-mib", type=int, default=96, help="size of the large blob (default 96 MiB)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--s3-from-env", action="store_true", help="S3 from STORAGE_URL etc. instead of moto")
    args = parser.parse_args()
    print(f"blob store throughput on {os.cpu_count()} CPUs (wall clock; sha256 checked on every read)")
    with tempfile.TemporaryDirectory(prefix="mimic-bench-blobs-") as tmp:
        work = Path(tmp)
        local = FolderBlobStore(work / "local")
        run("local", local, FolderBlobStore(work / "local"), args, work)
        server = None
        if args.s3_from_env:
            settings = Settings(var_dir=work / "var")
            store = S3BlobStore.from_settings(settings)
        else:
            store, server = _moto_store(work / "var")
        # a second machine with an empty cache: what a cold read costs
        cold = S3BlobStore(store.client, store.bucket, store.prefix, cache=BlobCache(work / "cold-cache", 4096 * MiB))
        try:
            run("s3", store, cold, args, work)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
