"""Health, readiness and metrics: the web gallery's /healthz /readyz /metrics, the same on HEALTH_PORT for a
`mimic worker` process, per-context registries, and JSON logs without secrets."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlmodel import SQLModel

from bot.core.app import Core
from bot.logs import JsonFormatter, Redacting
from bot.web.server import build_web_app
from data.blobs import BlobNotFound
from data.context import AppContext
from engine.jobs import generate
from engine.queue import JobQueue
from engine.worker import measured

ROOT = Path(__file__).resolve().parents[2]


def sample(app: AppContext, name: str, **labels) -> float:
    return app.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def web_client(ctx):
    core = Core(app=ctx, queue=JobQueue(ctx.redis_url, ctx.settings.redis_prefix), providers={})
    async with TestClient(TestServer(build_web_app(core))) as client:
        yield client, core


async def test_the_gallery_is_alive_ready_and_measured(web_client):
    client, core = web_client
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"ready": True, "database": "ok", "redis": "ok", "storage": "ok"}

    await core.queue.enqueue_generation(1)
    await core.queue.enqueue_generation(2)
    metrics = await client.get("/metrics")
    assert metrics.status == 200 and metrics.content_type == "text/plain"
    text = await metrics.text()
    assert "mimic_queue_depth 2.0" in text
    for name in ("mimic_queue_oldest_age_seconds", "mimic_job_duration_seconds", "mimic_job_outcomes_total",
                 "mimic_interaction_ack_seconds", "mimic_verification_seconds", "mimic_blob_errors_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


async def test_readyz_names_the_part_that_failed_with_503(settings, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    app = AppContext.create(settings.model_copy(update={"redis_url": f"redis://:hunter2@127.0.0.1:{port}/0"}),
                            check=False)
    SQLModel.metadata.create_all(app.db.engine)
    shutil.rmtree(settings.blob_dir)
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    web_app = build_web_app(core)
    web_app.on_startup.clear()  # the gallery's own start-up wants Redis; the probes must answer without it
    async with TestClient(TestServer(web_app)) as client:
        assert (await client.get("/healthz")).status == 200  # alive, though not ready
        ready = await client.get("/readyz")
        body = await ready.json()
    assert ready.status == 503
    assert body["ready"] is False and body["database"] == "ok"
    assert body["redis"].startswith("failed:") and body["storage"].startswith("failed:")
    assert "hunter2" not in json.dumps(body) and str(port) not in json.dumps(body)
    await app.aclose()


async def test_queue_depth_counts_waiting_jobs_and_age_the_oldest_waiting(ctx):
    queue = JobQueue(ctx.redis_url, ctx.settings.redis_prefix)
    await queue.enqueue_generation(1)
    await asyncio.sleep(0.05)
    await queue.enqueue_generation(2)
    pool = await queue.pool()
    await pool.set(f"arq:in-progress:{ctx.settings.redis_prefix}:gen:1", b"1", px=60_000)  # as a worker marks it
    try:
        oldest_waiting = (await pool.zscore(queue.queue, f"{ctx.settings.redis_prefix}:gen:2"))
        await ctx.metrics.refresh_queue(pool, queue.queue, now_ms=oldest_waiting + 90_000)
        assert sample(ctx, "mimic_queue_depth") == 1
        assert sample(ctx, "mimic_queue_running") == 1
        assert sample(ctx, "mimic_queue_oldest_age_seconds") == pytest.approx(90.0)
    finally:
        await pool.delete(f"arq:in-progress:{ctx.settings.redis_prefix}:gen:1")
        await queue.aclose()


async def test_job_outcomes_and_durations_are_counted_by_kind(ctx):
    result = await measured("generate", generate)({"app": ctx, "pipelines": None}, 424242)
    assert result == "missing"
    assert sample(ctx, "mimic_job_outcomes_total", kind="generate", outcome="missing") == 1
    assert sample(ctx, "mimic_job_duration_seconds_count", kind="generate") == 1


async def test_blob_store_failures_are_counted_and_a_missing_blob_is_not(ctx):
    with pytest.raises(BlobNotFound):
        ctx.blobs.get("0" * 64)
    assert sample(ctx, "mimic_blob_errors_total", operation="get") == 0
    shutil.rmtree(ctx.settings.blob_dir)
    ctx.settings.blob_dir.write_text("not a folder")  # a lost mount, say
    with pytest.raises(OSError):
        ctx.blobs.put(b"some image")
    assert sample(ctx, "mimic_blob_errors_total", operation="put") == 1


async def test_two_contexts_in_one_process_never_share_a_metric(settings):
    first, second = AppContext.create(settings), AppContext.create(settings)
    first.metrics.job_outcomes.labels("train", "done").inc()
    assert sample(first, "mimic_job_outcomes_total", kind="train", outcome="done") == 1
    assert sample(second, "mimic_job_outcomes_total", kind="train", outcome="done") == 0
    await first.aclose()
    await second.aclose()


def test_json_logs_are_one_object_per_line_without_secrets(settings):
    settings = settings.model_copy(update={"discord_token": SecretStr("tok-SECRET-123"),
                                           "database_url": "postgresql://mimic:pg-pass-456@db/mimic"})
    formatter = Redacting(JsonFormatter(), settings)
    logger = logging.getLogger("mimic.test-json")
    try:
        raise RuntimeError("refused token tok-SECRET-123")
    except RuntimeError:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "login with %s at %s failed",
                                   ("tok-SECRET-123", "postgresql://mimic:pg-pass-456@db"), sys.exc_info(),
                                   extra={"guild_id": 42})
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["logger"] == "mimic.test-json" and entry["guild_id"] == 42
    assert "RuntimeError" in entry["exception"]
    assert "tok-SECRET-123" not in line and "pg-pass-456" not in line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_worker_process_serves_health_and_metrics_on_health_port_and_logs_json(settings):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": settings.database_url,
           "REDIS_URL": settings.redis_url, "REDIS_PREFIX": settings.redis_prefix, "VAR_DIR": str(settings.var_dir),
           "HEALTH_PORT": str(port), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as ready:
                        body = await ready.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"
                    await asyncio.sleep(0.2)
            assert ready.status == 200 and body["ready"] is True
            async with http.get(f"http://127.0.0.1:{port}/healthz") as alive:
                assert alive.status == 200
            async with http.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                assert "mimic_queue_depth" in await metrics.text()
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(worker.communicate, timeout=60)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] for line in lines), lines[:5]
