"""The public web gallery (aiohttp + Jinja2): a thin adapter over bot.core's gallery and moderation use cases."""
