"""The arq internals we lean on keep the shape we assume (pyproject bounds arq to the versions this passes on).

engine/queue.py aborts through arq's `abort_jobs_ss` sorted set; engine/jobs.py refreshes arq's in-progress key as a
lease; engine/recovery.py tells queued, running and finished jobs apart by arq's job, in-progress and result keys.
A new arq that renames or retypes any of them fails here, with the key named, instead of silently stranding jobs."""
from __future__ import annotations

import asyncio
import uuid

from arq import Worker, func
from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix, result_key_prefix

from engine.queue import JobQueue


def _shape(expected: str, key: str, actual: str) -> str:
    return (f"arq's {key!r} is a Redis {actual}, not the {expected} engine/queue.py, engine/jobs.py and "
            f"engine/recovery.py assume: check the new arq release before raising its bound in pyproject.toml")


async def test_arq_job_in_progress_result_and_abort_keys_keep_their_shape(redis_url):
    prefix = f"mimic-test-arq-{uuid.uuid4().hex[:8]}"
    queue = JobQueue(redis_url, prefix)
    pool = await queue.pool()
    started, release = asyncio.Event(), asyncio.Event()
    seen: dict[str, str] = {}

    async def hold(ctx, n):
        key = in_progress_key_prefix + ctx["job_id"]
        seen["in_progress"] = (await pool.type(key)).decode()
        seen["ttl"] = str(await pool.pttl(key))
        started.set()
        await release.wait()
        return n

    async def never(ctx):  # aborted before it runs
        raise AssertionError("an aborted job ran")

    worker = Worker(functions=[func(hold, name="hold"), func(never, name="never")], redis_pool=pool, queue_name=queue.queue, allow_abort_jobs=True,
                    poll_delay=0.05, handle_signals=False, keep_result=60)
    try:
        aborted = f"{prefix}:never"
        await pool.enqueue_job("never", _job_id=aborted)
        await queue.abort(aborted)
        assert (await pool.type(abort_jobs_ss)).decode() == "zset", _shape("zset", abort_jobs_ss, "other type")

        job_id = f"{prefix}:hold"
        await pool.enqueue_job("hold", 7, _job_id=job_id)
        kind = (await pool.type(job_key_prefix + job_id)).decode()
        assert kind == "string", _shape("string", job_key_prefix + job_id, kind)

        running = asyncio.create_task(worker.main())
        await asyncio.wait_for(started.wait(), 10)
        assert seen["in_progress"] == "string", _shape("string", in_progress_key_prefix + job_id, seen["in_progress"])
        assert int(seen["ttl"]) > 0, f"arq's in-progress key has no TTL ({seen['ttl']}): the lease cannot expire"
        release.set()
        for _ in range(200):
            if await pool.exists(result_key_prefix + job_id):
                break
            await asyncio.sleep(0.05)
        kind = (await pool.type(result_key_prefix + job_id)).decode()
        assert kind == "string", _shape("string", result_key_prefix + job_id, kind)
        assert not await pool.exists(in_progress_key_prefix + job_id), "arq kept the in-progress key after the job"
        assert not await pool.exists(job_key_prefix + aborted), "a job in arq's abort set was not dropped"
        running.cancel()
    finally:
        await worker.close()
        for pattern in (f"*{prefix}*",):
            async for key in pool.scan_iter(match=pattern):
                await pool.delete(key)
        await pool.zrem(abort_jobs_ss, f"{prefix}:never")
        await queue.aclose()
