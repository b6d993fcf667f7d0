"""The real tweepy, atproto and Mastodon.py clients, over HTTP, against the fake platforms."""
from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from tests.verification_social.conftest import FAST_BACKOFF, HANDLES, PLATFORMS, drawing
from verification.accounts import build_providers, fetch_portfolio
from verification.providers.base import (
    AccountNotFound, AccountProtected, AuthFailed, RateLimited, SocialError,
)
from verification.providers.mastodon import MastodonProvider
from verification.providers.x import XProvider

TIMELINE_PATHS = {"x": "/tweets", "bluesky": "getAuthorFeed", "mastodon": "/statuses"}


def _timeline_requests(fake, platform):
    return [r for r in fake.api_requests(platform) if r.path.endswith(TIMELINE_PATHS[platform])]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_lookup_returns_the_stable_id_and_the_bio(fake, providers, platform):
    handle = HANDLES[platform][0]
    fake.add_account(platform, HANDLES[platform][1])
    alice = fake.add_account(platform, handle, bio="I draw cats & dogs", display_name="Alice A.")

    account = await providers[platform].lookup("@" + handle.upper() if platform == "x" else "@" + handle)

    assert account.account_id.startswith(alice.uid)  # Mastodon appends @instance
    assert account.handle.split("@")[0] == handle
    assert account.bio == "I draw cats & dogs"
    assert account.display_name == "Alice A."
    assert account.profile_url and not account.protected
    again = await providers[platform].lookup_id(account.account_id)
    assert again == account


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_pages_through_every_post_newest_first(fake, providers, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    posted = [fake.add_post(alice, images=[drawing(n)], text=f"piece {n}") for n in range(130)]
    fake.add_post(alice, text="a post without pictures")

    account = await providers[platform].lookup(HANDLES[platform][0])
    posts = [post async for post in providers[platform].iter_media_posts(account)]

    assert [p.text for p in posts] == [f"piece {n}" for n in reversed(range(130))]
    assert len({p.post_id for p in posts}) == 130
    assert posts[0].posted_at == posted[-1].created_at
    assert all(len(p.media) == 1 and p.media[0].width == 64 and p.media[0].height == 48 for p in posts)
    assert len(_timeline_requests(fake, platform)) >= 2


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_limit_stops_paging_early(fake, providers, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    for n in range(130):
        fake.add_post(alice, images=[drawing(n)], text=f"piece {n}")
    account = await providers[platform].lookup(HANDLES[platform][0])

    posts = [post async for post in providers[platform].iter_media_posts(account, limit=10)]

    assert [p.text for p in posts] == [f"piece {n}" for n in range(129, 119, -1)]
    assert len(_timeline_requests(fake, platform)) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_reposts_of_someone_elses_picture_are_excluded(fake, providers, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    bob = fake.add_account(platform, HANDLES[platform][1])
    bobs = fake.add_post(bob, images=[drawing(99)], text="bob's piece")
    fake.add_post(alice, images=[drawing(1)], text="alice's piece")
    fake.add_post(alice, repost_of=bobs)
    fake.add_post(alice, images=[drawing(2)], text="alice's second piece")

    account = await providers[platform].lookup(HANDLES[platform][0])
    posts = [post async for post in providers[platform].iter_media_posts(account)]

    assert [p.text for p in posts] == ["alice's second piece", "alice's piece"]
    asked = _timeline_requests(fake, platform)[0].query
    if platform == "x":
        assert asked["exclude"] == "retweets"  # exclude=replies would cut the timeline to 800 posts
        assert asked["max_results"] == "100" and "attachments.media_keys" in asked["expansions"]
    elif platform == "bluesky":
        assert asked["filter"] == "posts_with_media"
    else:
        assert asked["only_media"] in ("1", "true") and asked["exclude_reblogs"] in ("1", "true")


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_rate_limit_is_waited_out_then_the_read_succeeds(fake, providers, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    for n in range(3):
        fake.add_post(alice, images=[drawing(n)], text=f"piece {n}")
    account = await providers[platform].lookup(HANDLES[platform][0])
    fake.rate_limit(platform, times=1, reset_in_s=0.3)

    posts = [post async for post in providers[platform].iter_media_posts(account)]

    assert len(posts) == 3
    limited, retried = _timeline_requests(fake, platform)[:2]
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at >= limited.rate_limit_reset - 0.05  # not before the announced reset


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_long_rate_limit_is_reported_politely_without_waiting(fake, providers, platform):
    fake.add_account(platform, HANDLES[platform][0])
    fake.rate_limit(platform, times=5, reset_in_s=600)

    with pytest.raises(RateLimited) as caught:
        await providers[platform].lookup(HANDLES[platform][0])

    assert caught.value.reset_at is not None and "slow down" in str(caught.value)
    assert len(fake.api_requests(platform)) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_deleted_media_is_skipped_with_a_reason(fake, providers, social_settings, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    kept = fake.add_post(alice, images=[drawing(1), drawing(2)], text="two pieces")
    fake.add_post(alice, images=[drawing(3)], text="since deleted", deleted_media=True)
    account = await providers[platform].lookup(HANDLES[platform][0])

    portfolio = await fetch_portfolio(providers[platform], account, social_settings)

    assert [item.image_bytes for item in portfolio] == [image.data for image in kept.images]
    assert all(Image.open(io.BytesIO(item.image_bytes)).size == (64, 48) for item in portfolio)
    assert len(portfolio.skipped) == 1 and "deleted" in portfolio.skipped[0].reason
    assert portfolio[0].post_url and portfolio[0].posted_at == kept.created_at


@pytest.mark.parametrize("platform", ["x", "bluesky"])  # Mastodon's `locked` is no such thing: test_contract_mastodon
async def test_protected_account_cannot_be_read(fake, providers, platform):
    fake.add_account(platform, HANDLES[platform][0], protected=True)

    account = await providers[platform].lookup(HANDLES[platform][0])
    assert account.protected
    with pytest.raises(AccountProtected, match="protected"):
        async for _ in providers[platform].iter_media_posts(account):
            pass


async def test_x_answers_protected_timelines_with_an_authorization_error(fake, providers):
    """Even an account believed public is refused when X itself says the timeline is not visible."""
    fake.add_account("x", "alice")
    account = await providers["x"].lookup("alice")
    fake.accounts[0].protected = True

    with pytest.raises(AccountProtected):
        async for _ in providers["x"].iter_media_posts(account):
            pass


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("handle", ["nobody", "@nobody", "not a handle!"])
async def test_unknown_handle_is_account_not_found(fake, providers, platform, handle):
    fake.add_account(platform, HANDLES[platform][0])

    with pytest.raises(AccountNotFound) as caught:
        await providers[platform].lookup(handle)

    assert "couldn't find" in str(caught.value)


async def test_expired_x_token_is_auth_failed_and_never_shown(fake, providers, caplog):
    fake.add_account("x", "alice")
    fake.expire_x_token()
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthFailed) as caught:
        await providers["x"].lookup("alice")

    assert fake.api_requests("x")[0].status == 401
    assert fake.x_token not in str(caught.value) and fake.x_token not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "renew" in str(caught.value)
    assert fake.x_token not in caplog.text  # tweepy's debug log would print it: XProvider filters those records


async def test_refused_mastodon_token_is_auth_failed(fake):
    fake.add_account("mastodon", "alice")
    provider = MastodonProvider(fake.mastodon_url, "stale-token-123", backoff=FAST_BACKOFF)
    try:
        with pytest.raises(AuthFailed) as caught:
            await provider.lookup("alice")
    finally:
        await provider.aclose()
    assert "stale-token-123" not in str(caught.value)


async def test_mastodon_token_is_never_sent_to_a_users_home_instance():
    provider = MastodonProvider("https://mastodon.example", "secret-token", backoff=FAST_BACKOFF)
    assert provider._api("https://mastodon.example").access_token == "secret-token"
    assert provider._api("https://other.example").access_token is None


async def test_unreachable_platform_is_provider_unavailable(fake):
    provider = XProvider("token", "http://127.0.0.1:9", backoff=FAST_BACKOFF)  # discard port: nothing listens
    try:
        with pytest.raises(SocialError, match="can't be reached"):
            await provider.lookup("alice")
    finally:
        await provider.aclose()


def test_build_providers_disables_x_without_a_token(social_settings, caplog):
    caplog.set_level(logging.INFO)
    without_token = social_settings.model_copy(update={"x_bearer_token": None})

    providers = build_providers(without_token)

    assert set(providers) == {"bluesky", "mastodon"}
    lines = [r.getMessage() for r in caplog.records if "disabled" in r.getMessage()]
    assert lines == ["X provider disabled: X_BEARER_TOKEN is not set"]


def test_build_providers_with_everything_configured(social_settings):
    assert set(build_providers(social_settings)) == {"x", "bluesky", "mastodon"}


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_profile_links_are_accepted_as_handles(fake, providers, platform):
    alice = fake.add_account(platform, HANDLES[platform][0])
    link = {"x": "https://x.com/alice", "bluesky": "https://bsky.app/profile/alice.bsky.social",
            "mastodon": f"{fake.mastodon_url}/@alice"}[platform]

    account = await providers[platform].lookup(link)

    assert account.account_id.startswith(alice.uid)
