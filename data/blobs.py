"""A content-addressed blob store: images, LoRA files, checkpoints.

A blob's name is the sha256 of its bytes, so writing the same bytes twice is free and a name can be checked:
every read verifies the bytes against their name, and a damaged blob is an error, never served.
Two backends: a local folder (the embedded default) and S3-compatible object storage (`STORAGE_URL=s3://...`,
data/blobs_s3.py). Callers on an event loop use the `a...` methods, which run the I/O in a thread."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Iterable

from data.settings import ConfigError

log = logging.getLogger("mimic.blobs")
_HEX = frozenset("0123456789abcdef")
READ_CHUNK = 1024 * 1024


class BlobError(Exception):
    """Something is wrong with a blob or the store that holds it."""


class BlobNotFound(BlobError, KeyError):
    pass


class BlobDamaged(BlobError):
    """The stored bytes do not hash to their name (bit rot, a torn write, someone else's object)."""

    def __init__(self, digest: str, actual: str):
        super().__init__(f"blob {digest[:12]} is damaged (its bytes hash to {actual[:12]})")
        self.digest, self.actual = digest, actual


def check_name(digest: str) -> str:
    if len(digest) != 64 or not _HEX.issuperset(digest):
        raise BlobNotFound(digest)
    return digest


def blob_key(digest: str) -> str:
    """Where a blob lives relative to the store's root (folder or bucket prefix); PUBLIC_BLOB_URL serves the same."""
    check_name(digest)
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


def verified(digest: str, content: bytes) -> bytes:
    actual = hashlib.sha256(content).hexdigest()
    if actual != digest:
        raise BlobDamaged(digest, actual)
    return content


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in chunks (LoRA files and checkpoints can be large)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest(), os.fstat(fh.fileno()).st_size


def write_atomically(path: Path, chunks: Iterable[bytes], *, durable: bool = True) -> None:
    """Write, fsync, then rename into place (and fsync the folder): readers never see half a blob, and a crash
    right after leaves either the whole blob or none. A cache, checked on every read, may skip the fsyncs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_checked(path: Path, digest: str, chunks: Iterable[bytes], *, durable: bool = True) -> int:
    """write_atomically, hashing on the way: bytes that turn out not to match their name are removed, an error.
    Returns the size written."""
    hasher, size = hashlib.sha256(), 0

    def hashed() -> Iterable[bytes]:
        nonlocal size
        for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            yield chunk
    write_atomically(path, hashed(), durable=durable)
    if hasher.hexdigest() != digest:
        path.unlink(missing_ok=True)
        raise BlobDamaged(digest, hasher.hexdigest())
    return size


def _file_chunks(fh: BinaryIO) -> Iterable[bytes]:
    while chunk := fh.read(READ_CHUNK):
        yield chunk


class _CheckedFiles:
    """Files whose digest was checked, by (inode, size, mtime): a large file is hashed once per change, not on
    every use."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, int, int]] = {}

    def check(self, digest: str, path: Path) -> None:
        st = path.stat()
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._seen.get(digest) == stamp:
            return
        actual, _ = file_digest(path)
        if actual != digest:
            self._seen.pop(digest, None)
            raise BlobDamaged(digest, actual)
        self._seen[digest] = stamp

    def remember(self, digest: str, path: Path) -> None:
        """A file just written from bytes that hashed to its name."""
        st = path.stat()
        self._seen[digest] = (st.st_ino, st.st_size, st.st_mtime_ns)

    def forget(self, digest: str) -> None:
        self._seen.pop(digest, None)


class BlobStore:
    """What every backend offers. `path()` gives a local, verified file for libraries that want one."""

    def put(self, content: bytes) -> str:
        raise NotImplementedError

    def put_file(self, source: Path) -> str:
        raise NotImplementedError

    def get(self, digest: str) -> bytes:
        raise NotImplementedError

    def peek(self, digest: str, size: int = 16) -> bytes:
        """The first bytes of a blob, unverified (enough to tell an image's type before redirecting to it)."""
        raise NotImplementedError

    def path(self, digest: str) -> Path:
        raise NotImplementedError

    def exists(self, digest: str) -> bool:
        raise NotImplementedError

    def delete(self, digest: str) -> None:
        raise NotImplementedError

    def check(self) -> None:
        """Raise BlobError when the store cannot be reached (readiness probes)."""
        raise NotImplementedError

    def listing(self, *, older_than_s: float = 0.0) -> Iterable[str]:
        """The digests of every blob stored at least `older_than_s` seconds ago (for pruning orphans)."""
        raise NotImplementedError

    def presigned_url(self, digest: str, *, expires_s: int, content_type: str | None = None) -> str | None:
        """A time-limited URL that serves the blob directly, where the backend can make one."""
        return None

    # off the event loop ---------------------------------------------------------------------------------------
    async def aput(self, content: bytes) -> str:
        return await asyncio.to_thread(self.put, content)

    async def aget(self, digest: str) -> bytes:
        return await asyncio.to_thread(self.get, digest)

    async def apeek(self, digest: str, size: int = 16) -> bytes:
        return await asyncio.to_thread(self.peek, digest, size)

    async def aexists(self, digest: str) -> bool:
        return await asyncio.to_thread(self.exists, digest)

    async def adelete(self, digest: str) -> None:
        await asyncio.to_thread(self.delete, digest)

    async def aget_present(self, digests: Iterable[str]) -> list[bytes]:
        """The blobs that are there and sound, in order; a missing or damaged one is left out (and logged)."""
        def read() -> list[bytes]:
            found = []
            for digest in digests:
                try:
                    found.append(self.get(digest))
                except BlobNotFound:
                    continue
                except BlobError as exc:
                    log.error("%s; it is not served", exc)
            return found
        return await asyncio.to_thread(read)


class FolderBlobStore(BlobStore):
    """Blobs as files under <root>/ab/cd/<digest>, the embedded default."""

    def __init__(self, root: Path, *, create: bool = True):
        self.root = Path(root)
        self._checked = _CheckedFiles()
        if not create:  # a store only read from (a command-line look-up): no folder made, no write access needed
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-", delete=True)
            probe.close()
        except OSError as exc:
            raise ConfigError(f"STORAGE_DIR {self.root} is not writable ({exc.strerror})") from None

    def _path(self, digest: str) -> Path:
        return self.root / blob_key(digest)

    def _sound(self, digest: str, path: Path) -> bool:
        """Whether a present file holds the right bytes; a damaged one is reported and will be replaced."""
        try:
            self._checked.check(digest, path)
            return True
        except FileNotFoundError:
            return False
        except BlobDamaged as exc:
            log.error("%s; replacing it", exc)
            return False

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not self._sound(digest, path):
            write_atomically(path, [content])
            self._checked.remember(digest, path)
        return digest

    def put_file(self, source: Path) -> str:
        digest, _ = file_digest(source)
        path = self._path(digest)
        if not self._sound(digest, path):
            with open(source, "rb") as fh:
                write_checked(path, digest, _file_chunks(fh))  # a source changed meanwhile is an error
            self._checked.remember(digest, path)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return verified(digest, self._path(digest).read_bytes())
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def peek(self, digest: str, size: int = 16) -> bytes:
        try:
            with open(self._path(digest), "rb") as fh:
                return fh.read(size)
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def path(self, digest: str) -> Path:
        path = self._path(digest)
        try:
            self._checked.check(digest, path)
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        return path

    def exists(self, digest: str) -> bool:
        try:
            return self._path(digest).exists()
        except BlobNotFound:
            return False

    def delete(self, digest: str) -> None:
        try:
            self._path(digest).unlink(missing_ok=True)
            self._checked.forget(digest)
        except BlobNotFound:
            pass

    def remember(self, digest: str, path: Path) -> None:
        self._checked.remember(digest, path)

    def check(self) -> None:
        if not self.root.is_dir():
            raise BlobError(f"the blob folder {self.root} is missing")

    def files(self) -> Iterable[Path]:
        return (p for p in self.root.glob("??/??/*") if p.is_file() and not p.name.startswith("."))

    def listing(self, *, older_than_s: float = 0.0) -> Iterable[str]:
        cutoff = time.time() - older_than_s
        for path in self.files():
            try:
                if len(path.name) == 64 and path.stat().st_mtime <= cutoff:
                    yield path.name
            except FileNotFoundError:  # deleted meanwhile
                continue


__all__ = ["BlobDamaged", "BlobError", "BlobNotFound", "BlobStore", "FolderBlobStore", "blob_key"]
