"""Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2 ...) through boto3.

Layout: s3://<bucket>/<prefix>/ab/cd/<digest>, the folder store's layout under a prefix.
Writes are conditional: `If-None-Match: *` on PutObject and CompleteMultipartUpload, so a name is written once
and a 412 means "already there" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html);
small puts also send `x-amz-checksum-sha256`, so the service itself refuses bytes damaged on the way
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html). Large blobs go up as a
multipart upload whose parts are sent in parallel. Reads check the digest; LoRA files and other inputs that a
worker reads are kept in a bounded local cache (data/blob_cache.py)."""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from data.blob_cache import BlobCache
from data.blobs import BlobDamaged, BlobError, BlobNotFound, BlobStore, blob_key, check_name, file_digest, verified
from data.settings import Settings

log = logging.getLogger("mimic.blobs")
MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB  # every part but the last (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html)
S3_MAX_PARTS = 10_000
_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_storage_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); Settings checked its shape."""
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix.strip("/")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore(BlobStore):
    def __init__(self, client, bucket: str, prefix: str = "", *, cache: BlobCache,
                 multipart_threshold: int = 64 * MiB, part_size: int = 16 * MiB, concurrency: int = 4):
        self.client, self.bucket, self.prefix, self.cache = client, bucket, prefix.strip("/"), cache
        self.multipart_threshold = max(multipart_threshold, S3_MIN_PART)
        self.part_size, self.concurrency = max(part_size, S3_MIN_PART), max(1, concurrency)

    @classmethod
    def from_settings(cls, settings: Settings, **tuning) -> "S3BlobStore":
        bucket, prefix = parse_storage_url(settings.storage_url)
        # credentials: the ones in the settings when given, else boto3's own chain (AWS_* variables, ~/.aws,
        # instance and container roles)
        secret = settings.aws_secret_access_key.get_secret_value() if settings.aws_secret_access_key else None
        token = settings.aws_session_token.get_secret_value() if settings.aws_session_token else None
        session = boto3.session.Session(aws_access_key_id=settings.aws_access_key_id or None,
                                        aws_secret_access_key=secret, aws_session_token=token,
                                        region_name=settings.aws_region or None)
        endpoint = settings.s3_endpoint_url or None
        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60,
                        max_pool_connections=16,
                        s3={"addressing_style": "path"} if endpoint else None)  # MinIO and friends: path style
        client = session.client("s3", endpoint_url=endpoint, config=config)
        return cls(client, bucket, prefix, cache=BlobCache(settings.blob_cache_dir, settings.blob_cache_mb * MiB),
                   **tuning)

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix})"

    def key(self, digest: str) -> str:
        return f"{self.prefix}/{blob_key(digest)}" if self.prefix else blob_key(digest)

    def _call(self, what: str, fn: Callable, **kwargs):
        """One S3 call; the service's answers (ClientError) are the caller's to read, transport failures become
        BlobError."""
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except BotoCoreError as exc:  # unreachable endpoint, bad credentials format ...: no secret in these texts
            raise BlobError(f"object storage: {what} failed ({exc})") from None

    # writing --------------------------------------------------------------------------------------------------
    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        if len(content) >= self.multipart_threshold:
            view = memoryview(content)
            self._multipart(digest, len(content), lambda offset, size: bytes(view[offset:offset + size]))
        else:
            self._put_small(digest, content)
        return digest

    def put_file(self, source: Path) -> str:
        digest, size = file_digest(source)
        if size < self.multipart_threshold:
            self._put_small(digest, Path(source).read_bytes())
            return digest
        fd = os.open(source, os.O_RDONLY)
        try:
            self._multipart(digest, size, lambda offset, length: os.pread(fd, length, offset))
        finally:
            os.close(fd)
        return digest

    def _put_small(self, digest: str, content: bytes, *, replacing: str = "") -> None:
        checksum = base64.b64encode(bytes.fromhex(digest)).decode()
        condition = {"IfMatch": replacing} if replacing else {"IfNoneMatch": "*"}
        for attempt in range(4):
            try:
                self._call("put", self.client.put_object, Key=self.key(digest), Body=content,
                           ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum, **condition)
                return
            except ClientError as exc:
                if _code(exc) in ("PreconditionFailed", "412"):
                    if not replacing:
                        self._replace_if_damaged(digest, content, checksum)
                    return  # already there (or replaced meanwhile by another writer)
                if _code(exc) == "ConditionalRequestConflict" and attempt < 3:
                    time.sleep(0.2 * (attempt + 1))  # another writer of the same blob is mid-way: ask again
                    continue
                raise BlobError(f"object storage: put {digest[:12]} failed ({_code(exc)})") from None

    def _replace_if_damaged(self, digest: str, content: bytes, checksum: str) -> None:
        """A present object is trusted when the service checked it against our digest on the way in (its stored
        SHA-256); anything else is read and checked, and replaced when damaged."""
        head = self._head(digest, ChecksumMode="ENABLED")
        if head is None or head.get("ChecksumSHA256") == checksum:
            return
        try:
            self._download(digest)
            return
        except BlobDamaged as exc:
            log.error("%s; replacing it", exc)
        except BlobNotFound:
            pass
        self._put_small(digest, content, replacing=head["ETag"])

    def _multipart(self, digest: str, size: int, read: Callable[[int, int], bytes]) -> None:
        head = self._head(digest)
        if head is not None and head["ContentLength"] == size:
            return  # a big upload skipped, not just refused at the end; a damaged copy is caught when read
        condition = {} if head is not None else {"IfNoneMatch": "*"}  # the wrong size: damaged, overwrite it
        key = self.key(digest)
        part = max(self.part_size, -(-size // S3_MAX_PARTS))
        upload_id = self._call("start upload", self.client.create_multipart_upload, Key=key)["UploadId"]

        def send(numbered: tuple[int, int]) -> dict:
            number, offset = numbered
            answer = self._call("upload part", self.client.upload_part, Key=key, UploadId=upload_id,
                                PartNumber=number, Body=read(offset, part))
            return {"PartNumber": number, "ETag": answer["ETag"]}
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="blob-part") as pool:
                parts = list(pool.map(send, enumerate(range(0, size, part), start=1)))
            self._call("complete upload", self.client.complete_multipart_upload, Key=key, UploadId=upload_id,
                       MultipartUpload={"Parts": parts}, **condition)
        except ClientError as exc:
            self._abort(key, upload_id)
            if _code(exc) in ("PreconditionFailed", "412"):
                return  # another machine finished the same blob first
            raise BlobError(f"object storage: multipart put {digest[:12]} failed ({_code(exc)})") from None
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):  # a lifecycle rule for incomplete uploads cleans up what is left
            log.warning("could not abort the multipart upload of %s", key)

    # reading --------------------------------------------------------------------------------------------------
    def _get_object(self, digest: str, **kwargs) -> dict:
        try:
            return self._call("get", self.client.get_object, Key=self.key(digest), **kwargs)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise BlobNotFound(digest) from None
            raise BlobError(f"object storage: get {digest[:12]} failed ({_code(exc)})") from None

    def _still_there(self, digest: str) -> bool:
        """A cached copy is used only while the object exists: a takedown elsewhere reaches every machine."""
        if self.exists(digest):
            return True
        self.cache.discard(digest)
        return False

    def get(self, digest: str) -> bytes:
        check_name(digest)
        cached = self.cache.get(digest)
        if cached is not None and self._still_there(digest):
            return cached
        data = self._download(digest)
        self.cache.add(digest, data)
        return data

    def _download(self, digest: str) -> bytes:
        body = self._get_object(digest)["Body"]
        try:
            return verified(digest, body.read())
        finally:
            body.close()

    def peek(self, digest: str, size: int = 16) -> bytes:
        body = self._get_object(check_name(digest), Range=f"bytes=0-{max(1, size) - 1}")["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def path(self, digest: str) -> Path:
        check_name(digest)
        cached = self.cache.path(digest)
        if cached is not None and self._still_there(digest):
            return cached
        body = self._get_object(digest)["Body"]
        try:
            return self.cache.add_stream(digest, body.iter_chunks(1024 * 1024))
        finally:
            body.close()

    def _head(self, digest: str, **kwargs) -> dict | None:
        try:
            return self._call("head", self.client.head_object, Key=self.key(digest), **kwargs)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise BlobError(f"object storage: head {digest[:12]} failed ({_code(exc)})") from None

    def exists(self, digest: str) -> bool:
        try:
            return self._head(check_name(digest)) is not None
        except BlobNotFound:
            return False

    def delete(self, digest: str) -> None:
        try:
            key = self.key(digest)
        except BlobNotFound:
            return
        self.cache.discard(digest)
        try:
            self._call("delete", self.client.delete_object, Key=key)
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise BlobError(f"object storage: delete {digest[:12]} failed ({_code(exc)})") from None

    def listing(self, *, older_than_s: float = 0.0) -> Iterable[str]:
        """Every object under the prefix named like a blob, by ListObjectsV2 pages (1,000 keys each:
        https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)."""
        cutoff = time.time() - older_than_s
        prefix = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        try:
            for page in pages:
                for item in page.get("Contents") or ():
                    name = item["Key"].rsplit("/", 1)[-1]
                    if len(name) == 64 and item["LastModified"].timestamp() <= cutoff:
                        yield name
        except (ClientError, BotoCoreError) as exc:
            raise BlobError(f"object storage: listing failed ({type(exc).__name__})") from None

    def check(self) -> None:
        try:
            self._call("reach the bucket", self.client.head_bucket)
        except ClientError as exc:
            code = _code(exc)
            why = {"404": "does not exist", "NoSuchBucket": "does not exist", "403": "refuses these credentials"}
            raise BlobError(f"object storage: bucket {self.bucket!r} {why.get(code, f'answers {code}')}") from None

    def presigned_url(self, digest: str, *, expires_s: int, content_type: str | None = None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.key(digest)}
        if content_type:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_s))
