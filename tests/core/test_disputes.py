"""The earliest public post owns a work: a thief who links first loses the work (and their maker) the moment the
real artist verifies; the reverse order refuses the thief; unclear dates go to moderators. Through the use cases
and the fake Bluesky, whose posts carry their dates."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.core import Actor, Core, Refusal
from bot.core.accounts import check_verification, start_verification
from bot.core.disputes import (contest, decide_dispute, decision_notices, my_disputes, open_disputes, settle_suspended,
                               suspended_makers)
from bot.core.gallery import generation_view, is_public_blob, maker_detail
from bot.core.generations import request_generation
from bot.core.posting import unposted_card
from bot.core.makers import Upload, create_maker
from bot.i18n import t
from data.models import (Artwork, AuditEvent, Dispute, Generation, JobStatus, Maker, MakerStatus, Report,
                         TrainingJob, User)
from engine.jobs import finish_training
from tests.fakes.social import FakeSocial
from verification.accounts import build_providers
from verification.providers.base import Backoff
from verification.registry import DISPUTE_TOLERANCE, post_order
from verification.synthetic import draw_illustration

ARTIST_DATES = [datetime(2020, 3, d, 12, tzinfo=timezone.utc) for d in range(1, 6)]
THIEF_DATES = [datetime(2026, 11, d, 12, tzinfo=timezone.utc) for d in range(1, 6)]


def jpeg(img, quality=85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture
async def world(ctx):
    async with FakeSocial() as fake:
        settings = ctx.settings.model_copy(update=fake.settings_overrides())
        providers = build_providers(settings, backoff=Backoff(max_wait_s=2, max_attempts=2, fallback_wait_s=0.1))
        core = Core(app=ctx, queue=Core.create(ctx, providers={}).queue, providers=providers)
        core.app.settings = settings
        with ctx.db.session() as s:
            users = [User(display_name="aoi", discord_id=1, locale="ja"), User(display_name="thief", discord_id=2),
                     User(display_name="mod", discord_id=3)]
            s.add_all(users)
            s.commit()
            ids = {u.display_name: u.id for u in users}
        drawings = [draw_illustration(seed, (384, 384)) for seed in range(1, 6)]
        yield core, fake, ids, drawings
        for provider in providers.values():
            await provider.aclose()
        await core.aclose()


async def link(core: Core, fake: FakeSocial, user_id: int, handle: str, images, dates):
    actor = Actor(user_id=user_id)
    challenge = await start_verification(core, actor, "bluesky", handle)
    account = fake.add_account("bluesky", handle, bio=f"illustrator · {challenge.code}")
    for img, when in zip(images, dates):
        fake.add_post(account, images=[img], text="new drawing", posted_at=when)
    return await check_verification(core, actor)


async def ready_maker(core: Core, actor: Actor, name: str) -> Maker:
    """A maker made from the actor's posts and trained (the worker's own finishing step), with one result."""
    created = await create_maker(core, actor, name, [], from_posts=True)
    with core.app.db.session() as s:
        job = s.exec(select(TrainingJob).where(TrainingJob.maker_id == created.maker.id)).one()
    finish_training(core.app, job.id, created.maker.id, JobStatus.done, lora_blob=core.app.blobs.put(b"lora"),
                    sample_blob=core.app.blobs.put(b"sample"))
    with core.app.db.session() as s:
        s.add(Generation(requester_id=actor.user_id, maker_id=created.maker.id, status=JobStatus.done.value,
                         image_blobs=[core.app.blobs.put(b"result image")], prompt="x"))
        s.commit()
        return s.get(Maker, created.maker.id)


def test_post_order_and_its_tolerance():
    day = datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert post_order(day, day + DISPUTE_TOLERANCE + timedelta(seconds=1)) == "earlier"
    assert post_order(day + DISPUTE_TOLERANCE + timedelta(seconds=1), day) == "later"
    assert post_order(day, day + timedelta(hours=3)) == "unclear"
    assert post_order(None, day) == "unclear" and post_order(day, None) == "unclear"
    assert post_order(day.replace(tzinfo=None), day + timedelta(days=2)) == "earlier"  # SQLite drops the zone


async def test_thief_first_then_artist_ownership_moves_and_the_thiefs_maker_stops_at_once(world, ctx):
    core, fake, ids, drawings = world
    thief, aoi = Actor(user_id=ids["thief"]), Actor(user_id=ids["aoi"])
    stolen = await link(core, fake, ids["thief"], "thief.bsky.social", [jpeg(d, 80) for d in drawings], THIEF_DATES)
    assert stolen.indexed == 5
    maker = await ready_maker(core, thief, "stolen")
    with ctx.db.session() as s:
        gen = s.exec(select(Generation).where(Generation.maker_id == maker.id)).one()
        queued = Generation(requester_id=thief.user_id, maker_id=maker.id, status=JobStatus.queued.value)
        s.add(queued)
        s.commit()
        queued_id = queued.id
    assert (await generation_view(core, gen.id)).gone is False

    result = await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings, ARTIST_DATES)
    # no await between the verification and these reads: the consequences were carried out inside it
    with ctx.db.session() as s:
        suspended = s.get(Maker, maker.id)
        owners = {a.owner_id for a in s.exec(select(Artwork)).all()}
        cancelled = s.get(Generation, queued_id)
        reports = s.exec(select(Report)).all()
        audit = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert suspended.status == MakerStatus.suspended.value and suspended.suspended_from == MakerStatus.ready.value
    assert suspended.lora_blob and ctx.blobs.exists(suspended.lora_blob)  # quarantined, not deleted
    assert cancelled.status == JobStatus.cancelled.value
    assert owners == {ids["aoi"]}
    assert (len(result.moved), result.conflicts, result.indexed) == (5, [], 0)
    assert [c.suspended for c in result.changes][0] == ["stolen"]
    assert all(r.target_kind == "artwork" for r in reports) and len(reports) == 5  # one per moved work
    assert not any(r.target_kind == "user" and r.target_id == ids["aoi"] for r in reports)
    assert "2020-03-0" in reports[0].reason and "2026-11-0" in reports[0].reason  # both posts, both dates
    assert "maker.suspend" in audit and "registry.transfer" in audit and "ownership.change" in audit
    # both told, each in their own language
    lost = [n for n in result.notices if n.user_id == ids["thief"] and n.text.key == "ownership.lost"]
    won = [n for n in result.notices if n.user_id == ids["aoi"] and n.text.key == "ownership.won"]
    assert lost and won and won[0].locale == "ja" and "あなたのもの" in t(won[0].text.key, won[0].locale,
                                                                          **won[0].text.params)
    # the gallery shows tombstones; nothing of the maker is served
    card = await generation_view(core, gen.id)
    assert card.gone and card.gone_reason == "maker_suspended" and card.image_blobs == []
    assert not await is_public_blob(core, gen.image_blobs[0])
    assert (await maker_detail(core, "stolen")).card.gone
    assert await unposted_card(core, gen.id) is None  # a restart's catch-up won't post it either
    with pytest.raises(Refusal, match="generate.maker_suspended"):
        await request_generation(core, thief, "stolen", "more")
    # the artist's maker is accepted, with no report against them; the thief can't use the work any more
    created = await create_maker(core, aoi, "aoi", [Upload("mine.jpg", jpeg(drawings[0], 70))], from_posts=True)
    assert created.maker.status == MakerStatus.training.value and len(created.accepted) == 5
    with pytest.raises(Refusal, match="maker.others_art"):
        await create_maker(core, thief, "again", [Upload("x.jpg", jpeg(drawings[1]))])
    with ctx.db.session() as s:
        assert not s.exec(select(Report).where(Report.target_kind == "user", Report.target_id == ids["aoi"])).all()

    # a moderator settles the quarantine: delete the LoRA (restoring is refused: the works are aoi's)
    mod = Actor(user_id=ids["mod"], is_moderator=True)
    assert [m.name for m in await suspended_makers(core, mod)] == ["stolen"]
    with pytest.raises(Refusal, match="maker.still_others"):
        await settle_suspended(core, mod, "stolen", restore=True)
    lora = suspended.lora_blob
    settled = await settle_suspended(core, mod, "stolen", restore=False)
    assert settled.status == MakerStatus.taken_down.value and not ctx.blobs.exists(lora)


async def test_artist_first_then_thief_refuses_the_thief(world, ctx):
    core, fake, ids, drawings = world
    await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings, ARTIST_DATES)
    await ready_maker(core, Actor(user_id=ids["aoi"]), "aoi")
    result = await link(core, fake, ids["thief"], "thief.bsky.social", [jpeg(d, 80) for d in drawings], THIEF_DATES)
    assert (result.indexed, len(result.conflicts), result.moved, result.disputed) == (0, 5, [], [])
    with pytest.raises(Refusal, match="maker.others_art"):
        await create_maker(core, Actor(user_id=ids["thief"]), "stolen", [Upload("a.jpg", jpeg(drawings[0]))])
    with ctx.db.session() as s:
        assert s.exec(select(Maker).where(Maker.name == "aoi")).one().status == MakerStatus.ready.value
        assert {d.status for d in s.exec(select(Dispute)).all()} == {"refused"}
        incident = s.exec(select(Report).where(Report.target_kind == "user")).one()
    assert incident.target_id == ids["thief"]


async def test_same_day_posts_are_disputed_until_a_moderator_decides(world, ctx):
    core, fake, ids, drawings = world
    thief, mod = Actor(user_id=ids["thief"]), Actor(user_id=ids["mod"], is_moderator=True)
    morning = [datetime(2025, 6, d, 9, tzinfo=timezone.utc) for d in range(1, 6)]
    await link(core, fake, ids["thief"], "thief.bsky.social", [jpeg(d, 80) for d in drawings], morning)
    maker = await ready_maker(core, thief, "stolen")
    result = await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings, [m + timedelta(hours=5) for m in morning])
    assert (len(result.disputed), result.moved, result.changes) == (5, [], [])
    assert {n.text.key for n in result.notices} == {"dispute.opened"}
    with ctx.db.session() as s:
        assert s.get(Maker, maker.id).status == MakerStatus.ready.value  # nobody suspended yet
        assert not s.exec(select(Report).where(Report.target_kind == "user")).all()
    # the artist's uploads of a disputed work are refused without an incident
    with pytest.raises(Refusal) as refused:
        await create_maker(core, Actor(user_id=ids["aoi"]), "aoi", [Upload("a.jpg", jpeg(drawings[0]))])
    assert refused.value.key == "maker.nothing_accepted" and "disputed" in str(refused.value.params["details"][0])

    disputes = await open_disputes(core, mod)
    assert len(disputes) == 5 and disputes[0].claimant.post_url and disputes[0].holder.post_url
    assert disputes[0].claimant.blob and disputes[0].holder.blob  # both images, side by side
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await open_disputes(core, thief)
    kept, change = await decide_dispute(core, mod, disputes[0].dispute.id, "keep")
    assert kept.status == "kept" and change is None
    assert {n.text.key for n in await decision_notices(core, kept, change)} == {"dispute.kept"}
    with ctx.db.session() as s:
        assert s.get(Maker, maker.id).status == MakerStatus.ready.value
    moved, change = await decide_dispute(core, mod, disputes[1].dispute.id, "move", note="older sketches shown")
    assert moved.status == "moved" and change.suspended == ["stolen"]
    with ctx.db.session() as s:
        assert s.get(Artwork, disputes[1].dispute.artwork_id).owner_id == ids["aoi"]
        assert s.get(Maker, maker.id).status == MakerStatus.suspended.value
    with pytest.raises(Refusal, match="dispute.not_open"):
        await decide_dispute(core, mod, disputes[1].dispute.id, "keep")


async def test_an_artist_contests_a_refused_claim(world, ctx):
    core, fake, ids, drawings = world
    aoi = Actor(user_id=ids["aoi"])
    # the thief's copies are dated earlier than aoi's posts (say aoi's older posts are on another site)
    await link(core, fake, ids["thief"], "thief.bsky.social", [jpeg(d, 80) for d in drawings[:1]], ARTIST_DATES[:1])
    result = await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings[:1], THIEF_DATES[:1])
    assert len(result.conflicts) == 1
    with ctx.db.session() as s:
        post = s.exec(select(Dispute)).one().claimant_post_url
    with pytest.raises(Refusal, match="contest.no_claim"):
        await contest(core, aoi, "https://bsky.app/nothing", "mine")
    dispute, notices = await contest(core, aoi, post, "my 2019 originals are on my website")
    assert dispute.status == "open" and dispute.origin == "contest" and "2019" in dispute.note
    assert [n.user_id for n in notices] == [ids["thief"]]
    mod = Actor(user_id=ids["mod"], is_moderator=True)
    assert [d.dispute.id for d in await open_disputes(core, mod)] == [dispute.id]
    _, change = await decide_dispute(core, mod, dispute.id, "move")
    assert change.winner_id == ids["aoi"] and change.loser_id == ids["thief"]


async def test_a_backdated_bluesky_post_does_not_win_by_its_own_date(world, ctx):
    core, fake, ids, drawings = world
    await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings[:2], ARTIST_DATES[:2])
    actor = Actor(user_id=ids["thief"])
    challenge = await start_verification(core, actor, "bluesky", "thief.bsky.social")
    account = fake.add_account("bluesky", "thief.bsky.social", bio=challenge.code)
    for img in drawings[:2]:  # the record claims 2019; the AppView saw it in November 2026
        fake.add_post(account, images=[jpeg(img, 80)], posted_at=datetime(2019, 1, 1, tzinfo=timezone.utc),
                      indexed_at=THIEF_DATES[0])
    result = await check_verification(core, actor)
    assert (len(result.conflicts), result.moved, result.disputed) == (2, [], [])
    with ctx.db.session() as s:
        assert {a.owner_id for a in s.exec(select(Artwork)).all()} == {ids["aoi"]}


async def test_my_disputes_shows_each_party_their_own_side_and_nobody_else_anything(world, ctx):
    core, fake, ids, drawings = world
    await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings[:2], ARTIST_DATES[:2])
    await link(core, fake, ids["thief"], "thief.bsky.social", [jpeg(d, 80) for d in drawings[:2]],
               [THIEF_DATES[0], ARTIST_DATES[1] + timedelta(hours=1)])  # one later (refused), one unclear (open)
    aoi, thief = Actor(user_id=ids["aoi"]), Actor(user_id=ids["thief"])
    refused = next(d for d in await my_disputes(core, thief) if d.state == "refused")
    await contest(core, thief, refused.my_post_url, "my words for the moderators")
    mine, theirs = await my_disputes(core, aoi), await my_disputes(core, thief)
    assert [d.id for d in mine] == [d.id for d in theirs] and len(mine) == 2
    assert {d.state for d in mine} == {"contested", "open"} and not any(d.decided for d in mine)
    for a, b in zip(mine, theirs):
        assert (a.my_post_url, a.my_posted_at) == (b.their_post_url, b.their_posted_at)
        assert (a.their_post_url, a.their_posted_at) == (b.my_post_url, b.my_posted_at)
        assert a.yours_now and not b.yours_now  # both works stay with aoi until a moderator decides
        assert "aoi.bsky.social" in a.my_post_url and "thief.bsky.social" in a.their_post_url
    assert await my_disputes(core, Actor(user_id=ids["mod"])) == []
    assert not any(hasattr(d, "note") for d in mine)  # the contest's words are not the other side's to read
