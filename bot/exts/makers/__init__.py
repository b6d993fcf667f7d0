"""/maker create|settings|list|revoke: an artist's style makers."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.makers._cog import Makers


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Makers(bot))
