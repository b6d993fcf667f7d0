"""A training that outlives JOB_TIMEOUT_S stops at a checkpoint and says why, instead of being cut off by arq
with its row left 'running'."""
from __future__ import annotations

import asyncio

from data.context import AppContext
from data.models import Maker, TrainingJob
from engine.queue import JobQueue
from engine.worker import build_worker
from tests.foundation.test_worker_process import _seed_job


async def test_a_training_past_its_timeout_fails_politely_and_keeps_its_checkpoint(settings, tiny_model_dir):
    settings = settings.model_copy(update=dict(base_model=str(tiny_model_dir), train_steps=100_000,
                                               checkpoint_every=3, job_timeout_s=4, cpu_threads=1))
    app = AppContext.create(settings)
    app.db.upgrade()
    job_id = _seed_job(app.db, app.blobs)
    queue = JobQueue(app.redis_url, settings.redis_prefix)
    await queue.enqueue_training(job_id)
    worker = build_worker(settings, app=app, burst=True, handle_signals=False)
    try:
        await asyncio.wait_for(worker.async_run(), 120)
    finally:
        await worker.close()
        await queue.aclose()

    with app.db.session() as s:
        job, maker = s.get(TrainingJob, job_id), s.exec(Maker.__table__.select()).one()
    assert job.status == "failed" and "JOB_TIMEOUT_S" in job.error
    assert 0 < job.step < 100_000
    assert job.checkpoint_blob and app.blobs.exists(job.checkpoint_blob)  # an operator's retry resumes from it
    assert maker.status == "failed"
    await app.aclose()
