"""`mimic disputes list|decide` for moderators at a terminal, and `mimic db prune-orphans`, as subprocesses against
a migrated SQLite database and the real Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

from data.blobs import FolderBlobStore
from data.db import Database
from data.models import Artwork, Dispute, Maker, MakerImage, User


def mimic(env, *args) -> tuple[int, object]:
    result = subprocess.run([sys.executable, "-m", "bot.cli", *args, "--json"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def test_disputes_and_orphans_at_a_terminal(tmp_path, redis_url):
    url = f"sqlite:///{tmp_path / 'mimic.db'}"
    db = Database(url)
    db.upgrade()
    blobs = FolderBlobStore(tmp_path / "var" / "blobs")
    held, claimed = blobs.put(b"the holder's posted image"), blobs.put(b"the claimant's posted image")
    with db.session() as s:
        holder, claimant = User(display_name="thief"), User(display_name="aoi")
        s.add_all([holder, claimant])
        s.flush()
        work = Artwork(owner_id=holder.id, source_url="https://bsky.app/profile/thief/post/1", blob=held)
        s.add(work)
        s.flush()
        maker = Maker(owner_id=holder.id, name="stolen", status="ready", lora_blob=blobs.put(b"lora"))
        s.add(maker)
        s.flush()
        s.add(MakerImage(maker_id=maker.id, artwork_id=work.id, blob=held))
        s.add(Dispute(artwork_id=work.id, holder_id=holder.id, claimant_id=claimant.id, status="open",
                      origin="unclear_dates", holder_post_url=work.source_url, holder_blob=held,
                      holder_posted_at=datetime(2025, 6, 1, 9, tzinfo=timezone.utc),
                      claimant_post_url="https://bsky.app/profile/aoi/post/1", claimant_blob=claimed,
                      claimant_posted_at=datetime(2025, 6, 1, 11, tzinfo=timezone.utc)))
        s.commit()
        maker_id, claimant_id = maker.id, claimant.id
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"), "REDIS_URL": redis_url,
           "REDIS_PREFIX": f"mimic-test-{uuid.uuid4().hex[:8]}"}

    _, listed = mimic(env, "disputes", "list")
    assert [(d["holder"]["post"], d["claimant"]["post"]) for d in listed] == [
        ("https://bsky.app/profile/thief/post/1", "https://bsky.app/profile/aoi/post/1")]
    assert listed[0]["claimant"]["posted_at"].startswith("2025-06-01T11:00")
    _, decided = mimic(env, "disputes", "decide", str(listed[0]["id"]), "move", "--note", "older sketches")
    assert decided["status"] == "moved" and decided["suspended"] == ["stolen"]
    assert {n["user_id"] for n in decided["notices"]} == {claimant_id, listed[0]["holder"]["user_id"]}
    with db.session() as s:
        assert s.get(Maker, maker_id).status == "suspended"
        assert s.exec(Artwork.__table__.select()).one().owner_id == claimant_id

    orphan = blobs.put(b"a refused upload an older version kept")
    old = time.time() - 7200
    for path in blobs.files():
        os.utime(path, (old, old))
    _, found = mimic(env, "db", "prune-orphans")
    assert found["orphans"] == [orphan] and found["deleted"] is False and blobs.exists(orphan)
    _, pruned = mimic(env, "db", "prune-orphans", "--delete")
    assert pruned["orphans"] == [orphan] and not blobs.exists(orphan)
    assert blobs.exists(held) and blobs.exists(claimed)  # both sides' evidence stays
    db.dispose()
