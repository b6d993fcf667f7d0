"""A content-addressed blob store in a local folder: images, LoRA files, checkpoints.

A blob's name is the sha256 of its bytes, so writing the same bytes twice is free and a name can be trusted.
An S3-compatible store would implement the same four methods."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from data.settings import ConfigError


class BlobNotFound(KeyError):
    pass


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-", delete=True)
            probe.close()
        except OSError as exc:
            raise ConfigError(f"STORAGE_DIR {self.root} is not writable ({exc.strerror})") from None

    @classmethod
    def reader(cls, root: Path) -> "BlobStore":
        """A store only read from (a command-line look-up): no folder is created and no write access is needed."""
        store = cls.__new__(cls)
        store.root = Path(root)
        return store

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise BlobNotFound(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)  # atomic: readers never see half a blob
        return digest

    def put_file(self, source: Path) -> str:
        return self.put(Path(source).read_bytes())

    def get(self, digest: str) -> bytes:
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def path(self, digest: str) -> Path:
        """A local path for libraries that want a file (safetensors, diffusers)."""
        path = self._path(digest)
        if not path.exists():
            raise BlobNotFound(digest)
        return path

    def exists(self, digest: str) -> bool:
        try:
            return self._path(digest).exists()
        except BlobNotFound:
            return False

    def delete(self, digest: str) -> None:
        try:
            self._path(digest).unlink(missing_ok=True)
        except BlobNotFound:
            pass
