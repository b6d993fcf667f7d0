"""One place where failures become polite, private answers.

A `Refusal` is the use cases' "no": the user reads it in their language. Anything else is our bug: the user
gets a generic apology and the log gets the traceback, with every configured secret removed."""
from __future__ import annotations

import logging
import math
import traceback

import discord
from discord import app_commands

from bot.core import Refusal
from bot.discord.common import locale_of
from bot.i18n import t
from data.settings import Settings, redact

log = logging.getLogger("mimic.discord")


def message_for(error: BaseException, locale: str) -> tuple[str, bool]:
    """(what the user reads, whether it is expected). Unwraps discord.py's wrappers first."""
    while isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)) and error.__cause__:
        error = error.__cause__
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, Refusal):
        return t(error.key, locale, **error.params), True
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("error.guild_only", locale), True
    if isinstance(error, app_commands.CommandOnCooldown):
        return t("error.cooldown", locale, seconds=max(1, math.ceil(error.retry_after))), True
    if isinstance(error, app_commands.CheckFailure):
        return t("permission.moderator_only", locale), True
    return t("error.generic", locale), False


async def report_error(interaction: discord.Interaction, error: BaseException, settings: Settings) -> None:
    text, expected = message_for(error, locale_of(interaction))
    if not expected:
        name = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("custom_id")
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("interaction %s failed:\n%s", name, redact(details, settings))
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # the token expired or Discord is down: nothing more to tell
        log.warning("could not deliver an error message: %s", redact(str(exc), settings))


async def guarded(interaction: discord.Interaction, settings: Settings, work) -> None:
    """Run a component's callback with the same error handling as slash commands."""
    try:
        await work
    except Exception as exc:  # noqa: BLE001 - every failure is answered, expected ones politely
        await report_error(interaction, exc, settings)
