"""A job enqueued from the bot side runs in a separate `mimic worker` process; a worker killed mid-job is
replaced and the job finishes once, resuming from its checkpoint; a worker told to stop (SIGTERM) pauses the
training at once, and a worker on another machine resumes it from the checkpoint kept in the blob store."""
from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from data.context import AppContext
from data.db import Database
from data.models import Maker, MakerImage, MakerStatus, TrainingJob, User
from engine.queue import JobQueue
from verification.synthetic import draw_illustration


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    draw_illustration(seed, (64, 64)).save(buffer, "PNG")
    return buffer.getvalue()


def _env(settings, tiny_model_dir: Path, steps: int) -> dict:
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "REDIS_PREFIX": settings.redis_prefix, "VAR_DIR": str(settings.var_dir), "BASE_MODEL": str(tiny_model_dir),
            "TRAIN_STEPS": str(steps), "CHECKPOINT_EVERY": "5", "JOB_LEASE_S": "2", "LOG_LEVEL": "WARNING",
            "OMP_NUM_THREADS": "1"}  # a tiny model trains fastest on one thread, and predictably under load


def _start_worker(env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


@contextlib.asynccontextmanager
async def recorded_events(app: AppContext):
    """Every event published while the block runs, in order."""
    events: list[dict] = []

    async def listen():
        async for event in app.events.listen():
            events.append(event)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)  # subscribed before anything is published
    try:
        yield events
    finally:
        listener.cancel()


async def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def _seed_job(db: Database, blobs, name: str = "aoi") -> int:
    with db.session() as s:
        user = User(display_name=name)
        s.add(user)
        s.flush()
        maker = Maker(owner_id=user.id, name=name, status=MakerStatus.training.value, trigger=f"mimic_{name}")
        s.add(maker)
        s.flush()
        for seed in range(3):
            s.add(MakerImage(maker_id=maker.id, blob=blobs.put(_png(seed))))
        job = TrainingJob(maker_id=maker.id)
        s.add(job)
        s.commit()
        return job.id


@contextlib.contextmanager
def worker_processes(env: dict, cwd: Path):
    """`start()` runs another `mimic worker`; whatever is still running at the end is killed."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(_start_worker(env, cwd))
        return started[-1]

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(20)


async def test_killed_worker_is_replaced_and_the_job_finishes_once(settings, tiny_model_dir, tmp_path):
    db = Database(settings.database_url)
    db.upgrade()
    app = AppContext.create(settings)
    job_id = _seed_job(app.db, app.blobs)
    queue = JobQueue(settings.redis_url, settings.redis_prefix)
    async with recorded_events(app) as events:
        with worker_processes(_env(settings, tiny_model_dir, steps=60), tmp_path) as start_worker:
            first = start_worker()
            assert await queue.enqueue_training(job_id) == 1
            assert await queue.enqueue_training(job_id) in (0, 1)  # idempotent: same row, same job
            checkpoints = settings.var_dir.resolve() / "training" / f"job-{job_id}" / "checkpoints"
            await _wait_for(lambda: checkpoints.exists() and any(checkpoints.iterdir()), 120, "a checkpoint")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
            with app.db.session() as s:
                assert s.get(TrainingJob, job_id).status == "running"  # the dead worker left it mid-way

            start_worker()
            await _wait_for(lambda: any(e["type"] == "training.done" for e in events), 240, "training.done")
    await queue.aclose()

    with app.db.session() as s:
        jobs = s.exec(select(TrainingJob)).all()
        maker = s.exec(select(Maker)).one()
    assert len(jobs) == 1 and jobs[0].status == "done"
    assert jobs[0].attempts == 2
    assert maker.status == "ready" and app.blobs.exists(maker.lora_blob)
    assert [e["type"] for e in events].count("training.done") == 1
    assert [e["attempt"] for e in events if e["type"] == "training.started"] == [1, 2]
    await app.aclose()
    db.dispose()


async def test_sigterm_pauses_training_and_another_machine_resumes_it(settings, tiny_model_dir, tmp_path):
    from engine.checkpoint_archive import archived_step

    db = Database(settings.database_url)
    db.upgrade()
    app = AppContext.create(settings)
    job_id = _seed_job(app.db, app.blobs)
    queue = JobQueue(settings.redis_url, settings.redis_prefix)

    def job() -> TrainingJob:
        with app.db.session() as s:
            return s.get(TrainingJob, job_id)

    async with recorded_events(app) as events:
        with worker_processes(_env(settings, tiny_model_dir, steps=400), tmp_path) as start_worker:
            first = start_worker()
            await queue.enqueue_training(job_id)
            await _wait_for(lambda: job().checkpoint_blob, 120, "a checkpoint in the blob store")
            first.send_signal(signal.SIGTERM)
            first.wait(30)
            paused = job()
            # paused, not trained to the end in a thread nobody waits for (the row would say running, step 400)
            assert paused.status == "queued" and paused.step < 400
            paused_at = archived_step(app.blobs.get(paused.checkpoint_blob))
            assert paused_at >= paused.step  # the pause checkpointed the step it stopped at, not an older one

            shutil.rmtree(settings.var_dir.resolve() / "training")  # the next worker runs on another machine
            start_worker()
            await _wait_for(lambda: any(e["type"] == "training.done" for e in events), 300, "training.done")
    await queue.aclose()

    second_attempt = events[[e.get("attempt") for e in events].index(2):]
    first_progress = next(e for e in second_attempt if e["type"] == "training.progress")
    assert first_progress["step"] == paused_at + 1
    finished = job()
    assert finished.status == "done" and finished.checkpoint_blob == ""
    assert not app.blobs.exists(paused.checkpoint_blob)  # the finished weights supersede the checkpoint
    await app.aclose()
    db.dispose()
