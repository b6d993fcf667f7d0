"""The application command tree as Discord receives it on sync, built offline (no token, no network)."""
from __future__ import annotations

import asyncio
from typing import Any


async def command_tree_payload() -> list[dict[str, Any]]:
    """Exactly what `tree.sync()` would send: names, options and name/description localisations."""
    from bot.discord.client import add_features, build_bot

    bot = build_bot(None, sync_commands=False)
    await add_features(bot)
    translator = bot.tree.translator
    payload = [await command.get_translated_payload(bot.tree, translator)
               for command in bot.tree.get_commands()]
    return sorted(payload, key=lambda c: c["name"])


def command_tree_json() -> list[dict[str, Any]]:
    return asyncio.run(command_tree_payload())
