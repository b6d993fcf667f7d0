"""/gallery (browse with buttons that survive restarts), /artist and /trace."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from sqlmodel import select

from bot.core import Core
from bot.core.generations import trace
from bot.discord.common import acknowledged, answer, core_of, locale_of, read_attachment, say
from bot.discord.errors import guarded
from bot.discord.results import artist_credit
from bot.i18n import t
from data.models import Generation, JobStatus, Maker, MakerStatus, SocialAccount, User, Visibility

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

PAGE = 5


@dataclass
class GalleryEntry:
    generation: Generation
    maker: Maker


async def public_results(core: Core, *, offset: int, limit: int, maker_id: int | None = None) -> list[GalleryEntry]:
    """Posted results of public, live makers, newest first (what anyone may browse)."""
    def query(s) -> list[GalleryEntry]:
        q = (select(Generation, Maker).join(Maker, Maker.id == Generation.maker_id)
             .where(Generation.status == JobStatus.done.value, Generation.taken_down.is_(False),
                    Generation.message_id.is_not(None), Maker.visibility == Visibility.public.value,
                    Maker.status == MakerStatus.ready.value)
             .order_by(Generation.id.desc()).offset(offset).limit(limit))
        if maker_id is not None:
            q = q.where(Maker.id == maker_id)
        return [GalleryEntry(g, m) for g, m in s.exec(q).all()]
    return await core.db(query)


def jump_url(guild_id: int | None, gen: Generation) -> str:
    return f"https://discord.com/channels/{guild_id or '@me'}/{gen.channel_id}/{gen.message_id}"


async def gallery_page(core: Core, locale: str, offset: int,
                       maker_id: int) -> tuple[discord.Embed | None, discord.ui.View | None]:
    entries = await public_results(core, offset=offset, limit=PAGE + 1, maker_id=maker_id or None)
    more, entries = len(entries) > PAGE, entries[:PAGE]
    if not entries:
        return None, None
    embed = discord.Embed(title=t("gallery.page", locale, first=offset + 1, last=offset + len(entries)),
                          colour=discord.Colour.blurple())
    for entry in entries:
        gen = entry.generation
        embed.add_field(name=f"#{gen.id} · {entry.maker.name} · {t(f'usage.{entry.maker.usage}', locale)}",
                        value=f"{gen.prompt[:80] or '—'}\n{jump_url(gen.guild_id, gen)}", inline=False)
    view = discord.ui.View(timeout=None)
    previous = GalleryButton(max(offset - PAGE, 0), maker_id, "prev", label=t("button.previous", locale))
    previous.item.disabled = offset == 0
    following = GalleryButton(offset + PAGE, maker_id, "next", label=t("button.next", locale))
    following.item.disabled = not more
    view.add_item(previous)
    view.add_item(following)
    return embed, view


class GalleryButton(discord.ui.DynamicItem[discord.ui.Button],
                    template=r"mimic:gallery:(?P<offset>[0-9]+):(?P<maker>[0-9]+):(?P<dir>prev|next)"):
    def __init__(self, offset: int, maker_id: int, direction: str, *, label: str | None = None):
        super().__init__(discord.ui.Button(label=label or direction, style=discord.ButtonStyle.secondary,
                                           custom_id=f"mimic:gallery:{offset}:{maker_id}:{direction}"))
        self.offset, self.maker_id = offset, maker_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match):
        return cls(int(match["offset"]), int(match["maker"]), match["dir"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async def turn() -> None:
            embed, view = await gallery_page(core_of(interaction), locale_of(interaction), self.offset, self.maker_id)
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
    @app_commands.describe(maker="Only this maker's results")
    async def gallery(self, interaction: discord.Interaction,
                      maker: app_commands.Range[str, 1, 32] | None = None) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            maker_id = 0
            if maker:
                from bot.core.makers import find_maker

                maker_id = (await find_maker(core, maker)).id
            embed, view = await gallery_page(core, locale_of(interaction), 0, maker_id)
            if embed is None:
                await answer(interaction, say(interaction, "gallery.empty"))
            else:
                await answer(interaction, embed=embed, view=view)

    @app_commands.command(name="artist", description="Show an artist's accounts and makers")
    @app_commands.describe(user="The artist")
    async def artist(self, interaction: discord.Interaction, user: discord.User) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)

            def lookup(s):
                row = s.exec(select(User).where(User.discord_id == user.id)).first()
                if row is None:
                    return [], []
                accounts = s.exec(select(SocialAccount).where(SocialAccount.user_id == row.id,
                                                              SocialAccount.verified_at.is_not(None))).all()
                makers = s.exec(select(Maker).where(Maker.owner_id == row.id,
                                                    Maker.visibility == Visibility.public.value,
                                                    Maker.status == MakerStatus.ready.value)).all()
                return list(accounts), list(makers)
            accounts, makers = await core.db(lookup)
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
                credit = await core.db(lambda s: artist_credit(s, found.maker.owner_id)) if found.maker else "?"
                text = say(interaction, "trace.found", id=found.generation.id, trace=f"{found.trace_id:010x}",
                           maker=found.maker.name if found.maker else "?", artist=credit)
                if found.generation.message_id:
                    text += "\n" + jump_url(found.generation.guild_id, found.generation)
                await answer(interaction, text)
