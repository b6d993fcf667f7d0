"""Export and erase as use cases: who may, what the zip holds, and what erasing keeps for moderation (the registry
still protects the person's works; a ban stays; records lose their personal text)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlmodel import select

from bot.core.data_rights import erase_user, export_user
from bot.core.errors import Refusal
from bot.core.moderation import ban_user
from data.models import Artwork, AuditEvent, Maker, SocialAccount, User
from verification.hashing import fingerprint
from verification.registry import ArtworkItem, check_upload, claim_artworks
from verification.synthetic import draw_illustration


def _jpeg(img: Image.Image) -> Image.Image:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


async def test_only_the_person_or_a_moderator_exports_or_erases(core, people):
    fan, artist = people["fan"], people["artist"]
    for use_case in (export_user, erase_user):
        with pytest.raises(Refusal) as refused:
            await use_case(core, fan, artist.user_id)
        assert refused.value.key == "permission.moderator_only"
    with core.app.db.session() as s:
        assert s.get(Maker, people["maker_id"]).status == "ready"
    data = await export_user(core, artist, artist.user_id)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        doc = json.loads(zf.read("data.json"))
    assert doc["user"]["display_name"] == "aoi" and doc["makers"][0]["name"] == "aoi"
    assert doc["social_accounts"][0]["handle"] == "aoi.example"


async def test_after_erasing_the_registry_still_protects_the_works(core, people):
    artist, fan = people["artist"], people["fan"]
    work = draw_illustration(11, (384, 384))
    with core.app.db.session() as s:
        account = s.exec(select(SocialAccount).where(SocialAccount.user_id == artist.user_id)).one()
        account_id = account.id
    claim_artworks(core.app.db, artist.user_id, [ArtworkItem(
        fingerprint(work), source_url="https://bsky.app/profile/aoi.example/post/1", social_account_id=account_id,
        posted_at=datetime(2024, 5, 1, tzinfo=timezone.utc), blob=core.app.blobs.put(b"the posted file"))])

    erased = await erase_user(core, artist, artist.user_id)
    assert erased.makers_revoked == ["aoi"]
    with core.app.db.session() as s:
        [artwork] = s.exec(select(Artwork).where(Artwork.owner_id == artist.user_id)).all()
        assert artwork.blob == "" and artwork.social_account_id is None
        assert artwork.source_url  # the public post proving whose work it is: what makes the claim ownership
        claim = s.exec(select(AuditEvent).where(AuditEvent.action == "registry.claim")).one()
        assert claim.detail["source_url"] == ""  # the post's address named the person
        assert s.get(Maker, people["maker_id"]).status == "revoked"
    decision = check_upload(core.app.db, fan.user_id, fingerprint(_jpeg(work), candidate=True))
    assert not decision.allowed and decision.incident == "someone_elses"  # still the erased artist's work


async def test_a_ban_outlives_the_account(core, people):
    fan, mod = people["fan"], people["mod"]
    with core.app.db.session() as s:
        user = s.get(User, fan.user_id)
        user.discord_id = 4242
        s.add(user)
        s.commit()
    await ban_user(core, mod, fan.user_id, "posted someone's address")
    await erase_user(core, fan, fan.user_id)
    with core.app.db.session() as s:
        user = s.get(User, fan.user_id)
        assert user.banned and user.discord_id == 4242 and user.banned_reason == "" and user.display_name == ""
        ban = s.exec(select(AuditEvent).where(AuditEvent.action == "user.ban")).one()
        assert ban.detail["reason"] == ""
    # signing in again with that Discord account finds the banned row, not a fresh one
    again = await core.user_for_discord(4242, "new name")
    assert again.id == fan.user_id and again.banned
