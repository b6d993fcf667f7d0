"""/maker create|settings|list|revoke."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.makers import Upload, can_create_maker, create_maker, list_makers, revoke_maker, update_settings
from bot.discord.autocomplete import own_makers
from bot.discord.common import acknowledged, actor_for, answer, core_of, say
from bot.discord.errors import guarded
from bot.discord.uploads import UploadForm, fetch_uploads
from bot.i18n import t

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

USAGE_CHOICES = [app_commands.Choice(name="artist only", value="not_allowed"),
                 app_commands.Choice(name="personal use", value="personal"),
                 app_commands.Choice(name="commercial use", value="commercial")]
VISIBILITY_CHOICES = [app_commands.Choice(name=v, value=v) for v in ("public", "unlisted", "private")]


async def finish_create(interaction: discord.Interaction, name: str, uploads: list[Upload], *,
                        from_posts: bool) -> None:
    """Create the maker and say how it went; the interaction is already deferred."""
    bot: MimicBot = interaction.client  # type: ignore[assignment]
    created = await create_maker(core_of(interaction), await actor_for(interaction), name, uploads,
                                 from_posts=from_posts)
    maker = created.maker
    if created.queue_position is None:
        text = say(interaction, "maker.created_review", name=maker.name, accepted=len(created.accepted))
        await bot.poster.announce_review(maker.id, interaction.channel_id)
    else:
        bot.poster.track_maker(maker.id, interaction)
        text = say(interaction, "maker.created_training", name=maker.name, accepted=len(created.accepted),
                   position=max(created.queue_position, 1))
    if created.rejected:
        text += "\n" + say(interaction, "maker.rejected_images", details=[c.line for c in created.rejected])
    await answer(interaction, text[:2000])


class MakerForm(UploadForm):
    def __init__(self, interaction: discord.Interaction, name: str):
        super().__init__(interaction, say(interaction, "maker.form_title", name=name), f"mimic:maker-form:{name}",
                         posts_option=True)
        self.name = name

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def submit() -> None:
            async with acknowledged(interaction):
                uploads = await fetch_uploads(core_of(interaction), interaction, self.attachments)
                await finish_create(interaction, self.name, uploads, from_posts=self.use_posts)
        await guarded(interaction, core_of(interaction).settings, submit())


class Makers(commands.GroupCog, group_name="maker", group_description="Your style makers"):
    def __init__(self, bot: MimicBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="Create a maker from artworks you posted")
    @app_commands.describe(name="A short name: lowercase letters, digits, - and _",
                           from_posts="Skip the upload form: use your linked account's recent posts")
    async def create(self, interaction: discord.Interaction, name: app_commands.Range[str, 2, 32],
                     from_posts: bool = False) -> None:
        if from_posts:
            async with acknowledged(interaction):
                await finish_create(interaction, name, [], from_posts=True)
            return
        # refusals that need no image (name, verified account, quota) come before anyone uploads 30 files;
        # the form itself must be the first answer, so nothing is deferred here
        name = await can_create_maker(core_of(interaction), await actor_for(interaction), name)
        await interaction.response.send_modal(MakerForm(interaction, name))

    @app_commands.command(name="settings", description="Change who may use your maker and how")
    @app_commands.describe(name="The maker's name", usage="What fans may do with the results",
                           visibility="Who can find it", daily_limit="Images per fan per day (0 = the server default)")
    @app_commands.choices(usage=USAGE_CHOICES, visibility=VISIBILITY_CHOICES)
    @app_commands.autocomplete(name=own_makers)
    async def settings(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32],
                       usage: app_commands.Choice[str] | None = None,
                       visibility: app_commands.Choice[str] | None = None,
                       daily_limit: app_commands.Range[int, 0, 1000] | None = None) -> None:
        async with acknowledged(interaction):
            maker = await update_settings(core_of(interaction), await actor_for(interaction), name,
                                          usage=usage.value if usage else None,
                                          visibility=visibility.value if visibility else None, daily_limit=daily_limit)
            locale = str(interaction.locale.value)
            await answer(interaction, say(interaction, "maker.settings_saved", name=maker.name,
                                          usage=t(f"usage.{maker.usage}", locale), visibility=maker.visibility,
                                          limit=maker.daily_limit or t("server.default", locale)))

    @app_commands.command(name="list", description="List makers")
    @app_commands.describe(mine="Only your own makers")
    async def list_(self, interaction: discord.Interaction, mine: bool = False) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            owner = (await actor_for(interaction)).user_id if mine else None
            makers = await list_makers(core, owner_id=owner, include_hidden=mine)
            if not mine:
                makers = [m for m in makers if m.status == "ready"]
            locale = str(interaction.locale.value)
            lines = [say(interaction, "maker.list_line", name=m.name, status=m.status,
                         usage=t(f"usage.{m.usage}", locale))
                     for m in makers[:25]]
            await answer(interaction, "\n".join(lines) if lines else say(interaction, "maker.list_empty"))

    @app_commands.command(name="revoke", description="Revoke a maker: its jobs stop at once and its model is deleted")
    @app_commands.describe(name="The maker's name")
    @app_commands.autocomplete(name=own_makers)
    async def revoke(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32]) -> None:
        async with acknowledged(interaction):
            maker = await revoke_maker(core_of(interaction), await actor_for(interaction), name)
            await answer(interaction, say(interaction, "maker.revoked", name=maker.name))

