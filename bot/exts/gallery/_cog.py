"""/gallery (browse with buttons that survive restarts), /artist and /trace."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Core
from bot.core.gallery import artist_profile, generations_page
from bot.core.generations import trace
from bot.discord.common import acknowledged, answer, core_of, locale_of, read_attachment, say
from bot.discord.errors import guarded
from bot.i18n import t
from data.models import Generation

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

PAGE = 5


def jump_url(guild_id: int | None, gen: Generation) -> str:
    return f"https://discord.com/channels/{guild_id or '@me'}/{gen.channel_id}/{gen.message_id}"


async def gallery_page(core: Core, locale: str, page: int) -> tuple[discord.Embed | None, discord.ui.View | None]:
    """One page of public results (bot.core.gallery decides what the public may see), newest first."""
    listing = await generations_page(core, page=page, per_page=PAGE)
    if not listing.items:
        return None, None
    embed = discord.Embed(title=t("gallery.page", locale, first=(listing.page - 1) * PAGE + 1,
                                  last=(listing.page - 1) * PAGE + len(listing.items)),
                          colour=discord.Colour.blurple())
    for card in listing.items:
        gen, maker = card.generation, card.maker
        if card.gone:
            embed.add_field(name=f"#{gen.id} · {maker.name}", value=t("gallery.gone", locale), inline=False)
            continue
        links = [f"{core.settings.public_url.rstrip('/')}/g/{gen.id}"]
        if gen.message_id:
            links.append(jump_url(gen.guild_id, gen))
        embed.add_field(name=f"#{gen.id} · {maker.name} · {t(f'usage.{maker.usage}', locale)}",
                        value="\n".join([gen.prompt[:80] or "—", *links]), inline=False)
    view = discord.ui.View(timeout=None)
    previous = GalleryButton(max(listing.page - 1, 1), "prev", label=t("button.previous", locale))
    previous.item.disabled = not listing.has_prev
    following = GalleryButton(listing.page + 1, "next", label=t("button.next", locale))
    following.item.disabled = not listing.has_next
    view.add_item(previous)
    view.add_item(following)
    return embed, view


class GalleryButton(discord.ui.DynamicItem[discord.ui.Button],
                    template=r"mimic:gallery:(?P<page>[0-9]+):(?P<dir>prev|next)"):
    def __init__(self, page: int, direction: str, *, label: str | None = None):
        super().__init__(discord.ui.Button(label=label or direction, style=discord.ButtonStyle.secondary,
                                           custom_id=f"mimic:gallery:{page}:{direction}"))
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match):
        return cls(int(match["page"]), match["dir"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async def turn() -> None:
            embed, view = await gallery_page(core_of(interaction), locale_of(interaction), self.page)
            if embed is None:
                await interaction.response.edit_message(content=say(interaction, "gallery.empty"), embed=None,
                                                        view=None)
            else:
                await interaction.response.edit_message(embed=embed, view=view)
        await guarded(interaction, core_of(interaction).settings, turn())


class Gallery(commands.Cog):
    def __init__(self, bot: MimicBot):
        self.bot = bot

    @app_commands.command(name="gallery", description="Browse recent results")
    async def gallery(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            embed, view = await gallery_page(core_of(interaction), locale_of(interaction), 1)
            if embed is None:
                await answer(interaction, say(interaction, "gallery.empty"))
            else:
                await answer(interaction, embed=embed, view=view)

    @app_commands.command(name="artist", description="Show an artist's accounts and makers")
    @app_commands.describe(user="The artist")
    async def artist(self, interaction: discord.Interaction, user: discord.User) -> None:
        async with acknowledged(interaction):
            profile = await artist_profile(core_of(interaction), user.id)
            accounts, makers = profile.accounts, profile.makers
            if not accounts and not makers:
                await answer(interaction, say(interaction, "artist.none", user=user.mention))
                return
            locale = locale_of(interaction)
            embed = discord.Embed(title=t("artist.title", locale, user=user.display_name),
                                  colour=discord.Colour.blurple())
            if accounts:
                embed.add_field(name=t("artist.accounts", locale), inline=False, value="\n".join(
                    f"{a.platform}: {a.profile_url or '@' + a.handle.lstrip('@')}" for a in accounts))
            if makers:
                embed.add_field(name=t("artist.makers", locale), inline=False, value="\n".join(
                    f"**{m.name}** — {t(f'usage.{m.usage}', locale)}" for m in makers[:20]))
            await answer(interaction, embed=embed)

    @app_commands.command(name="trace", description="Find where an image made with mimic came from")
    @app_commands.describe(image="The image to check")
    async def trace(self, interaction: discord.Interaction, image: discord.Attachment) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            found = await trace(core, await read_attachment(core, interaction, image))
            if found.trace_id is None:
                await answer(interaction, say(interaction, "trace.none"))
            elif found.generation is None:
                await answer(interaction, say(interaction, "trace.unknown_id", trace=f"{found.trace_id:010x}"))
            else:
                credit = found.credit.name if found.credit else "?"
                text = say(interaction, "trace.found", id=found.generation.id, trace=f"{found.trace_id:010x}",
                           maker=found.maker.name if found.maker else "?", artist=credit)
                if found.source == "content":
                    text += "\n" + say(interaction, "trace.by_content")
                if found.generation.message_id:
                    text += "\n" + jump_url(found.generation.guild_id, found.generation)
                await answer(interaction, text)
