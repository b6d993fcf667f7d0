"""The blob store the settings name. Apart from data/blobs.py so that the stores never import each other in a
circle: the S3 store (and boto3, which only S3 installs need loaded) is imported when it is chosen."""
from __future__ import annotations

from data.blobs import BlobStore, FolderBlobStore
from data.settings import Settings


def open_blob_store(settings: Settings, *, create: bool = True) -> BlobStore:
    """The store the settings name: S3-compatible storage for `STORAGE_URL=s3://...`, else the local folder.

    `create=False` opens it for reading only (no folder made, no bucket checked)."""
    if settings.storage_url:
        from data.blobs_s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    return FolderBlobStore(settings.blob_dir, create=create)
