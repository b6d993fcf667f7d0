"""The arq tasks: train a maker, generate images, build a person's data export. Idempotent, resumable, cancellable.

Each task re-reads its row first: a finished or cancelled row is left alone (a duplicate delivery is a
no-op), a revoked maker cancels the work. While a task runs it keeps a short lease on arq's in-progress
key, so a worker that dies is noticed within `job_lease_s` instead of after the whole job timeout, and
the retry resumes training from its last checkpoint."""
from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shutil
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from arq.constants import in_progress_key_prefix
from PIL import Image

from data.blobs import BlobError
from data.context import AppContext
from data.credit import public_credit
from data.events import (Event, GenerationCancelled, GenerationDone, GenerationFailed, GenerationStarted,
                         TrainingCancelled, TrainingDone, TrainingFailed, TrainingProgress, TrainingStarted)
from data.exports import build_export
from data.models import (ExportJob, Generation, GenerationKind, JobStatus, Maker, MakerImage, MakerStatus,
                         TrainingJob, utcnow)
from engine.worker_context import WorkerContext

log = logging.getLogger("mimic.worker")

ACTIVE_MAKER = {MakerStatus.training.value, MakerStatus.ready.value, MakerStatus.pending_review.value}


class TrainingTimedOut(Exception):
    def __init__(self, seconds: float):
        super().__init__(f"training took longer than JOB_TIMEOUT_S ({seconds:g} s); its last checkpoint is kept")


@asynccontextmanager
async def lease(ctx: WorkerContext):
    """Refresh arq's in-progress key with a short TTL while the job runs (a heartbeat)."""
    app: AppContext = ctx["app"]
    ttl_ms = int(app.settings.job_lease_s * 1000)
    key = in_progress_key_prefix + ctx["job_id"]
    redis = ctx["redis"]

    async def keep():
        while True:
            await redis.pexpire(key, ttl_ms)
            await asyncio.sleep(app.settings.job_lease_s / 3)

    keeper = asyncio.create_task(keep())
    try:
        yield
    finally:
        keeper.cancel()


def training_dir(app: AppContext, job_id: int) -> Path:
    return (app.settings.var_dir / "training" / f"job-{job_id}").resolve()


def _thread_publisher(app: AppContext, loop: asyncio.AbstractEventLoop):
    def publish(event: Event) -> None:
        asyncio.run_coroutine_threadsafe(app.events.publish(event), loop)
    return publish


# --- training -----------------------------------------------------------------------------------------


async def train_maker(ctx: WorkerContext, job_id: int) -> str:
    app: AppContext = ctx["app"]
    with app.db.session() as s:
        job = s.get(TrainingJob, job_id)
        if job is None:
            return "missing"
        if job.status in (JobStatus.done.value, JobStatus.cancelled.value):
            return job.status
        maker = s.get(Maker, job.maker_id)
        if maker is None or maker.status not in ACTIVE_MAKER:
            job.status, job.finished_at = JobStatus.cancelled.value, utcnow()
            s.add(job)
            s.commit()
            await app.events.publish(TrainingCancelled(id=job_id, maker_id=job.maker_id))
            return "cancelled"
        job.status, job.attempts = JobStatus.running.value, job.attempts + 1
        job.started_at = job.started_at or utcnow()
        maker.status = MakerStatus.training.value
        s.add(job), s.add(maker)
        s.commit()
        blobs = [row.blob for row in s.exec(_select_images(maker.id))]
        base_model, trigger, maker_id = maker.base_model or app.settings.base_model, maker.trigger, maker.id
        checkpoint_blob = job.checkpoint_blob
    await app.events.publish(TrainingStarted(id=job_id, maker_id=maker_id, attempt=job.attempts))

    images = await asyncio.to_thread(lambda: [Image.open(io.BytesIO(app.blobs.get(b))).convert("RGB") for b in blobs])
    work_dir = training_dir(app, job_id)
    await asyncio.to_thread(_restore_checkpoint, app, checkpoint_blob, work_dir)
    loop = asyncio.get_running_loop()
    publish = _thread_publisher(app, loop)
    stop_checker = _StopChecker(app, maker_id)
    pause = threading.Event()

    def on_progress(p) -> None:
        with app.db.session() as s:
            row = s.get(TrainingJob, job_id)
            row.step, row.steps, row.loss = p.step, p.total, p.loss
            s.add(row)
            s.commit()
        publish(TrainingProgress(id=job_id, maker_id=maker_id, step=p.step, total=p.total, loss=p.loss,
                                 eta_s=p.eta_s))

    from engine.train import TrainConfig, TrainingPaused, TrainingStopped, train_lora

    cfg = TrainConfig(base_model=base_model, trigger=trigger, steps=app.settings.train_steps,
                      rank=app.settings.train_rank, resolution=app.settings.train_resolution,
                      seed=job_id, checkpoint_every=app.settings.checkpoint_every)
    training = asyncio.ensure_future(asyncio.to_thread(
        train_lora, cfg, images, work_dir, pipeline_cache=ctx["pipelines"],
        device=app.settings.device, dtype=app.settings.dtype, progress=on_progress, should_stop=stop_checker,
        should_pause=pause.is_set, on_checkpoint=lambda path, step: _keep_checkpoint(app, job_id, path, step)))
    try:
        async with lease(ctx):
            try:
                result = await asyncio.wait_for(asyncio.shield(training), app.settings.job_timeout_s)
            except TimeoutError:
                # ours, not arq's (which gets a grace period on top): stop at a checkpoint and say why
                pause.set()
                with contextlib.suppress(TrainingPaused):
                    await training
                raise TrainingTimedOut(app.settings.job_timeout_s) from None
            except asyncio.CancelledError as stopping:
                # the worker is shutting down (or arq gave up on the job): a thread cannot be cancelled, so ask
                # the loop to checkpoint and return, and hold the lease until it has, so no other worker
                # trains the same job meanwhile
                pause.set()
                try:
                    result = await training
                except TrainingPaused as paused:
                    if stop_checker(fresh=True):  # arq aborted it because the artist revoked: keep nothing
                        _drop_checkpoint(app, job_id)
                        shutil.rmtree(work_dir, ignore_errors=True)
                    else:
                        _requeue_training(app, job_id)
                        log.info("training job %s paused at step %s; it will resume there", job_id, paused.step)
                    raise stopping from None
    except TrainingStopped:
        finish_training(app, job_id, maker_id, JobStatus.cancelled, error="revoked by the artist")
        _drop_checkpoint(app, job_id)
        shutil.rmtree(work_dir, ignore_errors=True)
        await app.events.publish(TrainingCancelled(id=job_id, maker_id=maker_id))
        return "cancelled"
    except TrainingTimedOut as exc:
        log.warning("training job %s: %s", job_id, exc)
        finish_training(app, job_id, maker_id, JobStatus.failed, error=str(exc))
        await app.events.publish(TrainingFailed(id=job_id, maker_id=maker_id))
        return "failed"
    except Exception as exc:
        log.exception("training job %s failed", job_id)
        finish_training(app, job_id, maker_id, JobStatus.failed, error=f"{type(exc).__name__}: {exc}"[:500])
        await app.events.publish(TrainingFailed(id=job_id, maker_id=maker_id))
        return "failed"

    lora_blob = await asyncio.to_thread(app.blobs.put_file, result.lora_path)  # large: multipart on S3
    sample_blob = (await asyncio.to_thread(app.blobs.put_file, result.sample_grid_path)
                   if result.sample_grid_path else "")
    finished = finish_training(app, job_id, maker_id, JobStatus.done, lora_blob=lora_blob, sample_blob=sample_blob,
                               loss=result.final_loss)
    _drop_checkpoint(app, job_id)
    if not finished:
        await app.blobs.adelete(lora_blob)  # revoked while we were finishing: keep nothing
        await app.events.publish(TrainingCancelled(id=job_id, maker_id=maker_id))
        return "cancelled"
    shutil.rmtree(work_dir, ignore_errors=True)
    await app.events.publish(TrainingDone(id=job_id, maker_id=maker_id, lora_blob=lora_blob))
    return "done"


def _select_images(maker_id: int):
    from sqlmodel import select

    return select(MakerImage).where(MakerImage.maker_id == maker_id).order_by(MakerImage.id)


def finish_training(app: AppContext, job_id: int, maker_id: int, status: JobStatus, *, error: str = "",
                    lora_blob: str = "", sample_blob: str = "", loss: float | None = None) -> bool:
    """Record the outcome; returns False when the maker was revoked meanwhile (the result is dropped)."""
    with app.db.session() as s:
        job, maker = s.get(TrainingJob, job_id), s.get(Maker, maker_id)
        job.status, job.error, job.finished_at = status.value, error, utcnow()
        if loss is not None:
            job.loss = loss
        revoked = maker.status not in ACTIVE_MAKER
        if status is JobStatus.done and revoked:
            job.status = JobStatus.cancelled.value
        elif status is JobStatus.done:
            maker.status, maker.lora_blob, maker.sample_blob = MakerStatus.ready.value, lora_blob, sample_blob
        elif status is JobStatus.failed and not revoked:
            maker.status = MakerStatus.failed.value
        s.add(job), s.add(maker)
        s.commit()
        return not (status is JobStatus.done and revoked)


def _keep_checkpoint(app: AppContext, job_id: int, folder: Path, step: int) -> None:
    """Copy a finished checkpoint into the blob store (runs in the training thread), replacing the previous one.

    The work folder is local to one machine; the blob store is what every worker shares."""
    from engine.checkpoint_archive import pack_checkpoint

    try:
        blob = app.blobs.put(pack_checkpoint(folder))
        with app.db.session() as s:
            job = s.get(TrainingJob, job_id)
            previous, job.checkpoint_blob = job.checkpoint_blob, blob
            s.add(job)
            s.commit()
    except Exception:  # the local checkpoint still exists: a failed copy must not fail the training
        log.warning("training job %s: could not copy the checkpoint of step %s to the blob store", job_id, step,
                    exc_info=True)
        return
    if previous and previous != blob:
        app.blobs.delete(previous)
    log.debug("training job %s: checkpoint of step %s kept as %s", job_id, step, blob[:12])


def _restore_checkpoint(app: AppContext, blob: str, work_dir: Path) -> None:
    """Before a retry: bring the job's newest checkpoint back when this machine does not have it."""
    from engine.checkpoint_archive import BadCheckpointArchive, archived_step, unpack_checkpoint
    from engine.train import local_checkpoint_steps

    if not blob:
        return
    try:
        data = app.blobs.get(blob)
        step = archived_step(data)
    except (BlobError, BadCheckpointArchive) as exc:  # missing or damaged
        log.warning("the checkpoint blob %s cannot be used (%s); training starts over", blob[:12], exc)
        return
    if any(local >= step for local in local_checkpoint_steps(work_dir)):
        return  # this machine already has it, or a newer one
    unpack_checkpoint(data, work_dir / "checkpoints")
    log.info("restored the checkpoint of step %s from the blob store", step)


def _drop_checkpoint(app: AppContext, job_id: int) -> None:
    with app.db.session() as s:
        job = s.get(TrainingJob, job_id)
        blob, job.checkpoint_blob = job.checkpoint_blob, ""
        s.add(job)
        s.commit()
    if blob:
        app.blobs.delete(blob)


def _requeue_training(app: AppContext, job_id: int) -> None:
    """A paused job waits for the next worker: back to queued, its progress and checkpoint kept."""
    with app.db.session() as s:
        job = s.get(TrainingJob, job_id)
        if job.status == JobStatus.running.value:
            job.status = JobStatus.queued.value
            s.add(job)
            s.commit()


class _StopChecker:
    """should_stop() for the training thread: asks the database at most once a second."""

    def __init__(self, app: AppContext, maker_id: int):
        self.app, self.maker_id = app, maker_id
        self._checked, self._stop = 0.0, False

    def __call__(self, fresh: bool = False) -> bool:
        now = time.monotonic()
        if not self._stop and (fresh or now - self._checked >= 1.0):
            self._checked = now
            with self.app.db.session() as s:
                maker = s.get(Maker, self.maker_id)
                self._stop = maker is None or maker.status not in ACTIVE_MAKER
        return self._stop


# --- generation ---------------------------------------------------------------------------------------


async def generate(ctx: WorkerContext, generation_id: int) -> str:
    app: AppContext = ctx["app"]
    with app.db.session() as s:
        gen = s.get(Generation, generation_id)
        if gen is None:
            return "missing"
        if gen.status in (JobStatus.done.value, JobStatus.cancelled.value):
            return gen.status
        maker = s.get(Maker, gen.maker_id)
        if maker is None or maker.status != MakerStatus.ready.value or not maker.lora_blob:
            gen.status, gen.error, gen.finished_at = JobStatus.cancelled.value, "the maker is not available", utcnow()
            s.add(gen)
            s.commit()
            await app.events.publish(GenerationCancelled(id=generation_id, maker_id=gen.maker_id))
            return "cancelled"
        gen.status = JobStatus.running.value
        s.add(gen)
        s.commit()
        request = render_request(s, gen, maker, app.settings)
    await app.events.publish(GenerationStarted(id=generation_id, maker_id=request.maker_id))
    try:
        async with lease(ctx):
            blobs = await asyncio.to_thread(_render, app, ctx["pipelines"], request)
    except Exception as exc:
        log.exception("generation %s failed", generation_id)
        with app.db.session() as s:
            gen = s.get(Generation, generation_id)
            gen.status, gen.error, gen.finished_at = JobStatus.failed.value, f"{type(exc).__name__}"[:200], utcnow()
            s.add(gen)
            s.commit()
        await app.events.publish(GenerationFailed(id=generation_id, maker_id=request.maker_id))
        return "failed"
    with app.db.session() as s:
        gen = s.get(Generation, generation_id)
        if gen.status == JobStatus.cancelled.value:  # revoked meanwhile
            for b in blobs:
                await app.blobs.adelete(b)
            _forget_fingerprints(app, generation_id)
            return "cancelled"
        now = utcnow()
        gen.status, gen.image_blobs, gen.finished_at = JobStatus.done.value, blobs, now
        gen.undeletable_until = now + timedelta(hours=app.settings.lock_hours)
        s.add(gen)
        s.commit()
    await app.events.publish(GenerationDone(id=generation_id, maker_id=request.maker_id, images=tuple(blobs)))
    return "done"


@dataclass(frozen=True)
class RenderRequest:
    """Everything a worker thread needs to make one generation's images, read from the rows in one go."""

    generation_id: int
    kind: str
    prompt: str
    negative: str
    count: int
    seed: int
    steps: int
    guidance: float
    source_blob: str
    trace_id: int
    maker_id: int
    maker_name: str
    lora_blob: str
    trigger: str
    base_model: str
    artist_credit: str  # burned into the image and its metadata: data.credit, as Discord and the web show it


def render_request(s, gen: Generation, maker: Maker, settings) -> RenderRequest:
    return RenderRequest(
        generation_id=gen.id, kind=gen.kind, prompt=gen.prompt, negative=gen.negative_prompt, count=gen.count,
        seed=gen.seed, steps=gen.steps, guidance=gen.guidance, source_blob=gen.source_blob, trace_id=gen.trace_id,
        maker_id=maker.id, maker_name=maker.name, lora_blob=maker.lora_blob, trigger=maker.trigger,
        base_model=maker.base_model or settings.base_model, artist_credit=public_credit(s, maker.owner_id).name)


def _render(app: AppContext, pipelines, request: RenderRequest) -> list[str]:
    """Generate, watermark, store and fingerprint (for tracing by content); runs in a worker thread. Returns the
    blob names, one per image."""
    from engine.generate import GenerateRequest, generate_images
    from engine.finalize import finalize_image

    init_image = None
    if request.kind == GenerationKind.remake.value:
        init_image = Image.open(io.BytesIO(app.blobs.get(request.source_blob))).convert("RGB")
    prompt = f"{request.trigger} {request.prompt}".strip()
    req = GenerateRequest(
        base_model=request.base_model, prompt=prompt, negative_prompt=request.negative,
        lora_path=app.blobs.path(request.lora_blob), adapter_name=f"maker{request.maker_id}", count=request.count,
        seed=request.seed, steps=request.steps or 25, guidance=request.guidance or 7.0,
        init_image=init_image, fast_lora=Path(app.settings.fast_lora) if app.settings.fast_lora else None)
    images = generate_images(pipelines, req, max_steps=app.settings.max_steps_per_image,
                             max_guidance=app.settings.max_guidance)
    blobs, prints = [], []
    for generated in images:
        data = finalize_image(generated.image, trace_id=request.trace_id, artist=request.artist_credit,
                              maker=request.maker_name, prompt=request.prompt, generator="mimic",
                              cert_path=app.settings.c2pa_cert, key_path=app.settings.c2pa_key,
                              var_dir=app.settings.var_dir)
        blobs.append(app.blobs.put(data))
        prints.append(_content_fingerprint(app, request.generation_id, generated.image, blobs[-1]))
    _record_fingerprints(app, request.generation_id, [p for p in prints if p is not None])
    return blobs


# A copy whose mark and metadata are gone (a crop, a heavy edit) is traced by its content (bot/core/content_index.py).
# Failing to fingerprint costs only that fallback: the image is still made, marked and delivered.
def _content_fingerprint(app: AppContext, generation_id: int, image: Image.Image, blob: str):
    from engine.generation_fingerprints import fingerprint_generated, store_fingerprint

    try:
        return store_fingerprint(app.blobs, blob, fingerprint_generated(image))
    except Exception:
        log.warning("generation %s: could not fingerprint image %s; only its mark and metadata can trace it",
                    generation_id, blob[:12], exc_info=True)
        return None


def _record_fingerprints(app: AppContext, generation_id: int, prints: list) -> None:
    from engine.generation_fingerprints import record_fingerprints

    try:
        record_fingerprints(app.db, app.blobs, generation_id, prints)
    except Exception:
        log.warning("generation %s: could not record its fingerprints; only the mark and metadata can trace its "
                    "images", generation_id, exc_info=True)


def _forget_fingerprints(app: AppContext, generation_id: int) -> None:
    from engine.generation_fingerprints import forget_fingerprints

    forget_fingerprints(app.db, app.blobs, generation_id)


# data export ------------------------------------------------------------------------------------------------------

EXPORT_PROGRESS_EVERY_S = 0.5


async def export_data(ctx: WorkerContext, export_id: int) -> str:
    """Build "Export my data" (data/exports.py) into the blob store, writing its progress to the row as it goes."""
    app: AppContext = ctx["app"]

    def start() -> int | None:
        with app.db.session() as s:
            job = s.get(ExportJob, export_id)
            if job is None or job.status not in (JobStatus.queued.value, JobStatus.running.value):
                return None  # a duplicate delivery, or deleted with its account
            job.status = JobStatus.running.value
            s.add(job)
            s.commit()
            return job.user_id

    written_at = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal written_at
        now = time.monotonic()
        if done not in (0, total) and now - written_at < EXPORT_PROGRESS_EVERY_S:
            return
        written_at = now
        with app.db.session() as s:
            job = s.get(ExportJob, export_id)
            if job is not None:
                job.done, job.total = done, total
                s.add(job)
                s.commit()

    def finish(status: JobStatus, *, blob: str = "", size: int = 0, error: str = "") -> None:
        with app.db.session() as s:
            job = s.get(ExportJob, export_id)
            if job is None:  # the account was deleted meanwhile: the zip must not outlive it
                if blob:
                    app.blobs.delete(blob)
                return
            job.status, job.blob, job.size, job.error, job.finished_at = status.value, blob, size, error, utcnow()
            s.add(job)
            s.commit()

    def run() -> str:
        user_id = start()
        if user_id is None:
            return "missing"
        try:
            data, _, _ = build_export(app.db, app.blobs, user_id, progress=progress)
            blob = app.blobs.put(data)
        except (LookupError, BlobError, OSError) as exc:
            log.warning("export %s failed: %s", export_id, type(exc).__name__)
            finish(JobStatus.failed, error="the export could not be built; please ask again")
            return "failed"
        finish(JobStatus.done, blob=blob, size=len(data))
        return "done"

    async with lease(ctx):
        return await asyncio.to_thread(run)
