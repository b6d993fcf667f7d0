"""/generate and /remake: defer, call the use case, answer with the queue position, let the poster post."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.generations import MAX_COUNT, request_generation
from bot.discord.autocomplete import usable_makers
from bot.discord.common import acknowledged, actor_for, answer, bot_of, core_of, read_attachment, say
from bot.discord.cooldowns import generation_cooldown

if TYPE_CHECKING:
    from bot.discord.client import MimicBot


async def queue_generation(interaction: discord.Interaction, maker: str, prompt: str, *, count: int = 1,
                           seed: int | None = None, source_image: bytes | None = None) -> None:
    """Shared by the commands and the reroll/variations buttons. The interaction is already deferred."""
    core = core_of(interaction)
    actor = await actor_for(interaction)
    queued = await request_generation(core, actor, maker, prompt, count=count, seed=seed, source_image=source_image)
    bot = bot_of(interaction)
    bot.poster.track_generation(queued.generation.id, interaction)
    channel_id = await bot.poster.gallery_channel_id(queued.generation.guild_id, queued.generation.channel_id)
    where = f"<#{channel_id}>" if channel_id else "#gallery"
    await answer(interaction, say(interaction, "generate.queued", name=maker.strip().lower(),
                                  position=max(queued.position, 1), channel=where))


class Generate(commands.Cog):
    def __init__(self, bot: MimicBot):
        self.bot = bot

    @app_commands.command(name="generate", description="Generate images with a maker")
    @app_commands.describe(maker="The maker to use", prompt="What to draw", count="How many images (1-4)",
                           seed="A seed, to repeat a result")
    @app_commands.autocomplete(maker=usable_makers)
    @generation_cooldown()
    async def generate(self, interaction: discord.Interaction, maker: app_commands.Range[str, 1, 32],
                       prompt: app_commands.Range[str, 0, 500],
                       count: app_commands.Range[int, 1, MAX_COUNT] = 1,
                       seed: app_commands.Range[int, 0, 4294967295] | None = None) -> None:
        async with acknowledged(interaction):
            await queue_generation(interaction, maker, prompt, count=count, seed=seed)

    @app_commands.command(name="remake", description="Redraw an image in a maker's style")
    @app_commands.describe(maker="The maker to use", image="The image to redraw (not someone else's artwork)",
                           prompt="What to change (optional)")
    @app_commands.autocomplete(maker=usable_makers)
    @generation_cooldown()
    async def remake(self, interaction: discord.Interaction, maker: app_commands.Range[str, 1, 32],
                     image: discord.Attachment, prompt: app_commands.Range[str, 0, 500] = "") -> None:
        async with acknowledged(interaction):
            data = await read_attachment(core_of(interaction), interaction, image)
            await queue_generation(interaction, maker, prompt, source_image=data)
