"""What people meet: the use cases (bot.core) and their adapters — Discord cogs, the web gallery, the CLI."""
