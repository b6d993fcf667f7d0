"""The `mimic` command line: a thin adapter that builds settings and calls the parts.

Configuration problems end with one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.logs import configure_logging
from data.settings import ConfigError, Settings, load_settings, redact

EXIT_CONFIG = 2


def _port(text: str) -> int:
    """--port: a TCP port, refused by argparse in one line (exit 2) when it is not one."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port lies between 0 and 65535 (not {port})")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mimic", description="Consent-first style makers for artists and fans.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="bot, web gallery and worker together (a small install)")
    run.add_argument("--no-worker", action="store_true", help="leave training and generation to other machines")
    run.add_argument("--port", type=_port, help="web gallery port (default: WEB_PORT)")

    bot = sub.add_parser("bot", help="the Discord bot (needs DISCORD_TOKEN)")
    bot_sub = bot.add_subparsers(dest="bot_command", metavar="SUBCOMMAND")
    commands = bot_sub.add_parser("commands", help="print the application command tree without connecting")
    commands.add_argument("--json", action="store_true", help="as JSON")

    worker = sub.add_parser("worker", help="an arq worker for training and generation (one per GPU)")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")

    web = sub.add_parser("web", help="the public web gallery")
    web.add_argument("--port", type=_port, help="port (default: WEB_PORT)")
    web.add_argument("--host", help="address to bind (default: WEB_HOST)")
    web.add_argument("--demo", action="store_true", help="serve the world `mimic demo` left (var/demo)")

    demo = sub.add_parser("demo", help="offline end-to-end demo: no accounts, no network")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="where to write the demo's images")
    demo.add_argument("--steps", type=int, default=None, help="training steps (default: a quick run)")
    demo.add_argument("-v", "--verbose", action="store_true", help="show the logs of the worker and libraries")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the newest schema")
    upgrade.add_argument("--json", action="store_true", help="as JSON")
    from bot import commands_disputes  # the disputes CLI and the orphan pruning keep their arguments beside their code

    commands_disputes.add_prune_arguments(db_sub)
    commands_disputes.add_arguments(sub)

    verify = sub.add_parser("verify-files", help="match candidate images against a folder of posted images")
    from verification.verify_files import add_verify_files_arguments  # the contract lives beside its code

    add_verify_files_arguments(verify)

    trace = sub.add_parser("trace", help="read the invisible trace id of an image and find its generation")
    trace.add_argument("image", type=Path)
    trace.add_argument("--json", action="store_true", help="as JSON")
    trace.add_argument("--demo", action="store_true", help="look it up in the world `mimic demo` left")

    admin = sub.add_parser("admin", help="operator commands: users, makers, revoke, ban, unban, export, erase")
    from bot.commands_admin import add_admin_arguments

    add_admin_arguments(admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = None
    try:
        settings = load_settings()
        configure_logging(settings)
        return _dispatch(args, settings)
    except ConfigError as exc:
        message = redact(str(exc), settings) if settings is not None else str(exc)
        print(f"mimic: configuration error: {message}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if getattr(args, "demo", False) or getattr(args, "admin_demo", False):  # `mimic admin --demo users` too
        settings = settings.for_demo()
    if command == "disputes" or (command == "db" and args.db_command == "prune-orphans"):
        from bot.commands_disputes import run_command

        return run_command(settings, args)
    if command == "db":
        from bot.console import Progress
        from data.db import Database

        db = Database.from_settings(settings)
        applied = db.upgrade(progress=Progress)  # a bar on a terminal's stderr; stdout stays the contract
        if args.json:
            print(json.dumps({"schema": "up to date", "dialect": db.engine.dialect.name, "applied": applied}))
        else:
            print(f"database schema is up to date ({db.engine.dialect.name})"
                  + (f"; applied {', '.join(applied)}" if applied else ""))
        return 0
    if command == "verify-files":
        from bot.console import Progress
        from verification.verify_files import run_from_args

        return run_from_args(args, progress=Progress)  # bars on a terminal's stderr; stdout stays the contract
    if command == "trace":
        from bot.commands_trace import trace_command

        return trace_command(settings, args.image, as_json=args.json)
    if command == "admin":
        from bot.commands_admin import admin_command

        return admin_command(settings, args)
    if command == "bot" and args.bot_command == "commands":
        from bot.discord.commands_tree import command_tree_json

        print(json.dumps(command_tree_json(), ensure_ascii=False, indent=2 if not args.json else None))
        return 0
    if command == "demo":
        if not args.verbose:  # before torch and the model libraries are imported: they read it then
            from bot.console import quiet_libraries

            quiet_libraries()
        from bot.demo import run_demo

        return asyncio.run(run_demo(settings, args.out, steps=args.steps, verbose=args.verbose))
    from bot.runner import run_services

    services = {"run": {"bot", "web", "worker"}, "bot": {"bot"}, "worker": {"worker"}, "web": {"web"}}[command]
    if command == "run" and args.no_worker:
        services.discard("worker")
    port = getattr(args, "port", None)
    host = getattr(args, "host", None)
    return asyncio.run(run_services(settings, services, port=port, host=host, burst=getattr(args, "burst", False)))


if __name__ == "__main__":
    sys.exit(main())
