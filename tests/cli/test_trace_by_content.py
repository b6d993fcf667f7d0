"""A generated image with its credit cropped off and re-encoded carries no trace id any more (the mark does not
survive a crop, re-encoding strips XMP and C2PA); `mimic trace --json` still names its generation, by content.

The real path end to end: the worker's generate task with the tiny model and a LoRA trained for one step, the
fingerprints it records, the migrated database, the command line in its own process; taken-down generations stay
traceable, and the core use case behind the web form and /trace answers the same."""
from __future__ import annotations

import io
import os

import pytest
import redis.asyncio as aioredis
from PIL import Image

from bot.core import Actor, Core
from bot.core.generations import trace
from bot.core.moderation import take_down
from data.context import AppContext
from data.models import Generation, Maker, SocialAccount, User, utcnow
from engine import jobs
from engine.pipelines import PipelineCache
from engine.trace import trace_image
from engine.train import TrainConfig, train_lora
from tests.cli.test_trace_cli import run_trace
from tests.engine_ml.helpers import draw_artwork, one_thread
from verification.synthetic import draw_illustration


def jpeg(img: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def credit_cut(png: bytes) -> Image.Image:
    """Off with the bottom-right corner strip the credit is drawn in, and a little off the top and left."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    return img.crop((6, 10, w - w // 7, h - h // 10))


@pytest.fixture
async def app(settings, tiny_model_dir, tmp_path):
    app = AppContext.create(settings.model_copy(update={"base_model": str(tiny_model_dir)}))
    app.db.upgrade()  # the migrations, 0003 included, not create_all: the command line reads this database
    with one_thread():
        yield app
    await app.aclose()


def _seed(app: AppContext, tiny_model_dir, tmp_path) -> tuple[int, int, int]:
    """An artist with a ready maker (a LoRA trained for one step on the tiny model), a fan, a moderator."""
    result = train_lora(TrainConfig(base_model=str(tiny_model_dir), trigger="mmcstyle", steps=1, rank=4, seed=3,
                                    checkpoint_every=100, sample_count=0),
                        [draw_artwork(i) for i in range(2)], tmp_path / "lora")
    with app.db.session() as s:
        artist, fan, mod = User(display_name="aoi"), User(display_name="hana"), User(display_name="mod")
        s.add_all([artist, fan, mod])
        s.flush()
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="42", handle="aoi_draws", verified_at=utcnow()))
        maker = Maker(owner_id=artist.id, name="aoi", status="ready", trigger="mmcstyle",
                      lora_blob=app.blobs.put_file(result.lora_path))
        s.add(maker)
        s.commit()
        return fan.id, mod.id, maker.id


async def _generate(app: AppContext, pipelines, fan_id: int, maker_id: int, *, seed: int, count: int,
                    trace_id: int) -> tuple[int, list[bytes]]:
    """A request run by the worker's own task, the way arq runs it."""
    with app.db.session() as s:
        gen = Generation(requester_id=fan_id, maker_id=maker_id, prompt="smiling", seed=seed, count=count, steps=2,
                         trace_id=trace_id)
        s.add(gen)
        s.commit()
        gen_id = gen.id
    redis = aioredis.Redis.from_url(app.redis_url)
    try:
        ctx = {"app": app, "pipelines": pipelines, "redis": redis, "job_id": f"{app.settings.redis_prefix}:{gen_id}"}
        assert await jobs.generate(ctx, gen_id) == "done"
    finally:
        await redis.aclose()
    with app.db.session() as s:
        blobs = s.get(Generation, gen_id).image_blobs
    return gen_id, [app.blobs.get(b) for b in blobs]


async def test_a_cropped_reencoded_copy_is_traced_by_content(app, tiny_model_dir, tmp_path):
    fan_id, mod_id, maker_id = _seed(app, tiny_model_dir, tmp_path)
    pipelines = PipelineCache("cpu")
    first, first_images = await _generate(app, pipelines, fan_id, maker_id, seed=11, count=2, trace_id=111_111)
    second, (other,) = await _generate(app, pipelines, fan_id, maker_id, seed=99, count=1, trace_id=222_222)

    copies = {"first-0.jpg": jpeg(credit_cut(first_images[0]), 75), "first-1.jpg": jpeg(credit_cut(first_images[1]), 60),
              "second.jpg": jpeg(credit_cut(other), 75),
              "stranger.jpg": jpeg(draw_illustration(5, (512, 512)), 75)}
    for name, data in copies.items():
        (tmp_path / name).write_bytes(data)
        assert trace_image(data).trace_id is None, name  # no mark, no metadata: only the picture is left
    env = {**os.environ, "DATABASE_URL": app.settings.resolved_database_url, "VAR_DIR": str(app.settings.var_dir),
           "REDIS_URL": app.redis_url, "OMP_NUM_THREADS": "1"}

    for name, (gen_id, trace_id) in {"first-0.jpg": (first, 111_111), "first-1.jpg": (first, 111_111),
                                     "second.jpg": (second, 222_222)}.items():
        code, out = run_trace(tmp_path / name, env)
        assert code == 0 and (out["trace_id"], out["source"]) == (trace_id, "content"), (name, out)
        assert (out["generation"]["id"], out["generation"]["maker"], out["generation"]["artist"]) == \
            (gen_id, "aoi", "@aoi_draws"), name
        assert out["generation"]["taken_down"] is False
    assert run_trace(tmp_path / "stranger.jpg", env) == (0, {"trace_id": None, "generation": None, "source": None})

    # a moderator takes the first generation down: its images are deleted, yet copies of them still trace to it
    core = Core.create(app, providers={})
    try:
        with app.db.session() as s:
            published = s.get(Generation, first).image_blobs
        await take_down(core, Actor(user_id=mod_id, is_moderator=True), "generation", first, "not allowed here")
        assert published and not any(app.blobs.exists(b) for b in published)
        code, out = run_trace(tmp_path / "first-1.jpg", env)
        assert code == 0 and (out["trace_id"], out["source"]) == (111_111, "content")
        assert out["generation"]["id"] == first and out["generation"]["taken_down"] is True

        # the use case behind the web trace form and /trace: the same answer, and what carried it
        found = await trace(core, copies["first-0.jpg"])
        assert (found.trace_id, found.generation.id, found.maker.name, found.source) == \
            (111_111, first, "aoi", "content")
        found = await trace(core, copies["second.jpg"])
        assert (found.generation.id, found.source) == (second, "content")
        assert (await trace(core, copies["stranger.jpg"])).trace_id is None
    finally:
        await core.aclose()


async def test_the_bot_and_the_gallery_of_one_process_share_one_index(ctx):
    bot, gallery = Core.create(ctx, providers={}), Core.create(ctx, providers={})
    try:
        assert bot.content_index is gallery.content_index  # `mimic run`: loaded once, not once per service
    finally:
        await bot.aclose()
        await gallery.aclose()
