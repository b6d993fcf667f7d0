"""/server settings: a server's gallery channel, review policy, quotas and moderator role."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.server_settings._cog import ServerSettings


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ServerSettings(bot))
