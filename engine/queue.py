"""The enqueue side of the arq queue, used by the bot, the web and the CLI.

Job ids are derived from database row ids, so enqueueing the same row twice is a no-op (arq refuses a
second job with a live id) and the row stays the source of truth for status."""
from __future__ import annotations

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import abort_jobs_ss
from arq.utils import timestamp_ms

TRAIN_TASK = "train_maker"
GENERATE_TASK = "generate"
EXPORT_TASK = "export_data"


def queue_name(prefix: str) -> str:
    return f"{prefix}:queue"


def training_job_id(prefix: str, job_id: int) -> str:
    return f"{prefix}:train:{job_id}"


def generation_job_id(prefix: str, generation_id: int) -> str:
    return f"{prefix}:gen:{generation_id}"


def export_job_id(prefix: str, export_id: int) -> str:
    return f"{prefix}:export:{export_id}"


class JobQueue:
    def __init__(self, redis_url: str, prefix: str):
        self.redis_url = redis_url
        self.prefix = prefix
        self.queue = queue_name(prefix)
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(RedisSettings.from_dsn(self.redis_url), default_queue_name=self.queue)
        return self._pool

    async def enqueue_training(self, job_id: int) -> int:
        """Queue a training job; returns its position in the queue (1 = next)."""
        pool = await self.pool()
        await pool.enqueue_job(TRAIN_TASK, job_id, _job_id=training_job_id(self.prefix, job_id))
        return await self.position(training_job_id(self.prefix, job_id))

    async def enqueue_generation(self, generation_id: int) -> int:
        pool = await self.pool()
        await pool.enqueue_job(GENERATE_TASK, generation_id,
                               _job_id=generation_job_id(self.prefix, generation_id))
        return await self.position(generation_job_id(self.prefix, generation_id))

    async def enqueue_export(self, export_id: int) -> int:
        pool = await self.pool()
        await pool.enqueue_job(EXPORT_TASK, export_id, _job_id=export_job_id(self.prefix, export_id))
        return await self.position(export_job_id(self.prefix, export_id))

    async def position(self, arq_job_id: str) -> int:
        """1-based position among queued jobs; 0 when it is running or gone."""
        pool = await self.pool()
        rank = await pool.zrank(self.queue, arq_job_id)
        return 0 if rank is None else rank + 1

    async def abort(self, arq_job_id: str) -> None:
        """Ask arq to drop a queued job (the task also re-checks the row, so this is best effort)."""
        pool = await self.pool()
        await pool.zadd(abort_jobs_ss, {arq_job_id: timestamp_ms()})

    async def length(self) -> int:
        pool = await self.pool()
        return await pool.zcard(self.queue)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
