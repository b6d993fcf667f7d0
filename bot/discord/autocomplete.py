"""Maker names as the user types them: the use cases decide which makers a person may see (bot.core.makers)."""
from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core import Refusal
from bot.core.makers import MakerChoice, own_maker_choices, usable_maker_choices
from bot.discord.common import actor_for, core_of, locale_of
from bot.i18n import t

log = logging.getLogger("mimic.discord")

CHOICE_TEXT = 100  # Discord's limit for a choice's name and value


def _choice(choice: MakerChoice, text: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=text[:CHOICE_TEXT], value=choice.name[:CHOICE_TEXT])


async def usable_makers(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Ready makers this person may generate with, with the artist's credit and usage scope."""
    locale = locale_of(interaction)
    try:
        choices = await usable_maker_choices(core_of(interaction), await actor_for(interaction), current)
    except Refusal:
        return []
    return [_choice(c, t("maker.choice", locale, name=c.name, artist=c.credit, usage=t(f"usage.{c.usage}", locale)))
            for c in choices]


async def own_makers(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The artist's own makers, for the commands that change or revoke them."""
    try:
        choices = await own_maker_choices(core_of(interaction), await actor_for(interaction), current)
    except Refusal:
        return []
    return [_choice(c, t("maker.choice_own", locale_of(interaction), name=c.name, status=c.status)) for c in choices]
