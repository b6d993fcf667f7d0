"""What every cog needs: who is asking (an Actor), in which language, and how to answer."""
from __future__ import annotations

import contextlib
import re
import time
from typing import TYPE_CHECKING, cast

import discord

from bot.core import Actor, Core, Refusal
from bot.core.generations import generation_for_message
from bot.i18n import t

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

MESSAGE_LINK = re.compile(r"discord(?:app)?\.com/channels/(?:\d+|@me)/(\d+)/(\d+)")


def locale_of(interaction: discord.Interaction) -> str:
    return str(interaction.locale.value if interaction.locale else "en")


def guild_locale(guild: discord.Guild | None) -> str:
    return str(guild.preferred_locale.value) if guild is not None and guild.preferred_locale else "en"


def bot_of(interaction: discord.Interaction) -> MimicBot:
    """The mimic bot an interaction arrived at: discord.py types `interaction.client` as a plain Client."""
    return cast("MimicBot", interaction.client)


def core_of(interaction: discord.Interaction) -> Core:
    return bot_of(interaction).core


class GuildSettingsCache:
    """Each server's settings for a few seconds: every command asks who moderates, few change it."""

    def __init__(self, core: Core | None, ttl_s: float = 30.0):
        self.core, self.ttl_s = core, ttl_s
        self._rows: dict[int, tuple[float, object]] = {}

    async def get(self, guild_id: int):
        from bot.core.moderation import guild_settings

        cached = self._rows.get(guild_id)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        row = await guild_settings(self.core, guild_id)
        self._rows[guild_id] = (time.monotonic() + self.ttl_s, row)
        return row

    def forget(self, guild_id: int) -> None:
        self._rows.pop(guild_id, None)


async def is_moderator(core: Core, interaction: discord.Interaction) -> bool:
    """Manage Server (or Administrator), or the configured moderator role (by name or this server's role id)."""
    member = interaction.user
    if interaction.guild_id is None or not isinstance(member, discord.Member):
        return False
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return True
    role_ids = set(member._roles)  # ids straight from the interaction payload, cached guild or not
    names = {role.name for role in member.roles}
    if core.settings.moderator_role and core.settings.moderator_role in names:
        return True
    bot = bot_of(interaction)
    configured = (await bot.guild_settings.get(interaction.guild_id)).moderator_role_id
    return configured is not None and configured in role_ids


async def actor_for(interaction: discord.Interaction) -> Actor:
    bot = bot_of(interaction)
    core = bot.core
    user = interaction.user
    user_id = bot.known_users.get(user.id)
    if user_id is None:  # a user's row id never changes: one look-up per person per process
        user_id = (await core.user_for_discord(user.id, user.display_name, locale_of(interaction))).id
        bot.known_users[user.id] = user_id
    return Actor(user_id=user_id, is_moderator=await is_moderator(core, interaction),
                 guild_id=interaction.guild_id, channel_id=interaction.channel_id, locale=locale_of(interaction))


async def defer(interaction: discord.Interaction) -> None:
    """Acknowledge at once (Discord's 3-second rule); the answer comes as an edit of the "thinking" message."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


@contextlib.asynccontextmanager
async def acknowledged(interaction: discord.Interaction):
    """Defer at once, then wait for a work slot. Under a burst every acknowledgement goes out before the slow
    work (database, queue) of the others competes with them for the event loop."""
    await defer(interaction)
    bot = bot_of(interaction)
    async with bot.work_slots:
        yield


async def answer(interaction: discord.Interaction, content: str | None = None, *, embed: discord.Embed | None = None,
                 view: discord.ui.View | None = None, files: list[discord.File] | None = None) -> None:
    """The user's private answer: a message if nothing was sent yet, else an edit of the deferred one."""
    kwargs: dict = {"content": content, "embed": embed}
    if view is not None:
        kwargs["view"] = view
    if not interaction.response.is_done():
        await interaction.response.send_message(ephemeral=True, files=files or [], **kwargs)
    elif files:
        await interaction.followup.send(ephemeral=True, files=files, **{k: v for k, v in kwargs.items() if v})
    else:
        await interaction.edit_original_response(**kwargs)


def say(interaction: discord.Interaction, key: str, **params) -> str:
    return t(key, locale_of(interaction), **params)


def mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


async def read_attachment(core: Core, interaction: discord.Interaction, attachment: discord.Attachment) -> bytes:
    """An attachment's bytes, refused politely when it is not an image or over the size limits."""
    limit = min(core.settings.max_upload_bytes, interaction.filesize_limit or core.settings.max_upload_bytes)
    if attachment.size > limit:
        raise Refusal("upload.too_big", filename=attachment.filename, size_mb=mb(attachment.size), limit_mb=mb(limit))
    if attachment.content_type and not attachment.content_type.startswith("image/"):
        raise Refusal("upload.not_image", filename=attachment.filename)
    try:
        data = await attachment.read()
    except (discord.HTTPException, discord.NotFound):
        raise Refusal("upload.failed", filename=attachment.filename) from None
    if len(data) > limit:
        raise Refusal("upload.too_big", filename=attachment.filename, size_mb=mb(len(data)), limit_mb=mb(limit))
    return data


async def generation_for_reference(core: Core, reference: str) -> int | None:
    """A result number ("42", "#42") or a link to its gallery message -> the generation id; None otherwise."""
    text = reference.strip()
    if text.lstrip("#").isdigit():
        return int(text.lstrip("#"))
    link = MESSAGE_LINK.search(text)
    if link is None:
        return None
    message_id = int(link.group(2))
    return await generation_for_message(core, message_id)


async def deliver_notices(client: discord.Client, notices) -> int:
    """Tell each person (bot.core.disputes.Notice) by direct message, in their language; someone who can't be
    messaged (DMs closed, no Discord account) is skipped: the moderators' report holds the same facts.
    Returns how many were sent."""
    sent = 0
    for notice in notices:
        if not notice.discord_id:
            continue
        try:
            user = client.get_user(notice.discord_id) or await client.fetch_user(notice.discord_id)
            await user.send(t(notice.text.key, notice.locale, **notice.text.params))
            sent += 1
        except discord.HTTPException:
            continue
    return sent
