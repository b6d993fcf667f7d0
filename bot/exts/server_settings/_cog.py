"""/server settings: the gallery channel, the review policy, quotas and the moderator role of one server."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.moderation import guild_settings, update_guild_settings
from bot.discord.common import acknowledged, actor_for, answer, core_of, say

if TYPE_CHECKING:
    from bot.discord.client import MimicBot


class ServerSettings(commands.Cog):
    server = app_commands.Group(name="server", description="Server settings", guild_only=True)

    def __init__(self, bot: MimicBot):
        self.bot = bot

    @server.command(name="settings", description="Moderators: gallery channel, review policy, quotas")
    @app_commands.describe(gallery_channel="Where results are posted",
                           review_required="New makers need a moderator's approval",
                           publish_training_images="Post training images publicly when a maker is ready",
                           daily_limit="Images per fan per day (0 = the global default)",
                           moderator_role="Role whose members count as moderators")
    async def settings(self, interaction: discord.Interaction,
                       gallery_channel: discord.TextChannel | None = None, review_required: bool | None = None,
                       publish_training_images: bool | None = None,
                       daily_limit: app_commands.Range[int, 0, 10000] | None = None,
                       moderator_role: discord.Role | None = None) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            actor = await actor_for(interaction)
            actor.require_moderator()
            changes = dict(gallery_channel_id=gallery_channel.id if gallery_channel else None,
                           review_required=review_required, publish_training_images=publish_training_images,
                           daily_generations_per_fan=daily_limit,
                           moderator_role_id=moderator_role.id if moderator_role else None)
            if any(v is not None for v in changes.values()):
                row = await update_guild_settings(core, actor, interaction.guild_id, **changes)
                self.bot.guild_settings.forget(interaction.guild_id)
            else:
                row = await guild_settings(core, interaction.guild_id)
            default = say(interaction, "server.default")
            yes_no = {True: say(interaction, "yes"), False: say(interaction, "no")}
            await answer(interaction, say(
                interaction, "server.settings",
                gallery=f"<#{row.gallery_channel_id}>" if row.gallery_channel_id else default,
                review=yes_no[row.review_required], publish=yes_no[row.publish_training_images],
                quota=row.daily_generations_per_fan or f"{default} ({core.settings.daily_generations_per_fan})",
                role=f"<@&{row.moderator_role_id}>" if row.moderator_role_id else f"@{core.settings.moderator_role}"))
