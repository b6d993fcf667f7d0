"""A bounded local copy of remote blobs (LoRA files, training images, remake inputs) for one machine.

Files are content-addressed like the folder store and checked when they enter; the least recently used go
first once the folder holds more than its budget (BLOB_CACHE_MB). Several processes on one machine may share
the folder: each one re-reads the folder's size when it evicts, so their tallies never drift far."""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Iterable

from data.blobs import BlobDamaged, BlobNotFound, FolderBlobStore, blob_key, write_atomically, write_checked

log = logging.getLogger("mimic.blobs")


class BlobCache:
    def __init__(self, root: Path, max_bytes: int):
        self.folder = FolderBlobStore(root, create=False)  # made on the first write
        self.max_bytes = max(0, int(max_bytes))
        self._lock = threading.Lock()
        self._used = sum(p.stat().st_size for p in self.folder.files())

    def get(self, digest: str) -> bytes | None:
        """The cached bytes when present and sound; a damaged copy is dropped."""
        return self._sound(digest, self.folder.get)

    def path(self, digest: str) -> Path | None:
        """The cached file when present and sound; a damaged copy is dropped."""
        return self._sound(digest, self.folder.path)

    def _sound(self, digest: str, read):
        try:
            found = read(digest)
        except BlobNotFound:
            return None
        except BlobDamaged as exc:
            log.warning("cached %s; fetching it again", exc)
            self.folder.delete(digest)
            return None
        self._touch(digest)
        return found

    def add(self, digest: str, content: bytes) -> None:
        """Keep bytes already verified against their name."""
        if self.max_bytes and len(content) <= self.max_bytes:
            write_atomically(self.folder.root / blob_key(digest), [content], durable=False)
            self._grew(len(content), digest)

    def add_stream(self, digest: str, chunks: Iterable[bytes]) -> Path:
        """Write a download into the cache, checking its digest on the way; returns the file.

        A file wanted as a path is kept even when it alone exceeds the budget (it is evicted by the next one)."""
        path = self.folder.root / blob_key(digest)
        size = write_checked(path, digest, chunks, durable=False)
        self.folder.remember(digest, path)
        self._grew(size, digest)
        return path

    def discard(self, digest: str) -> None:
        self.folder.delete(digest)

    # least recently used first -----------------------------------------------------------------------------
    def _touch(self, digest: str) -> None:
        """Mark a use in the access time (set explicitly, so noatime mounts do not matter); the modification time
        stays, so the file is not hashed again."""
        path = self.folder.root / blob_key(digest)
        try:
            os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))
        except OSError:
            pass

    def _grew(self, size: int, keep: str) -> None:
        with self._lock:
            self._used += size
            if self._used <= self.max_bytes:
                return
            files = []
            for p in self.folder.files():
                try:
                    st = p.stat()
                except FileNotFoundError:  # another process evicted it
                    continue
                files.append((st.st_atime_ns, st.st_size, p))
            self._used = sum(size for _, size, _ in files)
            for _, size, p in sorted(files, key=lambda f: f[0]):
                if self._used <= self.max_bytes:
                    break
                if p.name == keep:
                    continue
                p.unlink(missing_ok=True)
                self._used -= size

    @property
    def used_bytes(self) -> int:
        return self._used

