"""The arq worker: run as many as there are GPUs, on as many machines as share the Redis and database."""
from __future__ import annotations

import asyncio
import logging
import time
from functools import wraps

from arq import Worker, cron, func
from arq.connections import RedisSettings
from arq.worker import Retry

from data.context import AppContext
from data.settings import Settings
from engine.jobs import export_data, generate, train_maker
from engine.queue import EXPORT_TASK, GENERATE_TASK, TRAIN_TASK, queue_name
from engine.recovery import recover_jobs
from engine.worker_context import WorkerContext

log = logging.getLogger("mimic.worker")

TRAINING_STOP_GRACE_S = 600


def measured(kind: str, function):
    """A job function that records its duration and outcome (the status it returns, or what it raised) in the
    worker's metrics."""

    @wraps(function)
    async def run(ctx: dict, *args, **kwargs):
        metrics = ctx["app"].metrics
        started, outcome = time.perf_counter(), "error"
        try:
            result = await function(ctx, *args, **kwargs)
            outcome = result if isinstance(result, str) else "done"
            return result
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:  # the worker stopped it (a training goes back to the queue)
            outcome = "stopped"
            raise
        finally:
            metrics.job_duration.labels(kind).observe(time.perf_counter() - started)
            metrics.job_outcomes.labels(kind, outcome).inc()

    return run


class _LazyPipelines:
    """Builds the PipelineCache on first use, so a worker starts fast and imports torch only when needed."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._cache = None

    def __getattr__(self, name):
        if self._cache is None:
            from engine.pipelines import PipelineCache

            self._cache = PipelineCache(device=self._settings.device, dtype=self._settings.dtype)
        return getattr(self._cache, name)


def build_worker(settings: Settings, *, app: AppContext | None = None, burst: bool = False,
                 handle_signals: bool = True) -> Worker:
    """An arq worker; `handle_signals=False` when it shares a process (and its signals) with other services."""
    owns_app = app is None
    app = app or AppContext.create(settings)

    async def startup(ctx: WorkerContext) -> None:
        if settings.cpu_threads:
            import torch

            torch.set_num_threads(settings.cpu_threads)
        ctx["app"] = app
        ctx["pipelines"] = _LazyPipelines(settings)
        log.info("worker ready on queue %s", queue_name(settings.redis_prefix))

    async def recover(ctx: WorkerContext) -> None:
        await recover_jobs(ctx["app"], ctx["redis"])

    async def shutdown(ctx: WorkerContext) -> None:
        if owns_app:
            await app.aclose()

    timeout = settings.job_timeout_s
    return Worker(
        # a training gets many tries (each worker stop costs one, and it resumes from its checkpoint), and arq's
        # timeout only after ours plus the time to reach a step boundary and checkpoint
        functions=[func(measured("train", train_maker), name=TRAIN_TASK, timeout=timeout + TRAINING_STOP_GRACE_S,
                        max_tries=20),
                   func(measured("generate", generate), name=GENERATE_TASK, timeout=min(timeout, 900), max_tries=3),
                   func(measured("export", export_data), name=EXPORT_TASK, timeout=min(timeout, 3600), max_tries=3)],
        # jobs the queue lost (a Redis restart, a crash between commit and enqueue) are found again
        cron_jobs=[cron(recover, name=f"{settings.redis_prefix}:recover", minute=set(range(0, 60, 5)),
                        run_at_startup=True, unique=True, timeout=120)],
        queue_name=queue_name(settings.redis_prefix),
        redis_settings=RedisSettings.from_dsn(app.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=settings.worker_concurrency,
        job_timeout=timeout + TRAINING_STOP_GRACE_S,
        allow_abort_jobs=True,
        burst=burst,
        poll_delay=0.2,
        keep_result=3600,
        handle_signals=handle_signals,
    )
