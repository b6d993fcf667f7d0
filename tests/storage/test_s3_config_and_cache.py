"""STORAGE_URL mistakes end in one clear line; the local cache of remote blobs stays within its budget and never
serves what the bucket no longer holds."""
from __future__ import annotations

import os

from data.blob_cache import BlobCache
from data.blobs import BlobNotFound
from data.blobs_s3 import MiB, S3BlobStore
from data.settings import Settings
from tests.foundation.test_config_errors import assert_one_line_error, run_mimic


def test_a_malformed_storage_url(tmp_path):
    assert_one_line_error(run_mimic(["worker", "--burst"], tmp_path, STORAGE_URL="minio://bucket"), "STORAGE_URL",
                          "s3://bucket/prefix")


def test_a_missing_bucket_is_named_and_no_secret_printed(tmp_path, fake_s3):
    env = {**fake_s3.environment("no-such-bucket"), "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    result = run_mimic(["worker", "--burst"], tmp_path, **env)
    assert_one_line_error(result, "STORAGE_URL", "'no-such-bucket' does not exist")
    assert env["AWS_SECRET_ACCESS_KEY"] not in result.stderr + result.stdout


def test_an_unreachable_endpoint(tmp_path):
    env = {"STORAGE_URL": "s3://mimic/blobs", "S3_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k",
           "AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    result = run_mimic(["worker", "--burst"], tmp_path, **env)
    assert_one_line_error(result, "STORAGE_URL", "object storage")
    assert "s3cr3t-value" not in result.stderr + result.stdout


def test_the_cache_keeps_to_its_budget_and_follows_deletions(tmp_path, fake_s3):
    bucket = fake_s3.new_bucket()
    settings = Settings(_env_file=None, var_dir=tmp_path / "var", **fake_s3.settings_overrides(bucket))
    writer = S3BlobStore.from_settings(settings)
    names = [writer.put(os.urandom(MiB)) for _ in range(4)]
    reader = S3BlobStore(writer.client, bucket, writer.prefix, cache=BlobCache(tmp_path / "cache", 3 * MiB))
    for name in names:
        assert reader.path(name).stat().st_size == MiB
    assert reader.cache.used_bytes <= 3 * MiB
    assert not reader.cache.path(names[0])  # the least recently used went first
    assert reader.cache.path(names[3])
    fake_s3.client.delete_object(Bucket=bucket, Key=writer.key(names[3]))  # taken down on another machine
    for read in (reader.get, reader.path):
        try:
            read(names[3])
            raise AssertionError("a blob gone from the bucket was served from the cache")
        except BlobNotFound:
            pass
    assert not (tmp_path / "cache" / names[3][:2] / names[3][2:4] / names[3]).exists()


def test_writes_are_conditional_so_a_name_is_written_once(tmp_path, fake_s3):
    bucket = fake_s3.new_bucket()  # versioned: every overwrite would leave a version behind
    fake_s3.client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    settings = Settings(_env_file=None, var_dir=tmp_path / "var", **fake_s3.settings_overrides(bucket))
    store = S3BlobStore.from_settings(settings, multipart_threshold=6 * MiB, part_size=5 * MiB)
    small = os.urandom(1000)
    large = tmp_path / "checkpoint.tar"
    large.write_bytes(os.urandom(11 * MiB))
    names = {store.put(small) for _ in range(3)} | {store.put_file(large) for _ in range(2)}
    versions = fake_s3.client.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["Key"] for v in versions) == sorted(store.key(name) for name in names)
