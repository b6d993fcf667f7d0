"""/generate and /remake: images in an artist's style, posted publicly by the results poster."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.generate._cog import Generate


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Generate(bot))
