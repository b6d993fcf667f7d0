"""The buttons under every posted result (reroll, variations, report, delete), kept working across restarts."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.results._cog import ResultButton


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(ResultButton)
