"""Several machines on one bucket: `mimic worker` processes with STORAGE_URL=s3://... (moto's server) train and
generate with nothing shared but the bucket, Redis and the database; `mimic demo` leaves its images in the bucket."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from sqlmodel import select

from data.blobs import blob_key
from data.context import AppContext
from data.db import Database
from data.models import Generation, Maker
from engine.queue import JobQueue
from tests.foundation.test_worker_process import _env, _seed_job, _wait_for, recorded_events, worker_processes


async def test_workers_on_two_machines_share_only_the_bucket(settings, tiny_model_dir, fake_s3, tmp_path):
    bucket = fake_s3.new_bucket()
    settings = settings.model_copy(update=fake_s3.settings_overrides(bucket, "install"))
    db = Database(settings.database_url)
    db.upgrade()
    app = AppContext.create(settings)
    job_id = _seed_job(app.db, app.blobs)
    queue = JobQueue(settings.redis_url, settings.redis_prefix)

    def machine(name: str) -> dict:  # its own var dir: training folders and blob cache of its own
        return {**_env(settings, tiny_model_dir, steps=12), **fake_s3.environment(bucket, "install"),
                "VAR_DIR": str(tmp_path / name)}

    async with recorded_events(app) as events:
        with worker_processes(machine("trainer"), tmp_path) as start_worker:
            trainer = start_worker()
            await queue.enqueue_training(job_id)
            await _wait_for(lambda: any(e["type"] == "training.done" for e in events), 240, "training.done")
            trainer.terminate()
            trainer.wait(60)
        with app.db.session() as s:
            maker = s.exec(select(Maker)).one()
            gen = Generation(requester_id=maker.owner_id, maker_id=maker.id, prompt="smiling", seed=3, count=2,
                             steps=2)
            s.add(gen)
            s.commit()
            gen_id, lora = gen.id, maker.lora_blob
        with worker_processes(machine("painter"), tmp_path) as start_worker:
            start_worker()
            await queue.enqueue_generation(gen_id)
            await _wait_for(lambda: any(e["type"] == "generation.done" for e in events), 240, "generation.done")
    await queue.aclose()

    with app.db.session() as s:
        images = s.get(Generation, gen_id).image_blobs
    keys = set(fake_s3.keys(bucket, "install/"))
    assert len(images) == 2 and {f"install/{blob_key(b)}" for b in [lora, *images]} <= keys
    assert [hashlib.sha256(app.blobs.get(b)).hexdigest() for b in images] == images
    # the painter fetched the LoRA file once into its bounded local cache; the trainer never stored a copy there
    assert (tmp_path / "painter" / "blob-cache" / blob_key(lora)).is_file()
    assert not (tmp_path / "trainer" / "blob-cache" / blob_key(lora)).exists()
    assert not (tmp_path / "painter" / "blobs").exists() and not (tmp_path / "trainer" / "blobs").exists()
    await app.aclose()
    db.dispose()


def test_demo_leaves_its_images_in_the_bucket(fake_s3, tmp_path):
    bucket = fake_s3.new_bucket()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "BASE_MODEL")}
    env.update(fake_s3.environment(bucket, "mimic"), VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(tmp_path / "out"), "--steps", "6"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    images = sorted((tmp_path / "out").glob("*.png"))
    assert [p.name for p in images] == ["remake-2-1.png", "txt2img-1-1.png", "txt2img-1-2.png", "txt2img-3-1.png"]
    keys = set(fake_s3.keys(bucket))
    for image in images:  # the demo's world keeps its blobs under <prefix>/demo, as its files under var/demo
        assert f"mimic/demo/{blob_key(hashlib.sha256(image.read_bytes()).hexdigest())}" in keys, image.name
    assert not (tmp_path / "var" / "demo" / "blobs").exists()
