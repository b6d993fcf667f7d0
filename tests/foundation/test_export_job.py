"""The worker's "Export my data" job: it builds the zip with progress, and a row whose queue entry was lost is
enqueued again (the database is the record of what is owed), or marked failed when arq gave up on it."""
from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import timedelta

from arq.connections import RedisSettings, create_pool
from arq.constants import result_key_prefix

from data.context import AppContext
from data.models import Artwork, ExportJob, User, utcnow
from engine.queue import export_job_id
from engine.recovery import recover_jobs
from engine.worker import build_worker


def _seed(app: AppContext, status: str = "queued") -> tuple[int, str]:
    blob = app.blobs.put(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    with app.db.session() as s:
        user = User(display_name="aoi")
        s.add(user)
        s.flush()
        s.add(Artwork(owner_id=user.id, blob=blob, phash=1, source_url="https://example.social/@aoi/1"))
        job = ExportJob(user_id=user.id, status=status, created_at=utcnow() - timedelta(minutes=5))
        s.add(job)
        s.commit()
        return job.id, blob


async def test_a_lost_export_is_enqueued_again_and_built(settings):
    app = AppContext.create(settings)
    app.db.upgrade()
    export_id, blob = _seed(app)
    redis = await create_pool(RedisSettings.from_dsn(app.redis_url))
    try:
        report = await recover_jobs(app, redis)
        assert report.requeued == [export_job_id(settings.redis_prefix, export_id)]
        worker = build_worker(settings, app=app, burst=True, handle_signals=False)
        try:
            await asyncio.wait_for(worker.async_run(), 60)
        finally:
            await worker.close()
    finally:
        await redis.aclose()
    with app.db.session() as s:
        job = s.get(ExportJob, export_id)
        assert (job.status, job.done, job.total) == ("done", 1, 1) and job.finished_at is not None
    with zipfile.ZipFile(io.BytesIO(app.blobs.get(job.blob))) as zf:
        doc = json.loads(zf.read("data.json"))
        assert doc["artworks"][0]["source_url"] == "https://example.social/@aoi/1"
        assert zf.read(doc["images"][blob]) == app.blobs.get(blob)
    await app.aclose()


async def test_an_export_arq_gave_up_on_is_marked_failed(settings):
    app = AppContext.create(settings)
    app.db.upgrade()
    export_id, _ = _seed(app, status="running")
    redis = await create_pool(RedisSettings.from_dsn(app.redis_url))
    arq_id = export_job_id(settings.redis_prefix, export_id)
    await redis.set(result_key_prefix + arq_id, b"arq's record of its last failed try", ex=60)
    try:
        report = await recover_jobs(app, redis)
    finally:
        await redis.aclose()
    assert report.failed == [arq_id]
    with app.db.session() as s:
        assert s.get(ExportJob, export_id).status == "failed"
    await app.aclose()
