"""The database is the source of truth for jobs: rows whose arq job was lost are enqueued again by the worker,
and rows arq gave up on without the task recording an outcome are marked failed (and people are told)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from arq.connections import RedisSettings, create_pool
from arq.constants import result_key_prefix

from data.context import AppContext
from data.models import Maker, TrainingJob, utcnow
from engine.queue import JobQueue, training_job_id
from engine.recovery import recover_jobs
from engine.worker import build_worker
from tests.foundation.test_worker_process import _seed_job, recorded_events


def _age(app: AppContext, job_id: int, minutes: int = 5) -> None:
    with app.db.session() as s:
        job = s.get(TrainingJob, job_id)
        job.created_at = utcnow() - timedelta(minutes=minutes)
        s.add(job)
        s.commit()


async def test_a_row_whose_job_redis_lost_is_enqueued_again_and_trained(settings, tiny_model_dir):
    settings = settings.model_copy(update=dict(base_model=str(tiny_model_dir), train_steps=3, cpu_threads=1))
    app = AppContext.create(settings)
    app.db.upgrade()
    lost = _seed_job(app.db, app.blobs)  # committed, but never reached Redis (or Redis forgot it)
    _age(app, lost)
    fresh = _seed_job(app.db, app.blobs, "ren")  # just committed: its enqueue may be on its way, leave it alone
    redis = await create_pool(RedisSettings.from_dsn(app.redis_url))
    queue = JobQueue(app.redis_url, settings.redis_prefix)
    try:
        report = await recover_jobs(app, redis)
        assert report.requeued == [training_job_id(settings.redis_prefix, lost)] and not report.failed
        assert await queue.position(training_job_id(settings.redis_prefix, lost)) == 1
        assert (await recover_jobs(app, redis)).requeued == []  # alive in the queue now: nothing to do

        worker = build_worker(settings, app=app, burst=True, handle_signals=False)
        try:
            await asyncio.wait_for(worker.async_run(), 120)
        finally:
            await worker.close()
    finally:
        await redis.aclose()
        await queue.aclose()
    with app.db.session() as s:
        assert s.get(TrainingJob, lost).status == "done"
        assert s.get(TrainingJob, fresh).status == "queued"
    await app.aclose()


async def test_a_row_arq_gave_up_on_is_marked_failed_and_announced(settings):
    app = AppContext.create(settings)
    app.db.upgrade()
    job_id = _seed_job(app.db, app.blobs)
    with app.db.session() as s:
        job = s.get(TrainingJob, job_id)
        job.status = "running"
        s.add(job)
        s.commit()
    _age(app, job_id)
    redis = await create_pool(RedisSettings.from_dsn(app.redis_url))
    arq_id = training_job_id(settings.redis_prefix, job_id)
    await redis.set(result_key_prefix + arq_id, b"arq's record of its last failed try", ex=60)
    try:
        async with recorded_events(app) as events:
            report = await recover_jobs(app, redis)
            await asyncio.sleep(0.3)
    finally:
        await redis.aclose()
    assert report.failed == [arq_id] and not report.requeued
    with app.db.session() as s:
        job, maker = s.get(TrainingJob, job_id), s.get(Maker, s.get(TrainingJob, job_id).maker_id)
        assert job.status == "failed" and "interrupted" in job.error
        assert maker.status == "failed"
    assert [e["type"] for e in events] == ["training.failed"]
    await app.aclose()
