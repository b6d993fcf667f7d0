"""Account proof over the real database: challenge codes, links by stable id, one owner per account."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from data.models import Challenge, SocialAccount
from tests.verification_social.conftest import HANDLES, PLATFORMS, drawing
from verification.accounts import (
    AlreadyLinked, ChallengeExpired, CodeNotFound, LinkRefused, NoChallenge, check_challenge, fetch_portfolio,
    new_code, refresh_social_account, start_challenge,
)
from verification.providers.base import AccountProtected


def _links(ctx) -> list[SocialAccount]:
    with ctx.db.session() as session:
        return list(session.exec(select(SocialAccount)))


def test_codes_are_human_friendly_and_unique():
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(re.fullmatch(r"mimic-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code) for code in codes)


def test_start_challenge_expires_after_the_configured_ttl(ctx, users):
    challenge = start_challenge(ctx.db, ctx.settings, users[0], "x", "@alice")

    assert challenge.handle == "alice"
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=30)


def test_a_new_challenge_supersedes_the_open_one(ctx, users):
    first = start_challenge(ctx.db, ctx.settings, users[0], "x", "alice")
    second = start_challenge(ctx.db, ctx.settings, users[0], "x", "alice")

    with ctx.db.session() as session:
        assert session.get(Challenge, first.id).used_at is not None
        assert session.get(Challenge, second.id).used_at is None


@pytest.mark.parametrize("platform,handle", [("myspace", "alice"), ("x", "  @ ")])
def test_start_challenge_refuses_bad_input(ctx, users, platform, handle):
    with pytest.raises(LinkRefused):
        start_challenge(ctx.db, ctx.settings, users[0], platform, handle)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_code_in_the_bio_links_the_account_by_stable_id(ctx, fake, providers, users, platform):
    handle = HANDLES[platform][0]
    alice = fake.add_account(platform, handle)
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], platform, handle)
    alice.bio = f"illustrator. {challenge.code.lower()}"  # people retype codes in any case

    result = await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])

    assert result.found_in == "bio" and result.created
    [link] = _links(ctx)
    assert (link.user_id, link.platform) == (users[0], platform)
    assert link.account_id.startswith(alice.uid) and link.verified_at is not None
    with ctx.db.session() as session:
        assert session.get(Challenge, challenge.id).used_at is not None
    with pytest.raises(NoChallenge):  # a code works once
        await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_code_in_a_public_post_links_the_account(ctx, fake, providers, users, platform):
    handle = HANDLES[platform][0]
    alice = fake.add_account(platform, handle, bio="no code here")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], platform, handle)
    post = fake.add_post(alice, text=f"verifying my art bot account: {challenge.code}")
    fake.add_post(alice, images=[drawing(1)], text="a newer drawing")

    result = await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])

    assert result.found_in.endswith(post.id if platform != "bluesky" else post.rkey)
    assert len(_links(ctx)) == 1


async def test_missing_code_is_refused_and_the_challenge_stays_open(ctx, fake, providers, users):
    fake.add_account("x", "alice", bio="nothing")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "x", "alice")

    with pytest.raises(CodeNotFound) as caught:
        await check_challenge(ctx.db, ctx.settings, providers["x"], users[0])

    assert challenge.code in str(caught.value)
    assert _links(ctx) == []
    fake.accounts[0].bio = challenge.code
    assert (await check_challenge(ctx.db, ctx.settings, providers["x"], users[0])).found_in == "bio"


async def test_someone_elses_code_does_not_count(ctx, fake, providers, users):
    """Bob's code in Alice's bio proves nothing for Alice's user."""
    fake.add_account("x", "alice")
    theirs = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[1], "x", "alice")
    await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "x", "alice")
    fake.accounts[0].bio = theirs.code

    with pytest.raises(CodeNotFound):
        await check_challenge(ctx.db, ctx.settings, providers["x"], users[0])


async def test_expired_challenge_is_refused(ctx, fake, providers, users):
    alice = fake.add_account("bluesky", "alice.bsky.social")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "bluesky",
                                        "alice.bsky.social")
    alice.bio = challenge.code
    later = datetime.now(timezone.utc) + timedelta(minutes=31)

    with pytest.raises(ChallengeExpired, match="expired"):
        await check_challenge(ctx.db, ctx.settings, providers["bluesky"], users[0], now=later)

    assert _links(ctx) == []
    assert fake.api_requests("bluesky") == []  # refused before asking the platform


async def test_protected_account_is_refused(ctx, fake, providers, users):
    alice = fake.add_account("x", "alice", protected=True)
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "x", "alice")
    alice.bio = challenge.code

    with pytest.raises(AccountProtected):
        await check_challenge(ctx.db, ctx.settings, providers["x"], users[0])
    assert _links(ctx) == []


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_one_account_cannot_be_linked_to_two_users(ctx, fake, providers, users, platform):
    handle = HANDLES[platform][0]
    alice = fake.add_account(platform, handle)
    first = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], platform, handle)
    alice.bio = first.code
    await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])

    second = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[1], platform, handle)
    alice.bio = second.code  # even with the account's real cooperation
    with pytest.raises(AlreadyLinked, match="already linked to another"):
        await check_challenge(ctx.db, ctx.settings, providers[platform], users[1])

    assert [(link.user_id, link.platform) for link in _links(ctx)] == [(users[0], platform)]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_handle_change_keeps_the_link(ctx, fake, providers, users, platform):
    old, new = HANDLES[platform][0], "renamed" + (".bsky.social" if platform == "bluesky" else "")
    alice = fake.add_account(platform, old)
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], platform, old)
    alice.bio = challenge.code
    first = await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])

    fake.rename(alice, new)
    account = await refresh_social_account(ctx.db, providers[platform], first.social_account)
    [link] = _links(ctx)
    assert account.handle.split("@")[0] == new and link.handle == account.handle and link.id == first.social_account.id

    # verifying again under the new handle refreshes the same link
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], platform, new)
    alice.bio = challenge.code
    again = await check_challenge(ctx.db, ctx.settings, providers[platform], users[0])
    assert not again.created and again.social_account.id == first.social_account.id
    assert len(_links(ctx)) == 1


async def test_previous_handle_is_reported_when_it_changed_between_verifications(ctx, fake, providers, users):
    alice = fake.add_account("mastodon", "alice")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "mastodon", "alice")
    alice.bio = challenge.code
    first = await check_challenge(ctx.db, ctx.settings, providers["mastodon"], users[0])

    fake.rename(alice, "alice_art")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "mastodon", "alice_art")
    alice.bio = challenge.code
    again = await check_challenge(ctx.db, ctx.settings, providers["mastodon"], users[0])

    assert again.previous_handle == first.social_account.handle
    assert again.social_account.handle.startswith("alice_art@")


async def test_portfolio_of_a_linked_account_is_read_by_stable_id(ctx, fake, providers, users, social_settings):
    alice = fake.add_account("x", "alice")
    for n in range(3):
        fake.add_post(alice, images=[drawing(n)], text=f"piece {n}")
    challenge = await asyncio.to_thread(start_challenge, ctx.db, ctx.settings, users[0], "x", "alice")
    alice.bio = challenge.code
    link = (await check_challenge(ctx.db, ctx.settings, providers["x"], users[0])).social_account
    fake.rename(alice, "alice_new")
    impostor = fake.add_account("x", "alice")  # someone takes the freed handle
    fake.add_post(impostor, images=[drawing(50)], text="not alice's")

    account = await refresh_social_account(ctx.db, providers["x"], link)
    portfolio = await fetch_portfolio(providers["x"], account, social_settings)

    assert sorted(p.post_url.rsplit("/", 1)[-1] for p in portfolio) == sorted(p.id for p in alice.posts)


async def test_linking_works_the_same_on_postgresql(pg_url, fake, providers, social_settings):
    from sqlmodel import SQLModel

    from data.db import Database
    from data.models import User

    db = Database(pg_url)
    SQLModel.metadata.create_all(db.engine)
    try:
        with db.session() as session:
            rows = [User(discord_id=2000 + n) for n in range(2)]
            session.add_all(rows)
            session.commit()
            first_user, second_user = rows[0].id, rows[1].id
        alice = fake.add_account("bluesky", "alice.bsky.social")
        for user in (first_user, second_user):
            challenge = await asyncio.to_thread(start_challenge, db, social_settings, user, "bluesky", "alice")
            alice.bio = challenge.code
            if user == first_user:
                result = await check_challenge(db, social_settings, providers["bluesky"], user)
                assert result.social_account.account_id == alice.uid
            else:
                with pytest.raises(AlreadyLinked):
                    await check_challenge(db, social_settings, providers["bluesky"], user)
        with db.session() as session:
            assert [link.user_id for link in session.exec(select(SocialAccount))] == [first_user]
    finally:
        db.dispose()
