"""/verify start|check|status: prove control of an X, Bluesky or Mastodon account."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.verify._cog import Verify


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Verify(bot))
