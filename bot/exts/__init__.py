"""The bot's features, one folder each (python-discord/bot's `bot/exts/` layout): `_cog.py` holds the commands and
views, `__init__.py` the `setup` that discord.py's `load_extension` calls. A feature is loaded by its name; adding a
folder here adds a feature."""
from __future__ import annotations

import pkgutil
from collections.abc import Iterator


def extension_names() -> Iterator[str]:
    """Every feature package under bot.exts, by its import name, in a stable order."""
    for module in sorted(pkgutil.iter_modules(__path__, prefix=f"{__name__}."), key=lambda m: m.name):
        if module.ispkg:
            yield module.name
