"""/gallery (with buttons that survive restarts), /artist and /trace."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.gallery._cog import Gallery, GalleryButton


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Gallery(bot))
    bot.add_dynamic_items(GalleryButton)
