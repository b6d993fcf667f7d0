"""/protect posts|files: put works on the "No AI learning" list without ever making a maker."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.makers import Upload
from bot.core.protection import protect_files, protect_my_posts
from bot.discord.common import acknowledged, actor_for, answer, core_of, read_attachment, say

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

IMAGE = "An artwork of yours to protect"


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
    @app_commands.describe(**{f"image{i}": IMAGE for i in range(1, 11)})
    async def files(self, interaction: discord.Interaction, image1: discord.Attachment,
                    image2: discord.Attachment | None = None, image3: discord.Attachment | None = None,
                    image4: discord.Attachment | None = None, image5: discord.Attachment | None = None,
                    image6: discord.Attachment | None = None, image7: discord.Attachment | None = None,
                    image8: discord.Attachment | None = None, image9: discord.Attachment | None = None,
                    image10: discord.Attachment | None = None) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            attachments = [a for a in (image1, image2, image3, image4, image5, image6, image7, image8, image9, image10)
                           if a is not None]
            uploads = [Upload(a.filename, await read_attachment(core, interaction, a)) for a in attachments]
            done = await protect_files(core, await actor_for(interaction), uploads)
            text = say(interaction, "protect.files_done", count=done.works)
            if done.refused:
                text += "\n" + say(interaction, "protect.refused", details=done.refused)
            await answer(interaction, text[:2000])
