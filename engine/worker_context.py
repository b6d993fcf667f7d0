"""Every key of the context dict an arq worker hands each task, in one place.

arq sets `redis`, `job_id`, `job_try`, `enqueue_time` and `score` for each job (arq/worker.py, `Worker.run_job`);
ours are set once by the worker's startup (engine/worker.py)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from data.context import AppContext
    from engine.pipelines import PipelineCache


class WorkerContext(TypedDict, total=False):
    # arq's, per job
    redis: ArqRedis
    job_id: str
    job_try: int
    enqueue_time: datetime
    score: int
    # ours, per worker
    app: AppContext
    pipelines: PipelineCache  # built lazily on first use (engine/worker.py)
