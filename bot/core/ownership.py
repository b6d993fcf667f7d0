"""The ownership gate as the use cases see it: every upload must be an image the uploader posted, and must not
be anyone else's claimed or protected work."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlmodel import select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.i18n import Text
from data.models import Artwork
from verification.hashing import Fingerprint, fingerprint
from verification.imaging import ImageRejected, load_image, too_large
from verification.matching import Portfolio, PortfolioEntry, match
from verification.registry import check_upload
from verification.storage import fingerprint_from_bytes, fingerprint_to_bytes


@dataclass
class ImageCheck:
    filename: str
    ok: bool
    reason: str  # in English: kept with the maker's images, for moderators and logs
    blob: str = ""
    artwork_id: int | None = None
    someone_elses: bool = False  # matched another artist's claimed or protected work: an incident
    message: Text | None = None  # the same reason for the uploader, who reads it in their own language

    @property
    def line(self) -> Text:
        """"file: why", one line of a list shown to the uploader."""
        return Text("upload.line", filename=self.filename, reason=self.message or self.reason)


def image_reason(exc: ImageRejected) -> Text:
    return Text(exc.key, **exc.params)


def _decode(core: Core, data: bytes, *, candidate: bool) -> Fingerprint:
    image = load_image(data, max_pixels=core.settings.max_image_pixels, max_bytes=core.settings.max_upload_bytes)
    return fingerprint(image, candidate=candidate)


async def fingerprint_bytes(core: Core, data: bytes, *, candidate: bool = False) -> tuple[str, Fingerprint, str]:
    """Check and hash an image off the event loop; returns (image blob, fingerprint, fingerprint blob)."""
    try:
        fp = await asyncio.to_thread(_decode, core, data, candidate=candidate)
    except ImageRejected as exc:
        raise Refusal("image.rejected", reason=image_reason(exc)) from None
    fp_blob = await core.app.blobs.aput(await asyncio.to_thread(fingerprint_to_bytes, fp))
    return await core.app.blobs.aput(data), fp, fp_blob


async def _registry_check(core: Core, actor: Actor, fp: Fingerprint, filename: str, purpose: str):
    """Another artist's claimed work, or anything on the No AI learning list, is refused (and recorded)."""
    return await asyncio.to_thread(check_upload, core.app.db, actor.user_id, fp, registry=core.registry,
                                   filename=filename, purpose=purpose)


async def _own_portfolio(core: Core, user_id: int) -> Portfolio:
    rows = await core.db(lambda s: list(s.exec(select(Artwork).where(Artwork.owner_id == user_id,
                                                                      Artwork.fingerprint_blob != ""))))

    def build() -> Portfolio:
        return Portfolio([PortfolioEntry(id=str(row.id),
                                         fingerprint=fingerprint_from_bytes(core.app.blobs.get(row.fingerprint_blob)),
                                         source_url=row.source_url, posted_at=row.posted_at) for row in rows])
    return await asyncio.to_thread(build)


async def check_uploads(core: Core, actor: Actor, uploads, *, from_posts: bool = False,
                        limit: int = 30) -> list[ImageCheck]:
    """One verdict per upload, then (with `from_posts`) per recent post not uploaded already, `limit` accepted at
    most; nothing here writes a maker. The same work twice is used once."""
    checks = await _check_files(core, actor, uploads) if uploads else []
    seen: set[int] = set()
    for check in checks:
        if check.ok and check.artwork_id in seen:
            check.ok, check.reason, check.message = False, "the same work is already among these images", Text(
                "match.duplicate")
        elif check.ok:
            seen.add(check.artwork_id)
    if from_posts:
        room = limit - len(seen)
        posts = [p for p in await _from_posts(core, actor, limit=limit) if p.artwork_id not in seen]
        checks += posts[:max(room, 0)]
    return checks


async def _check_files(core: Core, actor: Actor, uploads) -> list[ImageCheck]:
    portfolio = await _own_portfolio(core, actor.user_id)
    checks: list[ImageCheck] = []
    for upload in uploads:
        with core.app.metrics.timed_verification() as seen:
            check = await _check_upload(core, actor, upload, portfolio)
            seen["result"] = "accepted" if check.ok else "rejected"
        checks.append(check)
    return checks


async def _check_upload(core: Core, actor: Actor, upload, portfolio: Portfolio) -> ImageCheck:
    """One upload's verdict: size, decodable image, the global registry, then the uploader's own posts."""
    if upload.problem is not None:  # the adapter could not even fetch it (too big, not an image, gone)
        return ImageCheck(upload.filename, False, str(upload.problem), message=upload.problem)
    if len(upload.data) > core.settings.max_upload_bytes:
        big = too_large(len(upload.data), core.settings.max_upload_bytes)
        return ImageCheck(upload.filename, False, big.reason, message=image_reason(big))
    try:
        blob, fp, _ = await fingerprint_bytes(core, upload.data, candidate=True)
    except Refusal as exc:
        why = exc.params.get("reason", Text(exc.key))
        return ImageCheck(upload.filename, False, str(why), message=why)
    decision = await _registry_check(core, actor, fp, upload.filename, "maker upload")
    if not decision.allowed:
        return ImageCheck(upload.filename, False, decision.reason, someone_elses=decision.incident in ("someone_elses", "no_ai"),
                          message=Text(decision.key))
    verdict = await asyncio.to_thread(match, fp, portfolio) if len(portfolio) else None
    if verdict is None:
        return ImageCheck(upload.filename, False, "no posted images are indexed for your account yet",
                          message=Text("match.no_index"))
    why = Text(verdict.key, **verdict.params)
    if verdict.verdict != "match":
        return ImageCheck(upload.filename, False, verdict.reason, message=why)
    return ImageCheck(upload.filename, True, verdict.reason, blob=blob, artwork_id=int(verdict.matched),
                      message=why)


async def _from_posts(core: Core, actor: Actor, limit: int = 10) -> list[ImageCheck]:
    rows = await core.db(lambda s: list(s.exec(
        select(Artwork).where(Artwork.owner_id == actor.user_id, Artwork.no_ai.is_(False), Artwork.blob != "")
        .order_by(Artwork.posted_at.desc(), Artwork.id.desc()).limit(limit))))
    return [ImageCheck(row.source_url or f"artwork {row.id}", True, f"posted in {row.source_url}", blob=row.blob,
                       artwork_id=row.id, message=Text("match.posted", post=row.source_url)) for row in rows]


async def check_remake_source(core: Core, actor: Actor, data: bytes) -> None:
    """A remake input may not be another artist's registered work nor anything on the No AI learning list."""
    _, fp, _ = await fingerprint_bytes(core, data)
    decision = await _registry_check(core, actor, fp, "remake input", "remake")
    if not decision.allowed:
        raise Refusal("remake.protected" if decision.claim and decision.claim.no_ai else "remake.others_art")
