"""S3 for tests: moto's S3 server (ThreadedMotoServer, werkzeug) on a random loopback port, reached by the real
boto3 client over HTTP. Each test gets a bucket of its own."""
from __future__ import annotations

import uuid

import boto3
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

# moto accepts any credentials; they are passed explicitly so nothing depends on the environment
CREDENTIALS = {"aws_access_key_id": "mimic-test", "aws_secret_access_key": "mimic-test-secret",
               "region_name": "us-east-1"}


class FakeS3:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> "FakeS3":
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client = boto3.client("s3", endpoint_url=self.endpoint, **CREDENTIALS)
        return self

    def stop(self) -> None:
        self._server.stop()

    def new_bucket(self) -> str:
        name = f"mimic-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def settings_overrides(self, bucket: str, prefix: str = "blobs") -> dict:
        """What an install sets to use this server: STORAGE_URL, S3_ENDPOINT_URL and credentials."""
        return dict(storage_url=f"s3://{bucket}/{prefix}", s3_endpoint_url=self.endpoint,
                    aws_access_key_id=CREDENTIALS["aws_access_key_id"],
                    aws_secret_access_key=SecretStr(CREDENTIALS["aws_secret_access_key"]),  # model_copy skips
                    aws_region=CREDENTIALS["region_name"])

    def environment(self, bucket: str, prefix: str = "blobs") -> dict:
        """The same as environment variables, for a `mimic` subprocess."""
        return {"STORAGE_URL": f"s3://{bucket}/{prefix}", "S3_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
                "AWS_REGION": CREDENTIALS["region_name"]}
