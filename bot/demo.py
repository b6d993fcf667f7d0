"""`mimic demo`: the whole product offline, on embedded defaults, in a few minutes on a laptop CPU.

A sample artist's account is simulated (no network): their procedurally drawn posts are indexed, uploads go
through the ownership gate (another artist's picture and a broken file are refused), a LoRA is trained on a tiny
random-weight model, a fan generates and remakes, results are watermarked and traced, and the artist revokes."""
from __future__ import annotations

import asyncio
import io
import secrets
import shutil
import time
from functools import partial
from pathlib import Path

import redis.asyncio as aioredis
from PIL import Image

from bot.console import Progress
from bot.core import Actor, Core, Refusal
from bot.core.accounts import VerificationResult, index_portfolio
from bot.core.generations import get_generation, request_generation, trace
from bot.core.makers import Upload, create_maker, revoke_maker
from bot.core.moderation import file_report
from data.context import AppContext
from data.events import GenerationDone, GenerationFailed, TrainingProgress
from data.models import SocialAccount, utcnow
from data.settings import Settings
from engine.tiny import build_tiny_pipeline
from engine.worker import build_worker
from verification.accounts import PortfolioItem
from verification.synthetic import draw_illustration


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


async def _artist(core: Core, name: str, handle: str, seeds: range, style: str) -> tuple[int, list[Image.Image]]:
    """A user with a linked account whose posted pictures are indexed (the link itself is simulated offline)."""
    user = await core.local_user(name)
    account = SocialAccount(user_id=user.id, platform="bluesky", account_id=f"did:plc:demo{name}", handle=handle,
                            profile_url=f"https://bsky.app/profile/{handle}", verified_at=utcnow())

    def save(s):
        s.add(account)
        s.commit()
        s.refresh(account)
        return account
    account = await core.db(save)
    posts = [draw_illustration(seed, (512, 512), style=style) for seed in seeds]
    items = [PortfolioItem(post_url=f"https://bsky.app/profile/{handle}/post/{i}", posted_at=utcnow(),
                           media_url=f"https://cdn.example/{handle}/{i}.png", image_bytes=_png(img))
             for i, img in enumerate(posts)]
    await index_portfolio(core, user.id, account, items, VerificationResult(account, "bio"))
    return user.id, posts


async def _drain(settings: Settings, app: AppContext, bar: Progress | None = None) -> None:
    """Run an in-process worker until the queue is empty; `bar` follows the work through the workers' events."""
    worker = build_worker(settings, app=app, burst=True, handle_signals=False)
    if bar is None:
        await worker.main()
        return
    subscribed = asyncio.Event()
    follower = asyncio.create_task(_follow(app, bar, subscribed))
    await subscribed.wait()
    try:
        await worker.main()
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        bar.close()


async def _follow(app: AppContext, bar: Progress, subscribed: asyncio.Event) -> None:
    """Training steps (summed over the jobs) or finished generations, as the workers publish them."""
    steps: dict[int, int] = {}
    async for event in app.events.events(subscribed):
        if isinstance(event, TrainingProgress):
            steps[event.id] = event.step
            bar.update(sum(steps.values()))
        elif isinstance(event, (GenerationDone, GenerationFailed)):
            bar.advance()


async def run_demo(settings: Settings, out: Path, *, steps: int | None = None, verbose: bool = False) -> int:
    """One line per step on stdout; bars on a terminal's stderr unless `verbose` (then the logs speak)."""
    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = settings.base_model or str(build_tiny_pipeline(settings.var_dir / "models" / "tiny-sd"))
    shutil.rmtree(settings.demo_var_dir, ignore_errors=True)
    world = settings.for_demo()  # what `mimic web --demo`, `mimic trace --demo`, `mimic admin --demo` read
    settings = world.model_copy(update=dict(
        redis_prefix=f"{world.redis_prefix}-{secrets.token_hex(4)}", base_model=base, train_steps=steps or 30,
        checkpoint_every=10, redis_url=settings.redis_url, job_lease_s=10,
        cpu_threads=settings.cpu_threads or 1))  # the tiny model runs fastest, and steadily, on one thread
    started_redis = False
    if settings.uses_embedded_redis:  # share the embedded server under the main var dir
        from data.redis import ping_socket, ensure_embedded_redis

        main_var = settings.var_dir.parent
        started_redis = not ping_socket((main_var / "redis.sock").resolve())
        settings = settings.model_copy(update=dict(redis_url=ensure_embedded_redis(main_var)))
    app = AppContext.create(settings)
    app.db.upgrade()
    core = Core.create(app, providers={})
    say = partial(print, flush=True)

    def bar(label: str, total: int) -> Progress | None:
        return None if verbose else Progress(label, total)
    try:
        say(f"mimic demo — offline, base model {base}")
        aoi_id, aoi_posts = await _artist(core, "aoi", "aoi.example", range(1, 13), "flat")
        kuro_id, kuro_posts = await _artist(core, "kuro", "kuro.example", range(101, 109), "flat")
        say(f"  1. artists aoi and kuro linked their accounts; {len(aoi_posts)} + {len(kuro_posts)} posted "
            "pictures indexed and claimed")
        aoi = Actor(user_id=aoi_id)

        def crop(img: Image.Image, keep: float) -> Image.Image:
            w, h = img.size
            side = int(w * keep ** 0.5)
            return img.crop(((w - side) // 2, (h - side) // 3, (w - side) // 2 + side, (h - side) // 3 + side))

        own = [Upload(f"aoi-{i}.jpg", _jpeg(img.resize((384, 384)))) for i, img in enumerate(aoi_posts[:6])]
        own.append(Upload("aoi-face-crop.png", _png(crop(aoi_posts[6], 0.4))))
        try:
            await create_maker(core, aoi, "aoi", [*own, Upload("borrowed.jpg", _jpeg(kuro_posts[0]))])
            say("  !! another artist's picture was accepted")
            return 1
        except Refusal as refusal:
            say(f"  2. upload refused: {refusal.key} — {refusal.params['details'][0]} (incident recorded)")
        created = await create_maker(core, aoi, "aoi", [*own, Upload("broken.png", b"\x89PNG\r\n\x1a\n broken")])
        say(f"  3. maker 'aoi' created from {len(created.accepted)} verified uploads; refused: "
            + "; ".join(f"{c.filename} ({c.reason})" for c in created.rejected))
        say(f"     e.g. {created.accepted[-1].filename}: {created.accepted[-1].reason}")
        kuro = Actor(user_id=kuro_id)
        kuro_made = await create_maker(core, kuro, "kuro", [Upload(f"kuro-{i}.png", _png(img.resize((320, 320))))
                                                            for i, img in enumerate(kuro_posts[1:7])])
        say(f"     and kuro made maker 'kuro' from {len(kuro_made.accepted)} of his own posts")

        t0 = time.monotonic()
        await _drain(settings, app, bar("     training", 2 * settings.train_steps))
        say(f"  4. LoRA trained on the tiny model: {settings.train_steps} steps in {time.monotonic() - t0:.1f} s"
            " (each of the two makers)")

        fan_id = (await core.local_user("hana")).id
        fan = Actor(user_id=fan_id)
        queued = await request_generation(core, fan, "aoi", "smiling, cherry blossoms", count=2, seed=7)
        remake = await request_generation(core, fan, "aoi", "as a summer scene", source_image=_jpeg(
            draw_illustration(999, (256, 256), style="flat")))
        night = await request_generation(core, fan, "kuro", "a quiet street at night", seed=3)
        await _drain(settings, app, bar("     generating", 3))
        written = []
        for gen_id in (queued.generation.id, remake.generation.id, night.generation.id):
            gen = await get_generation(core, gen_id)
            if gen.status != "done":
                say(f"  !! generation {gen_id} ended {gen.status}: {gen.error}")
                return 1
            for n, blob in enumerate(gen.image_blobs):
                path = out / f"{gen.kind}-{gen.id}-{n + 1}.png"
                path.write_bytes(await app.blobs.aget(blob))
                written.append(path)
        say(f"  5. fan hana generated {queued.generation.count} images and 1 remake with 'aoi', 1 image with "
            "'kuro': " + ", ".join(str(p) for p in written))
        first = await get_generation(core, queued.generation.id)
        copy = _jpeg(Image.open(io.BytesIO(await app.blobs.aget(first.image_blobs[0]))), quality=75)
        (out / "found-elsewhere.jpg").write_bytes(copy)
        found = await trace(core, copy)
        traced = (f"generation {found.generation.id} by maker '{found.maker.name}', requested by user "
                  f"{found.generation.requester_id}" if found.generation else "nothing")
        say(f"  6. /trace on a re-encoded JPEG copy (metadata stripped): trace id {found.trace_id} → {traced}")
        picture = Image.open(io.BytesIO(await app.blobs.aget(first.image_blobs[1])))
        cropped = _jpeg(picture.crop((8, 8, picture.width * 6 // 7, picture.height * 8 // 9)), quality=75)
        (out / "cropped-elsewhere.jpg").write_bytes(cropped)  # the credit cut off: the invisible mark goes with it
        by_content = await trace(core, cropped)
        say(f"     and on a copy with the credit cropped off: found by its {by_content.source or 'nothing'} → "
            + (f"generation {by_content.generation.id}" if by_content.generation else "nothing"))
        report = await file_report(core, None, "generation", night.generation.id,
                                   "looks like a street I photographed", source="web")
        say(f"  7. a visitor reported generation {night.generation.id} from the gallery (report {report.id}, "
            "open for the moderators)")
        await revoke_maker(core, aoi, "aoi")
        try:
            await request_generation(core, fan, "aoi", "one more")
            say("  !! a revoked maker still generated")
            return 1
        except Refusal as refusal:
            say(f"  8. aoi revoked the maker; the next request is refused ({refusal.key}); the LoRA is deleted "
                "and its page and pictures become a tombstone")
        say(f"done in {time.monotonic() - started:.1f} s; images in {out}/")
        say(f"the demo's world is kept in {world.var_dir}/ (2 makers, one a tombstone; 3 generations; a report).")
        say(f"browse it: mimic web --demo    then open http://{_browsable(world.web_host)}:{world.web_port}/")
        return 0 if found.generation and found.generation.id == first.id and by_content.generation \
            and by_content.generation.id == first.id else 1
    finally:
        await _forget_queue(app.redis_url, settings.redis_prefix)
        await core.aclose()
        await app.aclose()
        if started_redis:  # leave no server behind that the demo started
            from data.redis import stop_embedded_redis

            stop_embedded_redis(settings.var_dir.parent)


def _browsable(host: str) -> str:
    """The address a browser on this machine uses for the gallery's bind address."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else (f"[{host}]" if ":" in host else host)


async def _forget_queue(url: str, prefix: str) -> None:
    """The next run starts a new database (job ids are row ids), so this run's queue keys go now."""
    client = aioredis.Redis.from_url(url)
    for pattern in (f"{prefix}*", f"arq:*{prefix}*"):
        async for key in client.scan_iter(match=pattern):
            await client.delete(key)
    await client.aclose()
