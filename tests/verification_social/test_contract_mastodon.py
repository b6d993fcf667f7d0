"""MastodonProvider against Mastodon's documented API and WebFinger (issue 12, rows 10-12)."""
from __future__ import annotations

import pytest

from tests.verification_social.conftest import drawing
from verification.providers.base import AccountNotFound, AccountSuspended


async def test_a_locked_account_with_public_posts_is_read(fake, providers):
    """Row 10: `locked` means follow requests are approved by hand; public posts stay public."""
    alice = fake.add_account("mastodon", "alice", protected=True)
    fake.add_post(alice, images=[drawing(1)], text="public piece")
    fake.add_post(alice, images=[drawing(2)], text="for followers", visibility="private")
    code_post = fake.add_post(alice, text="verifying: mimic-ABCD-EFGH", visibility="unlisted")

    account = await providers["mastodon"].lookup("alice")
    posts = [p async for p in providers["mastodon"].iter_media_posts(account)]

    assert not account.protected
    assert [p.text for p in posts] == ["public piece"]
    assert await providers["mastodon"].find_code(account, "mimic-ABCD-EFGH") == code_post_url(fake, code_post)


def code_post_url(fake, post) -> str:
    return f"{fake.mastodon_url}/@{post.account.handle}/{post.id}"


async def test_a_handle_on_a_split_domain_is_found_through_webfinger(fake, providers):
    """Row 11: alice@example.com may live on social.example.com; only WebFinger on example.com says so."""
    home = await fake.add_mastodon_instance(split_domain=True)
    alice = fake.add_account("mastodon", "alice", bio="mimic-ABCD-EFGH", instance=home)
    fake.add_post(alice, images=[drawing(1)], text="piece")
    assert home.local_domain != home.host

    account = await providers["mastodon"].lookup(f"@alice@{home.local_domain}")
    posts = [p async for p in providers["mastodon"].iter_media_posts(account)]
    again = await providers["mastodon"].lookup_id(account.account_id)

    assert account.handle == f"alice@{home.local_domain}"  # the handle people know, not the API host
    assert account.account_id == f"{alice.uid}@{home.host}"
    assert [p.text for p in posts] == ["piece"]
    assert again == account
    webfinger = [r for r in fake.requests if r.path == "/.well-known/webfinger"]
    assert webfinger and webfinger[0].query["resource"] == f"acct:alice@{home.local_domain}"


async def test_a_server_cannot_claim_another_domains_handles(fake, providers):
    """The local domain a server states is believed only when that domain's WebFinger points back at it."""
    impostor = await fake.add_mastodon_instance()
    impostor.claimed_domain = fake.mastodon_instances[0].host  # "my accounts are @<the main instance>"
    fake.add_account("mastodon", "famous", instance=impostor)

    account = await providers["mastodon"].lookup(f"famous@{impostor.host}")

    assert account.handle == f"famous@{impostor.host}"


@pytest.mark.parametrize("username", ["ko.fi-artist", "mori_no-e", "a.b"])
async def test_usernames_with_dots_and_dashes_are_found(fake, providers, username):
    """Row 11: Pixelfed, GoToSocial and Misskey-compatible servers allow `.` and `-` in usernames."""
    pixelfed = await fake.add_mastodon_instance()
    artist = fake.add_account("mastodon", username, instance=pixelfed)

    account = await providers["mastodon"].lookup(f"@{username}@{pixelfed.host}")

    assert account.account_id == f"{artist.uid}@{pixelfed.host}"
    assert account.handle == f"{username}@{pixelfed.host}"


async def test_usernames_are_still_checked(providers):
    for bad in ("alice..", "-alice", "al ice", "ali/ce"):
        with pytest.raises(AccountNotFound):
            await providers["mastodon"].lookup(bad)


async def test_a_suspended_account_gets_a_clear_message(fake, providers):
    """Row 12: a suspended account is answered 200 with `suspended: true` and an emptied profile."""
    alice = fake.add_account("mastodon", "alice", bio="I draw")
    alice.suspended = True

    with pytest.raises(AccountSuspended) as caught:
        await providers["mastodon"].lookup("alice")
    with pytest.raises(AccountSuspended):
        await providers["mastodon"].lookup_id(f"{alice.uid}@{fake.mastodon_instances[0].host}")

    assert "suspended" in str(caught.value)


async def test_a_code_in_a_profile_field_is_found(fake, providers):
    """Row 12: the code may sit in a profile field (name/value pairs, values in HTML), not in the note."""
    fake.add_account("mastodon", "alice", bio="I draw cats",
                     fields=[("Portfolio", "https://alice.example/art"), ("Verification", "mimic-ABCD-EFGH")])

    account = await providers["mastodon"].lookup("alice")

    assert ("Portfolio", "alice.example/art") in account.fields
    assert await providers["mastodon"].find_code(account, "mimic-ABCD-EFGH") == "bio"
