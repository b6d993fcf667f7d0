"""Generation and remake requests, deletion under the 48-hour lock, and trace look-ups."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal, is_row_id
from bot.core.gallery import GONE, aware, generation_url
from bot.core.makers import maker_named
from data.credit import Credit, public_credit
from data.models import (Generation, GenerationKind, GuildSettings, JobStatus, Maker, MakerStatus, UsageScope,
                         User, Visibility)
from engine.queue import generation_job_id

MAX_PROMPT = 500
MAX_COUNT = 4
TRACE_BITS = 40  # what the invisible watermark carries


@dataclass
class GenerationQueued:
    generation: Generation
    position: int


@dataclass
class ResultCard:
    """A finished result as every adapter shows it: the row, its maker, who to credit and who asked."""

    generation: Generation
    maker: Maker
    credit: str  # the artist's public credit (data.credit), e.g. "@aoi_draws"
    requester: User | None
    credit_url: str | None = None  # the verified account's page, when there is one


def unposted_result(s: Session, generation_id: int) -> ResultCard | None:
    """The card of a finished, visible generation that has not been posted yet; None otherwise."""
    gen = s.get(Generation, generation_id)
    if gen is None or gen.status != JobStatus.done.value or gen.taken_down or gen.message_id:
        return None
    maker = s.get(Maker, gen.maker_id)
    if maker is None or maker.status in GONE:  # withdrawn or suspended: its results are tombstones, never posted
        return None
    credit = public_credit(s, maker.owner_id)
    return ResultCard(gen, maker, credit.name, s.get(User, gen.requester_id), credit.profile_url)


def new_trace_id() -> int:
    return secrets.randbits(TRACE_BITS) or 1


def _daily_limit(core: Core, s: Session, maker: Maker, guild_id: int | None) -> int:
    if maker.daily_limit:
        return maker.daily_limit
    guild = s.get(GuildSettings, guild_id) if guild_id else None
    if guild and guild.daily_generations_per_fan:
        return guild.daily_generations_per_fan
    return core.settings.daily_generations_per_fan


async def request_generation(core: Core, actor: Actor, maker_name: str, prompt: str, *, count: int = 1,
                             seed: int | None = None, source_image: bytes | None = None,
                             negative_prompt: str = "") -> GenerationQueued:
    prompt = " ".join(prompt.split())
    if len(prompt) > MAX_PROMPT:
        raise Refusal("generate.prompt_too_long", limit=MAX_PROMPT)
    if not 1 <= count <= MAX_COUNT:
        raise Refusal("generate.bad_count", limit=MAX_COUNT)
    if seed is not None and not 0 <= seed < 2**32:
        raise Refusal("generate.bad_seed")
    source_blob = ""
    if source_image is not None:
        source_blob = await _accept_remake_source(core, actor, source_image)

    def create(s: Session) -> Generation:
        user = s.get(User, actor.user_id)
        if user is None or user.banned:
            raise Refusal("user.banned")
        maker = maker_named(s, maker_name)
        is_owner = maker.owner_id == actor.user_id
        if maker.status in (MakerStatus.revoked.value, MakerStatus.taken_down.value):
            raise Refusal("generate.maker_revoked", name=maker.name)
        if maker.status == MakerStatus.suspended.value:
            raise Refusal("generate.maker_suspended", name=maker.name)
        if maker.status != MakerStatus.ready.value:
            raise Refusal("generate.maker_not_ready", name=maker.name, status=maker.status)
        if not is_owner and maker.usage == UsageScope.not_allowed.value:
            raise Refusal("generate.usage_not_allowed", name=maker.name)
        if not is_owner and maker.visibility == Visibility.private.value:
            raise Refusal("maker.not_found", name=maker_name)
        since = core.clock() - timedelta(days=1)
        used = s.exec(select(func.coalesce(func.sum(Generation.count), 0)).where(
            Generation.requester_id == actor.user_id, Generation.created_at >= since,
            Generation.status != JobStatus.cancelled.value)).one()
        limit = _daily_limit(core, s, maker, actor.guild_id)
        if not is_owner and used + count > limit:
            raise Refusal("generate.quota", limit=limit, used=used)
        gen = Generation(requester_id=actor.user_id, maker_id=maker.id, prompt=prompt,
                         negative_prompt=negative_prompt[:MAX_PROMPT], count=count,
                         seed=seed if seed is not None else secrets.randbits(32),
                         kind=(GenerationKind.remake if source_blob else GenerationKind.txt2img).value,
                         source_blob=source_blob, trace_id=new_trace_id(), guild_id=actor.guild_id,
                         channel_id=actor.channel_id, created_at=core.clock())
        s.add(gen)
        core.audit(s, actor, "generation.request", "maker", maker.id, kind=gen.kind, count=count)
        s.commit()
        s.refresh(gen)
        return gen
    gen = await core.db(create)
    position = await core.queue.enqueue_generation(gen.id)
    return GenerationQueued(generation=gen, position=position)


async def _accept_remake_source(core: Core, actor: Actor, data: bytes) -> str:
    """A remake input must be a usable image and must not be anyone's protected or claimed work."""
    from bot.core.ownership import check_remake_source

    await check_remake_source(core, actor, data)
    return await core.app.blobs.aput(data)


async def get_generation(core: Core, generation_id: int) -> Generation:
    if not is_row_id(generation_id):
        raise Refusal("generation.not_found", id=generation_id)
    gen = await core.db(lambda s: s.get(Generation, generation_id))
    if gen is None:
        raise Refusal("generation.not_found", id=generation_id)
    return gen


@dataclass(frozen=True)
class RepeatRequest:
    """A finished request, ready to be asked again (reroll, variations)."""

    maker_name: str
    prompt: str
    count: int
    seed: int
    source_image: bytes | None  # a remake's input, when the blob store still has it


async def repeat_request(core: Core, generation_id: int) -> RepeatRequest:
    gen = await get_generation(core, generation_id)
    maker = await core.db(lambda s: s.get(Maker, gen.maker_id))
    if maker is None:
        raise Refusal("generation.not_found", id=generation_id)
    found = await core.app.blobs.aget_present([gen.source_blob]) if gen.source_blob else []
    return RepeatRequest(maker.name, gen.prompt, gen.count, gen.seed, found[0] if found else None)


async def generation_for_message(core: Core, message_id: int) -> int | None:
    """The generation a gallery message shows, if it is one of ours."""
    return await core.db(lambda s: s.exec(select(Generation.id).where(Generation.message_id == message_id)).first())


async def delete_generation(core: Core, actor: Actor, generation_id: int) -> Generation:
    """Requesters may delete their results only after the lock; moderators take down at any time."""
    def delete(s: Session) -> tuple[Generation, list[str], bool]:
        gen = s.get(Generation, generation_id)
        if gen is None:
            raise Refusal("generation.not_found", id=generation_id)
        if not actor.is_moderator:
            if gen.requester_id != actor.user_id:
                raise Refusal("generation.not_yours")
            until = gen.undeletable_until
            if until is not None and aware(until) > core.clock():
                raise Refusal("generation.locked", until=aware(until).isoformat(timespec="minutes"))
        blobs, gen.image_blobs, gen.taken_down = list(gen.image_blobs), [], True
        unfinished = gen.status in (JobStatus.queued.value, JobStatus.running.value)
        if unfinished:  # nothing to keep yet: the request is simply withdrawn
            gen.status = JobStatus.cancelled.value
        core.audit(s, actor, "generation.delete", "generation", gen.id, by_moderator=actor.is_moderator)
        s.add(gen)
        s.commit()
        s.refresh(gen)
        return gen, blobs, unfinished
    gen, blobs, unfinished = await core.db(delete)
    if unfinished:
        await core.queue.abort(generation_job_id(core.settings.redis_prefix, gen.id))
    for blob in blobs:
        await core.app.blobs.adelete(blob)
    return gen


@dataclass
class TraceFound:
    trace_id: int | None
    generation: Generation | None
    maker: Maker | None
    artist: User | None
    source: str | None = None  # what gave the id: "watermark", "c2pa", "xmp" or "content" (see bot/core/content_index.py)
    credit: Credit | None = None  # the artist's public credit (data.credit), as on the image


def trace_image(data: bytes, *, settings, db, content_index, max_bytes: int | None = None) -> TraceFound:
    """Whose generation is this copy? The invisible mark, then signed C2PA, then XMP, then the picture itself among
    every generated image (taken-down ones too): the credit can be cropped off, the picture cannot.

    The one trace use case: Discord /trace and the web form call it through `trace`, `mimic trace` directly (it
    blocks: decoding and matching). `db` and `content_index` may be None where an install has no database yet."""
    from bot.core.ownership import image_reason
    from bot.i18n import Text
    from bot.core.content_index import trace_copy
    from engine.trace import TraceError
    from verification.imaging import ImageRejected, load_image

    try:
        image = load_image(data, max_pixels=settings.max_image_pixels,  # decoded reduced: a 40 MP copy costs little
                           max_bytes=max_bytes or settings.max_upload_bytes, max_side=settings.image_decode_max_side)
    except ImageRejected as exc:
        raise Refusal("image.rejected", reason=image_reason(exc)) from None
    try:  # the original bytes, so metadata is read too; the decoded image for a look-up by content
        result = trace_copy(data, image, content_index, max_pixels=settings.max_image_pixels)
    except TraceError:  # rare once load_image passed; its English detail is not worth showing untranslated
        raise Refusal("image.rejected", reason=Text("image.untraceable")) from None
    if result.trace_id is None:
        return TraceFound(None, None, None, None)
    if db is None:
        return TraceFound(result.trace_id, None, None, None, result.source)
    with db.session() as s:
        gen = s.exec(select(Generation).where(Generation.trace_id == result.trace_id)).first()
        maker = s.get(Maker, gen.maker_id) if gen else None
        artist = s.get(User, maker.owner_id) if maker else None
        credit = public_credit(s, maker.owner_id) if maker else None
        return TraceFound(result.trace_id, gen, maker, artist, result.source, credit)


async def trace(core: Core, data: bytes) -> TraceFound:
    """`trace_image` off the event loop, with the process's shared content index."""
    from verification.imaging import decode_cost

    cost = decode_cost(data, max_side=core.settings.image_decode_max_side)
    return await core.app.image_work.run(trace_image, data, settings=core.settings, db=core.app.db, cost=cost,
                                         content_index=core.content_index)


def trace_summary(found: TraceFound, public_url: str) -> dict | None:
    """The generation a trace found, as `mimic trace --json` prints it (a documented contract: keys stay)."""
    gen, maker = found.generation, found.maker
    if gen is None:
        return None
    return {
        "id": gen.id, "kind": gen.kind, "status": gen.status, "prompt": gen.prompt, "seed": gen.seed,
        "maker": maker.name if maker else None, "usage": maker.usage if maker else None,
        "artist": found.credit.name if found.credit else None,
        "artist_profile": found.credit.profile_url if found.credit else None,
        "requester_id": gen.requester_id, "created_at": gen.created_at.isoformat(),
        "taken_down": gen.taken_down, "url": generation_url(public_url, gen.id),
    }
