"""The index from an image blob to its generation: what a bare /img/<digest> link is found by.

It is kept in step with Generation.image_blobs by every write (a finished job, a takedown, a withdrawal), filled
from existing generations by migration 0002, and only says where an image is: take-downs and revocations still
hide it. On SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import SQLModel, select

from bot.core import Actor, Core
from bot.core.gallery import is_public_blob
from bot.core.generations import delete_generation
from bot.core.makers import revoke_maker
from bot.core.moderation import take_down
from data.context import AppContext
from data.db import Database, alembic_config
from data.models import Generation, GenerationImage, JobStatus, Maker, MakerStatus, User, utcnow


@pytest.fixture(params=["sqlite", "postgresql"])
async def core(request, settings):
    if request.param == "postgresql":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    app = AppContext.create(settings)
    SQLModel.metadata.create_all(app.db.engine)
    core = Core.create(app, providers={})
    yield core
    await core.aclose()


def _people(core: Core) -> tuple[int, int, int]:
    with core.app.db.session() as s:
        artist, fan = User(display_name="aoi"), User(display_name="hana")
        s.add_all([artist, fan])
        s.flush()
        maker = Maker(owner_id=artist.id, name="aoi", status=MakerStatus.ready.value, lora_blob="0" * 64)
        s.add(maker)
        s.commit()
        return artist.id, fan.id, maker.id


def _finished(core: Core, fan_id: int, maker_id: int, *images: bytes) -> tuple[int, list[str]]:
    """A generation queued, then finished the way the worker finishes it (engine.jobs.generate)."""
    with core.app.db.session() as s:
        gen = Generation(requester_id=fan_id, maker_id=maker_id, prompt="p")
        s.add(gen)
        s.commit()
        gen_id = gen.id
    blobs = [core.app.blobs.put(data) for data in images]
    with core.app.db.session() as s:
        gen = s.get(Generation, gen_id)
        gen.status, gen.image_blobs, gen.finished_at = JobStatus.done.value, blobs, utcnow()
        gen.undeletable_until = utcnow() - timedelta(hours=1)
        s.add(gen)
        s.commit()
    return gen_id, blobs


def _index(core: Core) -> set[tuple[str, int]]:
    with core.app.db.session() as s:
        return {(row.blob, row.generation_id) for row in s.exec(select(GenerationImage))}


async def test_the_index_follows_every_write_and_the_checks_still_decide(core):
    artist_id, fan_id, maker_id = _people(core)
    mod, fan = Actor(user_id=artist_id, is_moderator=True), Actor(user_id=fan_id)
    first, (a, b) = _finished(core, fan_id, maker_id, b"\x89PNG first", b"\x89PNG second")
    second, (c,) = _finished(core, fan_id, maker_id, b"\x89PNG third")
    assert _index(core) == {(a, first), (b, first), (c, second)}
    assert [await is_public_blob(core, d) for d in (a, b, c)] == [True, True, True]

    await take_down(core, mod, "generation", first, "copies someone else's character")
    assert _index(core) == {(c, second)}
    assert not await is_public_blob(core, a) and not await is_public_blob(core, b)

    await delete_generation(core, fan, second)  # the requester's own withdrawal, after the lock
    assert _index(core) == set() and not await is_public_blob(core, c)

    third, (d,) = _finished(core, fan_id, maker_id, b"\x89PNG fourth")
    assert await is_public_blob(core, d)
    await revoke_maker(core, Actor(user_id=artist_id), "aoi")
    assert _index(core) == {(d, third)}  # still indexed, but the maker is gone: never served
    assert not await is_public_blob(core, d) and not await is_public_blob(core, d, generation_id=third)

    with core.app.db.session() as s:  # a generation row that goes takes its index rows with it
        s.delete(s.get(Generation, third))
        s.commit()
    assert _index(core) == set()



async def test_a_finished_job_is_found_by_a_bare_link(core, monkeypatch):
    """The worker's task writes the index as it records the images (rendering itself stubbed: no model here)."""
    import redis.asyncio as aioredis

    from engine import jobs

    _, fan_id, maker_id = _people(core)
    with core.app.db.session() as s:
        gen = Generation(requester_id=fan_id, maker_id=maker_id, prompt="p")
        s.add(gen)
        s.commit()
        gen_id = gen.id
    blob = core.app.blobs.put(b"\x89PNG rendered")
    monkeypatch.setattr(jobs, "_render", lambda app, pipelines, request: [blob])
    redis = aioredis.Redis.from_url(core.app.redis_url)
    try:
        ctx = {"app": core.app, "pipelines": None, "redis": redis, "job_id": f"{core.settings.redis_prefix}:t"}
        assert await jobs.generate(ctx, gen_id) == "done"
    finally:
        await redis.aclose()
    assert _index(core) == {(blob, gen_id)} and await is_public_blob(core, blob)

async def test_one_image_in_two_generations(core):
    """Content addressing: identical bytes are one blob. Taking one generation down leaves the other's link."""
    artist_id, fan_id, maker_id = _people(core)
    first, (same,) = _finished(core, fan_id, maker_id, b"\x89PNG identical")
    second, _ = _finished(core, fan_id, maker_id, b"\x89PNG identical")
    assert _index(core) == {(same, first), (same, second)}
    await take_down(core, Actor(user_id=artist_id, is_moderator=True), "generation", first, "reason")
    assert _index(core) == {(same, second)} and await is_public_blob(core, same)


async def test_a_bare_link_reads_no_whole_table(ctx):
    """SQLite's plan for each statement of a bare-link check: look-ups by the digest or a primary key only."""
    core = Core.create(ctx, providers={})
    try:
        _, fan_id, maker_id = _people(core)
        _, (blob,) = _finished(core, fan_id, maker_id, b"\x89PNG planned")
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append((statement, parameters))
        sa.event.listen(ctx.db.engine, "before_cursor_execute", record)
        try:
            assert await is_public_blob(core, blob)
            assert not await is_public_blob(core, "f" * 64)  # found nowhere: every place was asked
        finally:
            sa.event.remove(ctx.db.engine, "before_cursor_execute", record)
        assert statements
        with ctx.db.engine.connect() as conn:
            for statement, parameters in statements:
                plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
                # each table is entered at one key: the digest, or a primary key. "status=?" alone would read
                # every finished generation (what the old search did, LIKE-filtering their JSON lists)
                wide = [step for step in plan if not step.startswith("LIST SUBQUERY")
                        and not (step.startswith("SEARCH ") and ("rowid=?" in step or "blob=?" in step))]
                assert not wide, (statement, plan)
    finally:
        await core.aclose()


def _old_rows(db: Database) -> dict[str, int]:
    """Rows as a version-0001 install holds them: written without the ORM (no index table exists yet)."""
    now = utcnow()
    generation = sa.table("generation", sa.column("image_blobs", sa.JSON()), *(sa.column(name) for name in (
        "requester_id", "maker_id", "kind", "prompt", "negative_prompt", "seed", "count", "steps", "guidance",
        "source_blob", "status", "trace_id", "error", "taken_down", "created_at")))
    ids = {}
    with db.engine.begin() as conn:
        user = conn.execute(sa.text("INSERT INTO \"user\" (display_name, locale, banned, banned_reason, created_at) "
                                    "VALUES ('aoi', 'en', false, '', :now) RETURNING id"), {"now": now}).scalar_one()
        maker = conn.execute(sa.text(
            "INSERT INTO maker (owner_id, name, status, usage, visibility, daily_limit, base_model, trigger, "
            "lora_blob, sample_blob, created_at) VALUES (:user, 'aoi', 'ready', 'personal', 'public', 0, '', '', "
            "'', '', :now) RETURNING id"), {"user": user, "now": now}).scalar_one()
        for key, blobs, down in (("two", ["a" * 64, "b" * 64], False), ("repeated", ["c" * 64, "c" * 64], False),
                                 ("none", [], False), ("down", [], True), ("shared", ["b" * 64], False)):
            row = dict(requester_id=user, maker_id=maker, kind="txt2img", prompt=key, negative_prompt="", seed=0,
                       count=1, steps=0, guidance=0.0, source_blob="", status="done", image_blobs=blobs,
                       trace_id=len(ids) + 1, error="", taken_down=down, created_at=now)
            ids[key] = conn.execute(generation.insert().values(**row).returning(sa.column("id"))).scalar_one()
    return ids


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_upgrade_fills_the_index_from_existing_generations(dialect, settings, request, tmp_path):
    url = request.getfixturevalue("pg_url") if dialect == "postgresql" else f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    try:
        db.upgrade("0001")
        ids = _old_rows(db)
        db.upgrade()
        with db.engine.connect() as conn:
            rows = set(conn.execute(sa.text("SELECT blob, generation_id FROM generationimage")).all())
        assert rows == {("a" * 64, ids["two"]), ("b" * 64, ids["two"]), ("c" * 64, ids["repeated"]),
                        ("b" * 64, ids["shared"])}
        app = AppContext.create(settings.model_copy(update={"database_url": url}))
        core = Core.create(app, providers={})
        try:  # an upgraded install serves its old images from bare links
            assert await is_public_blob(core, "c" * 64) and await is_public_blob(core, "a" * 64)
            assert not await is_public_blob(core, "d" * 64)
        finally:
            await core.aclose()
        command.downgrade(alembic_config(url), "0001")  # and the way back
        assert "generationimage" not in sa.inspect(db.engine).get_table_names()
    finally:
        db.dispose()
