"""Shared fixtures: settings on a temporary var dir, the real Redis and PostgreSQL, the tiny model.

A variant whose server is absent is skipped with the reason printed, never silently passed."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from sqlmodel import SQLModel

from data.context import AppContext
from data.settings import Settings

REDIS_URL = os.environ.get("MIMIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("MIMIC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_available():
        pytest.skip(f"no Redis server at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    """Settings on a temporary var dir, the real Redis with a key prefix of its own (cleaned up after)."""
    prefix = f"mimic-test-{uuid.uuid4().hex[:8]}"
    yield Settings(
        _env_file=None,
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'mimic.db'}",
        redis_url=redis_url,
        redis_prefix=prefix,
    )
    client = redis.Redis.from_url(redis_url)
    for pattern in (f"{prefix}*", f"arq:*{prefix}*"):  # our keys, and arq's keys for our job ids
        for key in client.scan_iter(match=pattern):
            client.delete(key)
    client.close()


@pytest.fixture
async def ctx(settings: Settings) -> AppContext:
    context = AppContext.create(settings)
    SQLModel.metadata.create_all(context.db.engine)
    yield context
    await context.aclose()


@pytest.fixture
def pg_url() -> str:
    """A fresh temporary PostgreSQL database, dropped afterwards."""
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg2://"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"mimic_test_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}: {type(exc).__name__}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from engine.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-model") / "tiny-sd")


@pytest.fixture(scope="session")
def fake_s3():
    """moto's S3 server on 127.0.0.1 (moto[server] is in the lock: these tests never skip)."""
    from tests.fakes.s3 import FakeS3

    server = FakeS3().start()
    yield server
    server.stop()
