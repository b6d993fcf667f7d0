"""Jobs the queue lost: the database is the source of truth, Redis only carries the work.

A row can say queued or running while arq knows nothing of it: a Redis without persistence restarted, the
process died between committing the row and enqueueing it, or arq gave up after its last try. Workers run
`recover_jobs` at start-up and every few minutes: a row whose job is gone is enqueued again (the tasks are
idempotent, and a training resumes from its checkpoint); a row whose job arq already finished without the
task recording an outcome is marked failed, so nobody waits for it forever."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from sqlmodel import select

from data.events import GenerationFailed, TrainingFailed
from data.context import AppContext
from data.models import ExportJob, Generation, JobStatus, TrainingJob, utcnow
from engine.queue import (EXPORT_TASK, GENERATE_TASK, TRAIN_TASK, export_job_id, generation_job_id, queue_name,
                          training_job_id)

log = logging.getLogger("mimic.worker")

OPEN = (JobStatus.queued.value, JobStatus.running.value)
MIN_AGE = timedelta(seconds=60)  # younger rows may be between their commit and their enqueue
GAVE_UP = "the job was interrupted too many times"


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def _state(redis: ArqRedis, arq_id: str) -> str:
    """'alive' (queued or running in arq), 'finished' (arq kept a result) or 'gone'."""
    if await redis.exists(job_key_prefix + arq_id, in_progress_key_prefix + arq_id):
        return "alive"
    if await redis.exists(result_key_prefix + arq_id):
        return "finished"
    return "gone"


async def recover_jobs(app: AppContext, redis: ArqRedis, *, min_age: timedelta = MIN_AGE) -> Recovery:
    prefix = app.settings.redis_prefix
    cutoff = utcnow() - min_age
    with app.db.session() as s:
        trainings = s.exec(select(TrainingJob.id).where(TrainingJob.status.in_(OPEN))
                           .where(TrainingJob.created_at < cutoff)).all()
        generations = s.exec(select(Generation.id).where(Generation.status.in_(OPEN))
                             .where(Generation.created_at < cutoff)).all()
        exports = s.exec(select(ExportJob.id).where(ExportJob.status.in_(OPEN))
                         .where(ExportJob.created_at < cutoff)).all()
    report = Recovery()
    for model, task, ids, make_id in ((TrainingJob, TRAIN_TASK, trainings, training_job_id),
                                      (Generation, GENERATE_TASK, generations, generation_job_id),
                                      (ExportJob, EXPORT_TASK, exports, export_job_id)):
        for row_id in ids:
            arq_id = make_id(prefix, row_id)
            state = await _state(redis, arq_id)
            if state == "gone":
                await redis.enqueue_job(task, row_id, _job_id=arq_id, _queue_name=queue_name(prefix))
                report.requeued.append(arq_id)
            elif state == "finished" and await _fail_if_open(app, model, row_id):
                report.failed.append(arq_id)
    if report.requeued or report.failed:
        log.warning("recovered jobs the queue had lost: requeued %s, marked failed %s",
                    report.requeued or "none", report.failed or "none")
    return report


async def _fail_if_open(app: AppContext, model, row_id: int) -> bool:
    from engine.jobs import finish_training

    with app.db.session() as s:
        row = s.get(model, row_id)
        if row is None or row.status not in OPEN:
            return False  # it finished between our two looks
        if model is ExportJob:  # /me shows it failed; the person asks again
            row.status, row.error, row.finished_at = JobStatus.failed.value, GAVE_UP, utcnow()
            s.add(row)
            s.commit()
            return True
        maker_id = row.maker_id
        if model is Generation:
            row.status, row.error, row.finished_at = JobStatus.failed.value, GAVE_UP, utcnow()
            s.add(row)
            s.commit()
    if model is TrainingJob:
        finish_training(app, row_id, maker_id, JobStatus.failed, error=GAVE_UP)
    failed = TrainingFailed if model is TrainingJob else GenerationFailed
    await app.events.publish(failed(id=row_id, maker_id=maker_id))  # so the bot tells the person
    return True
