"""The rules a generation request must pass, driven through the use cases directly."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import Refusal
from bot.core.generations import delete_generation, request_generation
from bot.core.makers import revoke_maker, update_settings
from bot.core.moderation import ban_user
from data.models import Generation, JobStatus, Maker, utcnow
from engine.queue import generation_job_id


async def test_a_fan_request_is_queued_with_a_trace_id(core, people):
    queued = await request_generation(core, people["fan"], "aoi", "  smiling   girl ", count=2, seed=5)
    gen = queued.generation
    assert queued.position == 1
    assert (gen.prompt, gen.count, gen.seed, gen.status) == ("smiling girl", 2, 5, "queued")
    assert 0 < gen.trace_id < 2**40
    pool = await core.queue.pool()
    assert await pool.zscore(core.queue.queue, generation_job_id(core.settings.redis_prefix, gen.id)) is not None


@pytest.mark.parametrize("kwargs, key", [
    ({"count": 5}, "generate.bad_count"),
    ({"count": 0}, "generate.bad_count"),
    ({"seed": -1}, "generate.bad_seed"),
])
async def test_bad_parameters_are_refused(core, people, kwargs, key):
    with pytest.raises(Refusal) as refused:
        await request_generation(core, people["fan"], "aoi", "x", **kwargs)
    assert refused.value.key == key


async def test_prompt_length_and_unknown_maker(core, people):
    with pytest.raises(Refusal, match="generate.prompt_too_long"):
        await request_generation(core, people["fan"], "aoi", "x" * 501)
    with pytest.raises(Refusal, match="maker.not_found"):
        await request_generation(core, people["fan"], "nobody", "x")


async def test_usage_scope_not_allowed_keeps_fans_out_but_not_the_artist(core, people):
    await update_settings(core, people["artist"], "aoi", usage="not_allowed")
    with pytest.raises(Refusal, match="generate.usage_not_allowed"):
        await request_generation(core, people["fan"], "aoi", "x")
    assert (await request_generation(core, people["artist"], "aoi", "x")).generation.id


async def test_only_the_owner_changes_settings(core, people):
    with pytest.raises(Refusal, match="maker.not_owner"):
        await update_settings(core, people["fan"], "aoi", usage="commercial")
    with pytest.raises(Refusal, match="maker.bad_usage"):
        await update_settings(core, people["artist"], "aoi", usage="everything")


async def test_private_makers_are_invisible_to_fans(core, people):
    await update_settings(core, people["artist"], "aoi", visibility="private")
    with pytest.raises(Refusal, match="maker.not_found"):
        await request_generation(core, people["fan"], "aoi", "x")


async def test_daily_quota(core, people):
    await update_settings(core, people["artist"], "aoi", daily_limit=3)
    await request_generation(core, people["fan"], "aoi", "x", count=2)
    with pytest.raises(Refusal) as refused:
        await request_generation(core, people["fan"], "aoi", "x", count=2)
    assert refused.value.key == "generate.quota" and refused.value.params == {"limit": 3, "used": 2}
    await request_generation(core, people["fan"], "aoi", "x", count=1)  # exactly at the limit is fine


async def test_banned_fans_are_refused(core, people):
    await ban_user(core, people["mod"], people["fan"].user_id, "spam")
    with pytest.raises(Refusal, match="user.banned"):
        await request_generation(core, people["fan"], "aoi", "x")


async def test_revocation_cancels_queued_work_and_deletes_the_lora(core, people, ctx):
    queued = await request_generation(core, people["fan"], "aoi", "x")
    with ctx.db.session() as s:
        lora = s.get(Maker, people["maker_id"]).lora_blob
    await revoke_maker(core, people["artist"], "aoi")
    with ctx.db.session() as s:
        assert s.get(Generation, queued.generation.id).status == JobStatus.cancelled.value
        assert s.get(Maker, people["maker_id"]).status == "revoked"
    assert not ctx.blobs.exists(lora)
    pool = await core.queue.pool()
    assert await pool.zscore("arq:abort", generation_job_id(core.settings.redis_prefix, queued.generation.id))
    with pytest.raises(Refusal, match="generate.maker_revoked"):
        await request_generation(core, people["fan"], "aoi", "x")
    with pytest.raises(Refusal, match="maker.not_owner"):
        await revoke_maker(core, people["fan"], "aoi")


async def test_results_are_locked_for_48_hours_except_for_moderators(core, people, ctx):
    gen_id = (await request_generation(core, people["fan"], "aoi", "x")).generation.id
    image = ctx.blobs.put(b"png")
    with ctx.db.session() as s:
        gen = s.get(Generation, gen_id)
        gen.status, gen.image_blobs = "done", [image]
        gen.undeletable_until = utcnow() + timedelta(hours=48)
        s.add(gen)
        s.commit()
    with pytest.raises(Refusal, match="generation.locked"):
        await delete_generation(core, people["fan"], gen_id)
    with pytest.raises(Refusal, match="generation.not_yours"):
        await delete_generation(core, people["artist"], gen_id)
    core.clock = lambda: utcnow() + timedelta(hours=49)
    gen = await delete_generation(core, people["fan"], gen_id)
    assert gen.taken_down and not ctx.blobs.exists(image)


async def test_withdrawing_a_queued_request_cancels_it(core, people, ctx):
    gen_id = (await request_generation(core, people["fan"], "aoi", "x")).generation.id
    gen = await delete_generation(core, people["fan"], gen_id)
    assert gen.status == JobStatus.cancelled.value and gen.taken_down
    pool = await core.queue.pool()
    assert await pool.zscore("arq:abort", generation_job_id(core.settings.redis_prefix, gen_id))
