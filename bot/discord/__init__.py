"""The Discord adapter: discord.py cogs that parse, check, call bot.core and render; a results poster that turns
worker events into gallery posts. Entry points: `client.run_bot(app)` and `commands_tree.command_tree_json()`."""
