"""Per-person cooldowns on generation requests (commands and the reroll/variations buttons alike).

discord.py's `checks.cooldown` is fixed when the module is imported; ours reads its rate from Settings and is
shared by commands and buttons, so a click cannot dodge the limit the command has. The daily quota is a product
rule and lives in bot.core; this only keeps one person from flooding the queue in a burst."""
from __future__ import annotations

import time

import discord
from discord import app_commands

PURGE_AT = 1000  # buckets kept before idle ones are dropped


class UserCooldowns:
    def __init__(self, rate: int, per: float):
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, user_id: int) -> None:
        """Count one request; raise CommandOnCooldown (answered politely by bot.discord.errors) when over."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        if len(self._buckets) >= PURGE_AT:
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens(now) < self.rate}
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        retry_after = bucket.update_rate_limit(now)
        if retry_after:
            raise app_commands.CommandOnCooldown(bucket, retry_after)


def generation_cooldown():
    """A check for the generation commands, run before they defer (the polite answer is immediate)."""
    async def predicate(interaction: discord.Interaction) -> bool:
        interaction.client.generation_cooldowns.hit(interaction.user.id)  # type: ignore[attr-defined]
        return True
    return app_commands.check(predicate)
