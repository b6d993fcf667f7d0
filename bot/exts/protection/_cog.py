"""/protect posts|files: put works on the "No AI learning" list without ever making a maker."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.protection import can_protect, protect_files, protect_my_posts
from bot.discord.common import acknowledged, actor_for, answer, core_of, say
from bot.discord.errors import guarded
from bot.discord.uploads import UploadForm, fetch_uploads

if TYPE_CHECKING:
    from bot.discord.client import MimicBot


class ProtectForm(UploadForm):
    def __init__(self, interaction: discord.Interaction):
        super().__init__(interaction, say(interaction, "protect.form_title"), "mimic:protect-form")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def submit() -> None:
            async with acknowledged(interaction):
                core = core_of(interaction)
                uploads = await fetch_uploads(core, interaction, self.attachments)
                done = await protect_files(core, await actor_for(interaction), uploads)
                text = say(interaction, "protect.files_done", count=done.works)
                if done.refused:
                    text += "\n" + say(interaction, "protect.refused", details=done.refused)
                await answer(interaction, text[:2000])
        await guarded(interaction, core_of(interaction).settings, submit())


class Protection(commands.GroupCog, group_name="protect", group_description="Keep your works out of AI training"):
    def __init__(self, bot: MimicBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="posts", description="List every indexed post of your linked accounts as No AI learning")
    async def posts(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            done = await protect_my_posts(core_of(interaction), await actor_for(interaction))
            await answer(interaction, say(interaction, "protect.posts_done", count=done.works))

    @app_commands.command(name="files", description="List uploaded artworks of yours as No AI learning")
    async def files(self, interaction: discord.Interaction) -> None:
        # only a verified artist gets the form (the answer to a command must be the form itself: no deferring)
        await can_protect(core_of(interaction), await actor_for(interaction))
        await interaction.response.send_modal(ProtectForm(interaction))
