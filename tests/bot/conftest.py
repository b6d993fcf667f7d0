"""The real mimic bot (discord.py) against the fake Discord, with the real Redis, a SQLite database and, for the
journeys that need them, the fake social servers and a real arq worker running the tiny model."""
from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from PIL import Image
from pydantic import SecretStr
from sqlmodel import SQLModel

from bot.core import Core
from bot.discord.client import build_bot
from data.context import AppContext
from data.models import Generation, JobStatus, Maker, MakerStatus, SocialAccount, User, utcnow
from tests.fakes.discord_server import FakeDiscord, running_bot
from tests.fakes.social import FakeSocial

logging.getLogger("discord").setLevel(logging.WARNING)


def png(seed: int, size: int = 64) -> bytes:
    """A small, distinctive image (different seeds look different to perceptual hashes)."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    pixels = image.load()
    block = size // 8
    for by in range(8):
        for bx in range(8):
            colour = tuple(rng.randrange(256) for _ in range(3))
            for y in range(by * block, (by + 1) * block):
                for x in range(bx * block, (bx + 1) * block):
                    pixels[x, y] = colour
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class World:
    discord: FakeDiscord
    social: FakeSocial
    app: AppContext
    core: Core
    bot: object
    worker_task: asyncio.Task | None = None
    extra: dict = field(default_factory=dict)

    async def run(self, command: str, options: dict | None = None, *, user: str = "fan", timeout: float = 10.0,
                  **kwargs):
        """Send a slash command and wait for the bot's visible answer; returns (handle, message)."""
        handle = await self.discord.inject_slash_command(command, options or {}, user=user, **kwargs)
        message = await handle.wait_response(timeout)
        return handle, message

    async def submit_form(self, command: str, options: dict | None, files: list, *, user: str = "fan",
                          checks: dict | None = None, timeout: float = 30.0, **kwargs):
        """Run a command that answers with the upload form, submit `files` (Upload) spread over its file fields
        (ten each) plus `checks` ({custom_id: bool}); returns (form, submit handle, the bot's answer)."""
        opened = await self.discord.inject_slash_command(command, options or {}, user=user, **kwargs)
        form = await opened.wait_modal()
        fields = [c["component"]["custom_id"] for c in form["components"]
                  if c.get("type") == 18 and c["component"]["type"] == 19]
        values: dict = {custom_id: files[i * 10:(i + 1) * 10] for i, custom_id in enumerate(fields)}
        values.update(checks or {})
        submitted = await self.discord.inject_modal_submit(opened, values)
        return form, submitted, await submitted.wait_response(timeout)

    async def db_user(self, name: str) -> User:
        fake_user = self.discord.user(name)
        return await self.core.user_for_discord(fake_user.id, fake_user.global_name or name)

    async def verified_artist(self, name: str = "artist", handle: str = "aoi") -> User:
        user = await self.db_user(name)

        def link(s) -> None:
            s.add(SocialAccount(user_id=user.id, platform="x", account_id=f"id-{handle}", handle=handle,
                                verified_at=utcnow()))
            s.commit()
        await self.core.db(link)
        return user

    async def ready_maker(self, owner: User, name: str = "aoi", **fields) -> Maker:
        def create(s) -> Maker:
            maker = Maker(owner_id=owner.id, name=name, lora_blob="0" * 64, guild_id=self.discord.guild.id,
                          **{"status": MakerStatus.ready.value, **fields})
            s.add(maker)
            s.commit()
            s.refresh(maker)
            return maker
        return await self.core.db(create)

    async def finished_generation(self, maker: Maker, requester: User, *, channel: str = "general",
                                  images: int = 1, locked: bool = True) -> Generation:
        blobs = [self.app.blobs.put(png(1000 + i + maker.id * 10)) for i in range(images)]

        def create(s) -> Generation:
            now = utcnow()
            gen = Generation(requester_id=requester.id, maker_id=maker.id, prompt="a cat", seed=7, count=images,
                             status=JobStatus.done.value, image_blobs=blobs, trace_id=0x1234567890,
                             guild_id=self.discord.guild.id, channel_id=self.discord.channel(channel).id,
                             finished_at=now, undeletable_until=now + timedelta(hours=48 if locked else -1))
            s.add(gen)
            s.commit()
            s.refresh(gen)
            return gen
        return await self.core.db(create)

    async def start_worker(self) -> None:
        from engine.worker import build_worker

        # its own context, as a separate worker process would have
        worker = build_worker(self.app.settings, app=AppContext.create(self.app.settings), handle_signals=False)
        self.extra["worker"] = worker
        self.worker_task = asyncio.create_task(worker.main(), name="arq-worker")

    async def stop_worker(self) -> None:
        if self.worker_task is not None:
            self.worker_task.cancel()
            await asyncio.gather(self.worker_task, return_exceptions=True)
            await self.extra.pop("worker").close()
            self.worker_task = None


@pytest.fixture
async def world(settings, request):
    """Fake Discord + fake social servers + the mimic bot, connected and listening for worker events."""
    marker = request.node.get_closest_marker("bot_settings")
    overrides = dict(marker.kwargs) if marker else {}
    if overrides.pop("engine", False):  # the tiny model, trained for a few steps only
        overrides.update(base_model=str(request.getfixturevalue("tiny_model_dir")), train_steps=4,
                         checkpoint_every=1000, job_lease_s=10)
    async with FakeDiscord() as discord, FakeSocial() as social:
        bot_settings = settings.model_copy(update={
            "discord_api_base": discord.api_base, "discord_gateway_url": discord.gateway_url,
            "discord_token": SecretStr(discord.token), **social.settings_overrides(), **overrides})
        app = AppContext.create(bot_settings)
        SQLModel.metadata.create_all(app.db.engine)
        core = Core.create(app)
        bot = build_bot(core, sharded=bot_settings.discord_sharded)
        try:
            async with running_bot(bot, discord):
                await asyncio.wait_for(bot.poster.ready.wait(), 10)
                world = World(discord, social, app, core, bot)
                try:
                    yield world
                finally:
                    await world.stop_worker()
        finally:
            await core.aclose()
            await app.aclose()


def pytest_configure(config):
    config.addinivalue_line("markers", "bot_settings(engine=False, **fields): settings overrides for the world fixture")
