"""The use cases, transport-agnostic: Discord cogs, the web gallery and the CLI all call these.

Each use case checks its rules and raises `Refusal` (a message key and its parameters, translated by the
adapter into the user's language) when it says no. Nothing here knows about Discord or HTTP."""
from bot.core.errors import Refusal
from bot.core.app import Actor, Core

__all__ = ["Actor", "Core", "Refusal"]
