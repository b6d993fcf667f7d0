"""Test data for the gallery: artists with verified accounts, makers in every public state, generations, a report.

`seed_gallery` writes rows and blobs directly (this is test data, not a use case under test); the pictures are
procedural illustrations, and one generation carries a real invisible trace id so the trace form can find it."""
from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone

from PIL import Image
from sqlmodel import SQLModel

from data.context import AppContext
from data.models import (Generation, GuildSettings, Maker, MakerImage, Report, SocialAccount, User)
from data.settings import Settings

# the gallery keeps its rate limits and CSRF secret there, and works on (per process) without it
REDIS_URL = os.environ.get("MIMIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FILLER_GENERATIONS = 26  # more than a page (24) of the generations list
TRACE_ID = 0x5A_1234_5678  # 40 bits, like the ones the use case draws


@dataclass
class Seeded:
    now: datetime
    users: dict[str, int] = field(default_factory=dict)
    makers: dict[str, int] = field(default_factory=dict)
    gens: dict[str, int] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)
    traced_png: bytes = b""  # a copy of the traced generation's image, as someone might find it elsewhere


def _png(img) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=None)  # pure: drawn once per test session
def _picture(seed: int, side: int = 160, style: str = "flat") -> bytes:
    from verification.synthetic import draw_illustration

    return _png(draw_illustration(seed, (side, side), style))


@lru_cache(maxsize=None)
def _watermarked(seed: int, trace_id: int) -> bytes:
    from verification.synthetic import draw_illustration

    from engine.invisible_mark import embed_trace_id

    return _png(embed_trace_id(draw_illustration(seed, (256, 256), "pastel"), trace_id))


def seed_gallery(app: AppContext, now: datetime | None = None) -> Seeded:
    now = now or datetime.now(timezone.utc)
    seeded = Seeded(now=now)
    put = app.blobs.put
    with app.db.session() as s:
        def user(key: str, name: str) -> User:
            row = User(display_name=name, discord_id=abs(hash(key)) % 10**12, created_at=now - timedelta(days=30))
            s.add(row)
            s.flush()
            seeded.users[key] = row.id
            return row

        aoi, ren, kai, fan, shy = (user("aoi", "Aoi Sato"), user("ren", "Ren"), user("kai", "Kai"),
                                   user("fan", "A fan"), user("shy", "Unverified Person"))
        s.add(SocialAccount(user_id=aoi.id, platform="x", account_id="1001", handle="aoi_draws",
                            profile_url="https://x.com/aoi_draws", verified_at=now - timedelta(days=20)))
        s.add(SocialAccount(user_id=ren.id, platform="bluesky", account_id="did:plc:ren", handle="ren.bsky.social",
                            verified_at=now - timedelta(days=19)))
        s.add(SocialAccount(user_id=kai.id, platform="mastodon", account_id="77", handle="kai@example.social",
                            verified_at=now - timedelta(days=18)))
        s.add(SocialAccount(user_id=shy.id, platform="x", account_id="2002", handle="not_proven"))  # no proof
        s.add(GuildSettings(guild_id=555, publish_training_images=False))

        def maker(key: str, owner: User, status: str, usage: str, *, visibility: str = "public", age_days: int,
                  training: int = 0, guild_id: int | None = None, style: str = "flat") -> Maker:
            sample = put(_picture(100 + len(seeded.makers), style=style))
            row = Maker(owner_id=owner.id, name=key, status=status, usage=usage, visibility=visibility,
                        trigger=f"mimic_{key.replace('-', '_')}", sample_blob=sample, guild_id=guild_id,
                        lora_blob=put(f"lora weights of {key}".encode()),
                        created_at=now - timedelta(days=age_days),
                        revoked_at=now - timedelta(days=1) if status == "revoked" else None)
            s.add(row)
            s.flush()
            seeded.makers[key] = row.id
            seeded.blobs[f"{key}.sample"] = sample
            seeded.blobs[f"{key}.lora"] = row.lora_blob
            for i in range(training):
                blob = put(_picture(1000 + row.id * 10 + i, style=style))
                s.add(MakerImage(maker_id=row.id, blob=blob, verdict_reason="posted on the artist's account"))
                seeded.blobs[f"{key}.train{i}"] = blob
            return row

        aoi_style = maker("aoi-style", aoi, "ready", "commercial", age_days=10, training=3)
        ren_pastel = maker("ren-pastel", ren, "ready", "personal", age_days=9, training=2, style="pastel")
        maker("ren-closed", ren, "ready", "not_allowed", age_days=8, training=2, guild_id=555)
        wip = maker("aoi-wip", aoi, "training", "personal", age_days=1, training=1)
        tiff = io.BytesIO()  # stored as uploaded, in a format browsers do not show
        Image.open(io.BytesIO(_picture(77))).save(tiff, "TIFF")
        seeded.blobs["aoi-wip.tiff"] = put(tiff.getvalue())
        s.add(MakerImage(maker_id=wip.id, blob=seeded.blobs["aoi-wip.tiff"], verdict_reason="posted"))
        kai_old = maker("kai-old", kai, "revoked", "commercial", age_days=12, training=2, style="dark")
        maker("kai-banned", kai, "taken_down", "personal", age_days=11, training=1, style="dark")
        hidden = maker("ren-hidden", ren, "ready", "personal", visibility="private", age_days=7, training=1)
        maker("aoi-draft", aoi, "pending_review", "personal", age_days=2, training=1)

        def generation(key: str, mk: Maker, *, kind: str = "txt2img", status: str = "done", minutes_ago: int,
                       prompt: str = "", image: bytes | None = None, taken_down: bool = False,
                       lock_hours: float = 48, trace_id: int | None = None) -> Generation:
            created = now - timedelta(minutes=minutes_ago)
            blobs = [put(image if image is not None else _picture(5000 + len(seeded.gens), style="pastel"))]
            if taken_down:
                seeded.blobs[f"{key}.withdrawn"] = blobs[0]
                blobs = []
            elif status != "done":
                blobs = []
            row = Generation(requester_id=fan.id, maker_id=mk.id, kind=kind, prompt=prompt or f"{key} prompt",
                             status=status, image_blobs=blobs, trace_id=trace_id or 10_000 + len(seeded.gens),
                             seed=len(seeded.gens), taken_down=taken_down, created_at=created,
                             finished_at=created + timedelta(seconds=20),
                             undeletable_until=created + timedelta(hours=lock_hours),
                             source_blob=put(_picture(9000 + len(seeded.gens))) if kind == "remake" else "")
            s.add(row)
            s.flush()
            seeded.gens[key] = row.id
            if blobs:
                seeded.blobs[f"{key}.image"] = blobs[0]
            if row.source_blob:
                seeded.blobs[f"{key}.source"] = row.source_blob
            return row

        for i in range(FILLER_GENERATIONS):
            generation(f"filler{i}", ren_pastel, minutes_ago=600 + i, prompt=f"a quiet street, variation {i}")
        seeded.traced_png = _watermarked(7, TRACE_ID)
        generation("traced", aoi_style, minutes_ago=30, prompt="a girl with a red umbrella in the rain",
                   image=seeded.traced_png, trace_id=TRACE_ID)
        generation("old", aoi_style, minutes_ago=60 * 72, prompt="an old picture, lock expired")
        generation("down", aoi_style, minutes_ago=40, prompt="something that was taken down", taken_down=True)
        generation("remake", aoi_style, kind="remake", minutes_ago=20, prompt="remake of my cat drawing")
        generation("remake2", ren_pastel, kind="remake", minutes_ago=25, prompt="remake in pastel")
        generation("queued", aoi_style, status="queued", minutes_ago=1, prompt="still cooking")
        generation("of-revoked", kai_old, minutes_ago=50, prompt="made before the artist revoked")
        generation("of-private", hidden, minutes_ago=45, prompt="private maker output")
        s.add(Report(reporter_id=fan.id, target_kind="generation", target_id=seeded.gens["old"],
                     reason="already reported from Discord", source="discord", created_at=now - timedelta(hours=1)))
        s.commit()
    return seeded


def gallery_settings(tmp_dir, **overrides) -> Settings:
    values = dict(var_dir=tmp_dir / "var", database_url=f"sqlite:///{tmp_dir / 'gallery.db'}", redis_url=REDIS_URL,
                  redis_prefix=f"mimic-web-{uuid.uuid4().hex[:8]}")
    return Settings(_env_file=None, **{**values, **overrides})


def gallery_context(settings: Settings) -> AppContext:
    app = AppContext.create(settings, check=False)  # the gallery can do without Redis
    SQLModel.metadata.create_all(app.db.engine)
    return app
