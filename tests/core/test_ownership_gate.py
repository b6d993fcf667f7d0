"""The ownership gate through the use cases: verification against a fake platform, uploads, claims, No-AI."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core import Actor, Core, Refusal
from bot.core.accounts import check_verification, start_verification, verification_status
from bot.core.generations import request_generation
from bot.core.makers import Upload, create_maker
from bot.core.protection import protect_files, protect_my_posts
from data.models import Artwork, Maker, MakerStatus, Report, TrainingJob, User
from tests.fakes.social import FakeSocial
from verification.accounts import build_providers
from verification.providers.base import Backoff
from verification.synthetic import draw_illustration


def jpeg(img, quality=85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def kuro_post_time(fake: FakeSocial, handle: str):
    return max(p.created_at for a in fake.accounts if a.handle == handle for p in a.posts)


def crop(img, keep):
    w, h = img.size
    side = int(w * keep ** 0.5)
    return img.crop((w - side, 0, w, side))


@pytest.fixture
async def world(ctx):
    """aoi and kuro verified on the fake Bluesky, each with posted drawings; a fan; a moderator."""
    async with FakeSocial() as fake:
        settings = ctx.settings.model_copy(update=fake.settings_overrides())
        providers = build_providers(settings, backoff=Backoff(max_wait_s=2, max_attempts=2, fallback_wait_s=0.1))
        core = Core(app=ctx, queue=Core.create(ctx, providers={}).queue, providers=providers)
        core.app.settings = settings
        with ctx.db.session() as s:
            users = [User(display_name=n, discord_id=i + 1) for i, n in enumerate(["aoi", "kuro", "hana", "thief"])]
            s.add_all(users)
            s.commit()
            ids = {u.display_name: u.id for u in users}
        posts = {"aoi": [draw_illustration(seed, (384, 384)) for seed in range(1, 7)],
                 "kuro": [draw_illustration(seed, (384, 384)) for seed in range(50, 54)]}
        for name in ("aoi", "kuro"):
            handle = f"{name}.bsky.social"
            actor = Actor(user_id=ids[name])
            challenge = await start_verification(core, actor, "bluesky", handle)
            account = fake.add_account("bluesky", handle, bio=f"illustrator · {challenge.code}")
            for img in posts[name]:
                fake.add_post(account, images=[img], text="new drawing")
            result = await check_verification(core, actor)
            assert result.indexed == len(posts[name]) and not result.conflicts
        yield core, fake, ids, posts
        for provider in providers.values():
            await provider.aclose()
        await core.aclose()


async def test_own_posts_become_a_maker_and_training_is_queued(world, ctx):
    core, _, ids, posts = world
    aoi = Actor(user_id=ids["aoi"])
    uploads = [Upload("re-encoded.jpg", jpeg(posts["aoi"][0], 70)),
               Upload("smaller.png", jpeg(posts["aoi"][1].resize((200, 200)))),
               Upload("flipped.jpg", jpeg(posts["aoi"][2].transpose(0))),
               Upload("face.png", jpeg(crop(posts["aoi"][3], 0.35))),
               Upload("never-posted.jpg", jpeg(draw_illustration(999, (384, 384)))),
               Upload("notes.txt", b"just some text")]
    created = await create_maker(core, aoi, "aoi", uploads)
    assert [c.filename for c in created.accepted] == ["re-encoded.jpg", "smaller.png", "flipped.jpg", "face.png"]
    rejected = {c.filename: c.reason for c in created.rejected}
    assert set(rejected) == {"never-posted.jpg", "notes.txt"}
    assert "not an image" in rejected["notes.txt"]
    assert all("posted" in c.reason for c in created.accepted)
    assert created.maker.status == MakerStatus.training.value and created.queue_position == 1
    with ctx.db.session() as s:
        assert s.exec(select(TrainingJob)).one().maker_id == created.maker.id


async def test_another_artists_picture_is_refused_and_recorded(world, ctx):
    core, _, ids, posts = world
    with pytest.raises(Refusal) as refused:
        await create_maker(core, Actor(user_id=ids["aoi"]), "aoi",
                           [Upload("mine.jpg", jpeg(posts["aoi"][0])), Upload("theirs.jpg", jpeg(posts["kuro"][0]))])
    assert refused.value.key == "maker.others_art"
    with ctx.db.session() as s:
        assert s.exec(select(Maker)).all() == []
        incident = s.exec(select(Report)).one()
    assert (incident.source, incident.target_kind, incident.target_id) == ("system", "user", ids["aoi"])


async def test_unverified_users_and_quota(world):
    core, _, ids, posts = world
    with pytest.raises(Refusal, match="maker.not_verified"):
        await create_maker(core, Actor(user_id=ids["hana"]), "hana", [Upload("a.jpg", jpeg(posts["aoi"][0]))])
    aoi = Actor(user_id=ids["aoi"])
    await create_maker(core, aoi, "one", [], from_posts=True)
    await create_maker(core, aoi, "two", [Upload("a.jpg", jpeg(posts["aoi"][0]))])
    with pytest.raises(Refusal, match="maker.quota"):
        await create_maker(core, aoi, "three", [Upload("a.jpg", jpeg(posts["aoi"][0]))])


async def test_a_repost_of_someone_elses_art_is_not_claimed(world):
    core, fake, ids, posts = world
    thief = Actor(user_id=ids["thief"])
    challenge = await start_verification(core, thief, "bluesky", "thief.bsky.social")
    account = fake.add_account("bluesky", "thief.bsky.social", bio=challenge.code)
    # a year after kuro posted it: the earlier post owns the work (same-day copies go to moderators instead)
    later = kuro_post_time(fake, "kuro.bsky.social") + timedelta(days=365)
    fake.add_post(account, images=[jpeg(posts["kuro"][1])], text="my art (it is not)", posted_at=later)
    fake.add_post(account, images=[draw_illustration(777, (384, 384))], text="actually mine", posted_at=later)
    result = await check_verification(core, thief)
    assert (result.indexed, len(result.conflicts)) == (1, 1)
    with pytest.raises(Refusal, match="maker.others_art"):
        await create_maker(core, thief, "stolen", [Upload("k.jpg", jpeg(posts["kuro"][1]))])
    status = await verification_status(core, thief)
    assert status.artworks == 1 and status.accounts[0].handle == "thief.bsky.social"


async def test_no_ai_list_blocks_training_and_remakes(world, ctx):
    core, _, ids, posts = world
    kuro, aoi = Actor(user_id=ids["kuro"]), Actor(user_id=ids["aoi"])
    assert (await protect_my_posts(core, kuro)).works == len(posts["kuro"])
    protected = await protect_files(core, aoi, [Upload("sketch.png", jpeg(draw_illustration(4242, (256, 256)))),
                                                Upload("kuros.png", jpeg(posts["kuro"][2]))])
    assert protected.works == 1 and [str(r) for r in protected.refused] == ["kuros.png: this work was posted by "
                                                                            "another artist"]
    with pytest.raises(Refusal) as refused:  # kuro's own protected work can't be trained on either
        await create_maker(core, kuro, "kuro", [Upload("k.jpg", jpeg(posts["kuro"][0]))])
    assert refused.value.key == "maker.nothing_accepted"
    assert [str(d) for d in refused.value.params["details"]] == ["k.jpg: you listed this work as No AI learning, so "
                                                                 "it cannot be used"]
    # a fan's remake of a protected work is refused
    with ctx.db.session() as s:
        s.add(Maker(owner_id=ids["aoi"], name="aoi-ready", status=MakerStatus.ready.value, lora_blob="x"))
        s.commit()
    hana = Actor(user_id=ids["hana"])
    with pytest.raises(Refusal, match="remake.protected"):
        await request_generation(core, hana, "aoi-ready", "summer", source_image=jpeg(posts["kuro"][3], 80))
    with pytest.raises(Refusal, match="remake.others_art"):  # claimed but not protected: still not the fan's
        await request_generation(core, hana, "aoi-ready", "summer", source_image=jpeg(posts["aoi"][5], 80))
    queued = await request_generation(core, hana, "aoi-ready", "summer",
                                      source_image=jpeg(draw_illustration(31337, (256, 256))))
    assert queued.generation.kind == "remake" and queued.generation.source_blob
    with ctx.db.session() as s:
        assert len(s.exec(select(Artwork).where(Artwork.no_ai.is_(True))).all()) == len(posts["kuro"]) + 1


async def test_verification_errors_are_told_in_the_users_language(world):
    from bot.i18n import t

    core, fake, ids, _ = world
    hana = Actor(user_id=ids["hana"])
    await start_verification(core, hana, "bluesky", "nobody-here.bsky.social")
    with pytest.raises(Refusal) as missing:
        await check_verification(core, hana)
    assert missing.value.key == "verify.account_not_found"
    assert "nobody-here.bsky.social" in t(missing.value.key, "ja", **missing.value.params)
    await start_verification(core, hana, "bluesky", "hana.bsky.social")
    fake.add_account("bluesky", "hana.bsky.social", bio="no code here")
    with pytest.raises(Refusal, match="verify.code_not_found"):
        await check_verification(core, hana)
