"""The registry over real databases: first verified owner wins, incidents are recorded, No-AI works are refused."""
from __future__ import annotations

from datetime import datetime, timezone

from PIL import Image
from sqlmodel import SQLModel, select

from data.db import Database
from data.models import Artwork, AuditEvent, Report, User
from verification.hashing import fingerprint
from verification.registry import ArtworkItem, Registry, add_no_ai, check_upload, claim_artworks

from .conftest import jpeg_roundtrip


def make_users(db: Database, *names: str) -> list[int]:
    with db.session() as s:
        users = [User(display_name=n) for n in names]
        s.add_all(users)
        s.commit()
        return [u.id for u in users]


def item(img: Image.Image, url: str = "", posted_at: datetime = datetime(2024, 5, 1, tzinfo=timezone.utc)
         ) -> ArtworkItem:
    return ArtworkItem(fingerprint(img), source_url=url, media_url=url and url + "/media", posted_at=posted_at)


LATER = datetime(2025, 5, 1, tzinfo=timezone.utc)  # a year after alice's posts: the earliest post owns a work


def scenario(db: Database, own_images, lookalike_images) -> None:
    alice, bob, carol = make_users(db, "alice", "bob", "carol")
    registry = Registry(db)
    first = claim_artworks(db, alice, [item(own_images[1], "https://x.com/alice/status/1"),
                                       item(own_images[2], "https://x.com/alice/status/2")], registry=registry)
    assert len(first.claimed) == 2 and not first.conflicts
    # re-indexing alice's own posts (a re-encoded copy) does not duplicate them
    again = claim_artworks(db, alice, [item(jpeg_roundtrip(own_images[1]), "https://x.com/alice/status/1")],
                           registry=registry)
    assert again.claimed == [] and again.already_yours == [first.claimed[0]]
    # bob reposted alice's picture a year later: alice posted it first, so it stays hers
    stolen = claim_artworks(db, bob, [item(own_images[1].transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                           "https://bsky.app/profile/bob/post/9", LATER),
                                      item(lookalike_images[101], "https://bsky.app/profile/bob/post/10", LATER)],
                            registry=registry)
    assert [c.artwork_id for _, c in stolen.conflicts] == [first.claimed[0]]
    assert len(stolen.claimed) == 1  # the same-style look-alike is bob's own work

    # bob uploads alice's picture to train a maker: refused, and moderators see an incident
    decision = check_upload(db, bob, fingerprint(jpeg_roundtrip(own_images[2]), candidate=True), registry=registry,
                            filename="mine.jpg")
    assert not decision.allowed and decision.incident == "someone_elses"
    assert decision.claim.owner_id == alice and "another artist" in decision.reason
    with db.session() as s:
        report = s.get(Report, decision.report_id)
        assert (report.source, report.target_kind, report.target_id) == ("system", "user", bob)
        assert "mine.jpg" in report.reason and str(alice) in report.reason
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "ownership.incident")).all()
        assert [(e.actor_id, e.target_id) for e in events] == [(bob, first.claimed[1])]
    # alice uploading her own work is fine; so is bob's own look-alike for bob
    assert check_upload(db, alice, fingerprint(own_images[2], candidate=True), registry=registry).allowed
    assert check_upload(db, bob, fingerprint(lookalike_images[101], candidate=True), registry=registry).allowed

    # carol protects a file she never posted; alice lists one of her posts; bob cannot list alice's work
    protected = add_no_ai(db, carol, [item(own_images[3])], registry=registry)
    assert len(protected.added) == 1
    listed = add_no_ai(db, alice, [item(jpeg_roundtrip(own_images[2]))], registry=registry)
    assert listed.marked == [first.claimed[1]] and not listed.added
    refused = add_no_ai(db, bob, [item(own_images[1])], registry=registry)
    assert refused.refused and not refused.added
    no_ai = check_upload(db, bob, fingerprint(jpeg_roundtrip(own_images[3]), candidate=True), registry=registry)
    assert not no_ai.allowed and no_ai.incident == "no_ai" and "No AI" in no_ai.reason
    own_listed = check_upload(db, alice, fingerprint(own_images[2], candidate=True), registry=registry)
    assert not own_listed.allowed and own_listed.incident == "none" and own_listed.report_id is None

    # a second process's registry sees everything from the table; a fresh one agrees
    fresh = Registry(db)
    assert len(fresh) == 0 and fresh.find_claims(fingerprint(own_images[1]))[0].owner_id == alice
    assert len(fresh) == 4  # alice 2, bob 1, carol 1
    with db.session() as s:
        assert len(s.exec(select(Artwork)).all()) == 4


async def test_registry_on_sqlite(ctx, own_images, lookalike_images):
    scenario(ctx.db, own_images, lookalike_images)


def test_registry_on_postgresql(pg_url, own_images, lookalike_images):
    db = Database(pg_url)
    SQLModel.metadata.create_all(db.engine)
    try:
        scenario(db, own_images, lookalike_images)
    finally:
        db.dispose()


async def test_index_catches_up_with_rows_written_elsewhere(ctx, own_images):
    (dave,) = make_users(ctx.db, "dave")
    registry = Registry(ctx.db)
    assert registry.find_claims(fingerprint(own_images[4])) == []
    fp = fingerprint(own_images[4])
    with ctx.db.session() as s:  # another process indexes a post
        s.add(Artwork(owner_id=dave, source_url="https://m.social/@dave/1", phash=fp.phash, pdq=fp.pdq_hex))
        s.commit()
    claims = registry.find_claims(fingerprint(jpeg_roundtrip(own_images[4])))
    assert [c.owner_id for c in claims] == [dave]
    with ctx.db.session() as s:
        for row in s.exec(select(Artwork)).all():
            s.delete(row)
        s.commit()
    registry.reload()
    assert registry.find_claims(fp) == [] and len(registry) == 0


async def test_a_row_committed_after_a_newer_one_is_still_indexed(ctx, own_images):
    """Two processes claim at once: the row with the lower id commits second. It must not stay invisible."""
    (erin,) = make_users(ctx.db, "erin")
    registry = Registry(ctx.db)
    early, late = fingerprint(own_images[5]), fingerprint(own_images[3])
    with ctx.db.session() as s:
        s.add(Artwork(id=20, owner_id=erin, source_url="https://m.social/@erin/20", phash=early.phash,
                      pdq=early.pdq_hex))
        s.commit()
    assert [c.artwork_id for c in registry.find_claims(early)] == [20]  # the index is now past id 20
    with ctx.db.session() as s:  # the slower transaction's row, id 19, commits only now
        s.add(Artwork(id=19, owner_id=erin, source_url="https://m.social/@erin/19", phash=late.phash,
                      pdq=late.pdq_hex))
        s.commit()
    assert [c.artwork_id for c in registry.find_claims(late)] == [19]
    assert len(registry) == 2
    assert [c.artwork_id for c in registry.find_claims(late)] == [19] and len(registry) == 2  # loaded once
