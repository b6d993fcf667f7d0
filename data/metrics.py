"""What an operator measures, in Prometheus form: one registry per AppContext (no process-global state, so two
contexts in one test process never share a counter).

Each process exposes its own registry on /metrics (the web gallery's port, or HEALTH_PORT for the bot and the
workers); Prometheus adds them up over the machines."""
from __future__ import annotations

import inspect
import time
from contextlib import contextmanager
from functools import wraps
from typing import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# how many of the oldest queued jobs a scrape looks at to tell running jobs (arq keeps them in the queue until
# they end) from waiting ones: running jobs are the oldest due ones, and there are as many as worker slots
QUEUE_SAMPLE = 1000
IN_PROGRESS_KEY = "arq:in-progress:"  # arq.constants.in_progress_key_prefix

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
JOB_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.queue_depth = Gauge("mimic_queue_depth", "Jobs waiting in the queue (not yet running)", registry=r)
        self.queue_running = Gauge("mimic_queue_running", "Jobs being run by workers", registry=r)
        self.queue_oldest_age = Gauge("mimic_queue_oldest_age_seconds",
                                      "How long the oldest waiting job has been due (0 when none waits)", registry=r)
        self.job_duration = Histogram("mimic_job_duration_seconds", "Time a worker spent on a job, by kind",
                                      ["kind"], buckets=JOB_BUCKETS, registry=r)
        self.job_outcomes = Counter("mimic_job_outcomes", "Jobs ended, by kind and outcome (done, failed, "
                                    "cancelled, missing, retry, stopped, error)", ["kind", "outcome"], registry=r)
        self.ack_latency = Histogram("mimic_interaction_ack_seconds",
                                     "From reading an interaction off the gateway to Discord accepting its first "
                                     "response (Discord's limit is 3 s)", buckets=LATENCY_BUCKETS, registry=r)
        self.verification_seconds = Histogram("mimic_verification_seconds",
                                              "Ownership verification time per uploaded image, by result",
                                              ["result"], buckets=LATENCY_BUCKETS, registry=r)
        self.blob_errors = Counter("mimic_blob_errors", "Blob store operations that failed, by operation",
                                   ["operation"], registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    @contextmanager
    def timed_verification(self) -> Iterator[dict]:
        """`with metrics.timed_verification() as seen: ... seen["result"] = "accepted"`."""
        seen = {"result": "error"}
        started = time.perf_counter()
        try:
            yield seen
        finally:
            self.verification_seconds.labels(seen["result"]).observe(time.perf_counter() - started)

    async def refresh_queue(self, redis, queue_name: str, *, now_ms: float | None = None) -> None:
        """Read the arq queue (a sorted set of job ids scored by the time they are due, in ms) into the gauges."""
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        total = await redis.zcard(queue_name)
        oldest = await redis.zrange(queue_name, 0, QUEUE_SAMPLE - 1, withscores=True) if total else []
        running_flags: list = []
        if oldest:
            async with redis.pipeline(transaction=False) as pipe:
                for job_id, _ in oldest:
                    pipe.exists(IN_PROGRESS_KEY + (job_id.decode() if isinstance(job_id, bytes) else job_id))
                running_flags = await pipe.execute()
        running = sum(1 for flag in running_flags if flag)
        waiting_scores = [score for (_, score), flag in zip(oldest, running_flags) if not flag]
        self.queue_running.set(running)
        self.queue_depth.set(total - running)
        self.queue_oldest_age.set(max(0.0, (now_ms - waiting_scores[0]) / 1000) if waiting_scores else 0.0)


class ErrorCountingBlobs:
    """A blob store that counts failed operations (a missing blob is an answer, not a failure) and otherwise
    behaves exactly as the store it wraps, whichever backend that is."""

    def __init__(self, store, metrics: Metrics, not_found: type[BaseException]):
        self._store, self._metrics, self._not_found = store, metrics, not_found

    @property
    def wrapped(self):
        return self._store

    def __getattr__(self, name: str):
        value = getattr(self._store, name)
        if name.startswith("_") or not callable(value):
            return value
        counter, not_found = self._metrics.blob_errors, self._not_found
        if inspect.iscoroutinefunction(value):
            @wraps(value)
            async def counted_async(*args, **kwargs):
                try:
                    return await value(*args, **kwargs)
                except not_found:
                    raise
                except Exception:
                    counter.labels(name).inc()
                    raise
            return counted_async

        @wraps(value)
        def counted(*args, **kwargs):
            try:
                return value(*args, **kwargs)
            except not_found:
                raise
            except Exception:
                counter.labels(name).inc()
                raise
        return counted
