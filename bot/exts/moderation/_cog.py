"""/report for everyone; /review, /takedown and /ban for moderators (the use cases check the role)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Refusal
from bot.core.generations import get_generation
from bot.core.makers import approve_maker, find_maker, reject_maker, review_entries
from bot.core.moderation import ban_user, file_report, take_down
from bot.discord.common import acknowledged, actor_for, answer, core_of, generation_for_reference, say
from bot.exts.results._cog import remove_gallery_message

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

TARGET = "A result number, its message link, or a maker name"


async def resolve_target(interaction: discord.Interaction, reference: str) -> tuple[str, int, str]:
    """(target kind, row id, how to name it) for a result number, a message link or a maker name."""
    core = core_of(interaction)
    generation_id = await generation_for_reference(core, reference)
    if generation_id is not None:
        return "generation", generation_id, f"#{generation_id}"
    if "/" in reference or not reference.strip():
        raise Refusal("report.bad_reference")
    maker = await find_maker(core, reference)
    return "maker", maker.id, maker.name


class Moderation(commands.Cog):
    review = app_commands.Group(name="review", description="Moderators: makers waiting for review", guild_only=True)

    def __init__(self, bot: MimicBot):
        self.bot = bot

    @app_commands.command(name="report", description="Report a result or a maker to the moderators")
    @app_commands.describe(target=TARGET, reason="What is wrong")
    async def report(self, interaction: discord.Interaction, target: app_commands.Range[str, 1, 200],
                     reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            kind, row_id, _ = await resolve_target(interaction, target)
            report = await file_report(core_of(interaction), await actor_for(interaction), kind, row_id, reason)
            await answer(interaction, say(interaction, "report.filed", id=report.id))

    @review.command(name="queue", description="Show the review queue")
    async def review_list(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            lines = []
            for entry in await review_entries(core, await actor_for(interaction)):
                owner = entry.owner
                if owner is not None and owner.discord_id:
                    artist = f"<@{owner.discord_id}>"
                else:
                    artist = owner.display_name if owner else "?"
                lines.append(say(interaction, "review.line", name=entry.maker.name, artist=artist,
                                 images=entry.image_count))
            await answer(interaction, "\n".join(lines) if lines else say(interaction, "review.empty"))

    @review.command(name="approve", description="Approve a maker and start its training")
    @app_commands.describe(name="The maker's name")
    async def review_approve(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32]) -> None:
        async with acknowledged(interaction):
            maker, position = await approve_maker(core_of(interaction), await actor_for(interaction), name)
            await answer(interaction, say(interaction, "review.approved", name=maker.name, position=max(position, 1)))

    @review.command(name="reject", description="Reject a maker")
    @app_commands.describe(name="The maker's name", reason="What is wrong")
    async def review_reject(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32],
                            reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            maker = await reject_maker(core_of(interaction), await actor_for(interaction), name, reason)
            await answer(interaction, say(interaction, "review.rejected", name=maker.name))

    @app_commands.command(name="takedown", description="Moderators: remove a result or a maker")
    @app_commands.describe(target=TARGET, reason="What is wrong")
    @app_commands.guild_only()
    async def takedown(self, interaction: discord.Interaction, target: app_commands.Range[str, 1, 200],
                       reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            actor = await actor_for(interaction)
            if not actor.is_moderator:  # before resolving the target: non-moderators learn nothing about it
                raise Refusal("permission.moderator_only")
            kind, row_id, label = await resolve_target(interaction, target)
            await take_down(core, actor, kind, row_id, reason)
            if kind == "generation":
                await remove_gallery_message(interaction.client, await get_generation(core, row_id))
            await answer(interaction, say(interaction, "takedown.done", what=label))

    @app_commands.command(name="ban", description="Moderators: ban a user from mimic")
    @app_commands.describe(user="The user", reason="What is wrong")
    @app_commands.guild_only()
    async def ban(self, interaction: discord.Interaction, user: discord.User,
                  reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            actor = await actor_for(interaction)
            if not actor.is_moderator:
                raise Refusal("permission.moderator_only")
            row = await core.user_for_discord(user.id, user.display_name)
            await ban_user(core, actor, row.id, reason)
            await answer(interaction, say(interaction, "ban.done", user=user.mention))
