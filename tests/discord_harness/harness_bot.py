"""A small real discord.py bot that exercises what the fake Discord must support."""
from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

REROLL_ID = "gallery:reroll"
HIDE_ID = "gallery:hide"


class GalleryButtons(discord.ui.View):
    """A persistent view: registered at start-up, it answers clicks on any message that carries it."""

    def __init__(self, bot: HarnessBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Reroll", style=discord.ButtonStyle.primary, custom_id=REROLL_ID)
    async def reroll(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.bot.clicks.append((button.custom_id, interaction.user.id, interaction.message.id))
        await interaction.response.send_message("rerolling", ephemeral=True)

    @discord.ui.button(label="Hide", style=discord.ButtonStyle.secondary, custom_id=HIDE_ID)
    async def hide(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()  # a component's defer: DEFERRED_UPDATE_MESSAGE
        await interaction.edit_original_response(content="hidden", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="What do you think?", custom_id="feedback:text")

    def __init__(self, bot: HarnessBot) -> None:
        super().__init__(custom_id="feedback")
        self.bot = bot

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.bot.modal_values.append(self.text.value)
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


maker = app_commands.Group(name="maker", description="style makers")
settings_group = app_commands.Group(name="settings", description="maker settings", parent=maker)


@maker.command(name="create", description="create a maker")
async def maker_create(
    interaction: discord.Interaction, name: str, image: discord.Attachment, steps: int, artist: discord.Member
) -> None:
    data = await image.read()
    await interaction.response.send_message(
        f"{name}: {image.filename} {len(data)} bytes, {steps} steps, artist {artist.id}", ephemeral=True
    )


@settings_group.command(name="usage", description="set the usage scope")
@app_commands.choices(scope=[app_commands.Choice(name="personal", value="personal"), app_commands.Choice(name="commercial", value="commercial")])
async def maker_settings_usage(interaction: discord.Interaction, scope: str) -> None:
    await interaction.response.send_message(f"usage={scope}")


class HarnessBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.reached = asyncio.Event()  # a waiting command has started
        self.release = asyncio.Event()  # the test lets it go on
        self.errors: list[BaseException] = []
        self.error_seen = asyncio.Event()
        self.clicks: list[tuple[str, int, int]] = []
        self.modal_values: list[str] = []

    async def setup_hook(self) -> None:
        tree = self.tree
        tree.on_error = self._on_app_command_error
        tree.add_command(maker)
        self.add_view(GalleryButtons(self))

        @tree.command(name="render", description="defer, then follow up with files")
        async def render(interaction: discord.Interaction, prompt: str, count: int = 1, size: int = 16) -> None:
            await interaction.response.defer(thinking=True)
            files = [discord.File(io.BytesIO(bytes([i]) * size), f"render-{i}.png") for i in range(count)]
            await interaction.followup.send(f"rendered {prompt}", files=files)

        @tree.command(name="card", description="answers at once with a file (multipart callback)")
        async def card(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("your card", file=discord.File(io.BytesIO(b"CARD"), "card.png"))

        @tree.command(name="slow", description="answers only when the test releases it")
        async def slow(interaction: discord.Interaction) -> None:
            self.reached.set()
            await self.release.wait()
            await interaction.response.send_message("finally")

        @tree.command(name="longjob", description="defers, follows up when released")
        async def longjob(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            self.reached.set()
            await self.release.wait()
            await interaction.followup.send("job done")

        @tree.command(name="post", description="post in a channel with the bot token")
        async def post(interaction: discord.Interaction, text: str, buttons: bool = False) -> None:
            channel = interaction.guild.get_channel(interaction.channel_id) or interaction.channel
            view = GalleryButtons(self) if buttons else discord.utils.MISSING
            message = await channel.send(text, view=view)
            await interaction.response.send_message(f"posted {message.id}", ephemeral=True)

        @tree.command(name="whoami", description="locale and permissions as discord.py sees them")
        async def whoami(interaction: discord.Interaction) -> None:
            perms = interaction.permissions
            await interaction.response.send_message(
                f"locale={interaction.locale.value} manage_guild={perms.manage_guild} "
                f"roles={sorted(r.name for r in interaction.user.roles)} limit={interaction.filesize_limit}"
            )

        @tree.command(name="feedback", description="opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal(self))

        @tree.command(name="pick", description="autocompleted maker names")
        async def pick(interaction: discord.Interaction, maker: str) -> None:
            await interaction.response.send_message(f"picked {maker}")

        @pick.autocomplete("maker")
        async def pick_maker(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["aoi", "akane", "midori"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @tree.context_menu(name="Report image")
        async def report(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"reported {message.id} by {message.author.id}", ephemeral=True)

        await tree.sync()

    async def _on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        self.errors.append(getattr(error, "original", error))
        self.error_seen.set()
