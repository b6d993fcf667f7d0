"""/protect posts|files: the "No AI learning" list, without ever making a maker."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.protection._cog import Protection


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Protection(bot))
