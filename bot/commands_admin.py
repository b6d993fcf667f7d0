"""`mimic admin ...`: the operator's commands. Each parses, calls the use case the web and Discord share, and
prints; with `--json` the lists are one JSON document on stdout. `--demo` reads the world `mimic demo` left, found
by the same Settings.for_demo() as `mimic web --demo` and `mimic trace --demo`.

Refusals end with one line on stderr and exit status 1 (a person or maker that does not exist, erase without
--yes); configuration problems with status 2, as everywhere in the CLI."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.i18n import t
from data.settings import Settings


def add_admin_arguments(admin: argparse.ArgumentParser) -> None:
    # `mimic admin --demo users` as well as `mimic admin users --demo` (its own dest: a subcommand's default
    # would overwrite the value parsed here)
    admin.add_argument("--demo", dest="admin_demo", action="store_true", help="act on the world `mimic demo` left")
    sub = admin.add_subparsers(dest="admin_command", metavar="SUBCOMMAND", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_)
        parser.add_argument("--demo", action="store_true", help="act on the world `mimic demo` left (var/demo)")
        return parser
    command("users", help_="every person: id, Discord id, name, accounts, makers, ban").add_argument(
        "--json", action="store_true", help="as JSON")
    command("makers", help_="every maker: owner, status, usage scope, visibility").add_argument(
        "--json", action="store_true", help="as JSON")
    command("revoke", help_="revoke a maker (jobs stop, its LoRA is deleted)").add_argument("maker")
    ban = command("ban", help_="ban a person (by id, Discord id, @handle or name)")
    ban.add_argument("user")
    ban.add_argument("--reason", default="", help="why (kept for moderators)")
    command("unban", help_="lift a ban").add_argument("user")
    export = command("export", help_="everything stored about a person, as one zip (JSON and images)")
    export.add_argument("user")
    export.add_argument("--out", type=Path, required=True, help="the zip file to write")
    erase = command("erase", help_="delete a person's account (keeps only what moderation must keep)")
    erase.add_argument("user")
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")


def is_demo(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "demo", False) or getattr(args, "admin_demo", False))


def admin_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runner import ensure_schema
    from data.context import AppContext
    from data.redis import ping_socket, stop_embedded_redis

    sock = (settings.var_dir / "redis.sock").resolve()
    ours = settings.uses_embedded_redis and not ping_socket(sock)  # we start it: we stop it again
    app = AppContext.create(settings)
    core = Core.create(app, providers={})
    try:
        ensure_schema(app, upgrade=is_demo(args))  # the demo's own world follows the code; an install runs db upgrade
        return await _dispatch(core, args)
    except Refusal as refusal:
        print(f"mimic admin: {t(refusal.key, 'en', **refusal.params)}", file=sys.stderr)
        return 1
    finally:
        await core.aclose()
        await app.aclose()
        if ours:
            stop_embedded_redis(settings.var_dir)


async def _dispatch(core: Core, args: argparse.Namespace) -> int:
    from bot.core import admin, data_rights, makers, moderation

    operator = Actor.for_operator()
    command = args.admin_command
    if command in ("users", "makers"):
        rows = await (admin.list_users if command == "users" else admin.list_all_makers)(core, operator)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        else:
            for row in rows:
                print(_line(command, row))
        return 0
    if command == "revoke":
        maker = await makers.revoke_maker(core, operator, args.maker)
        print(t("admin.revoked", "en", name=maker.name))
        return 0
    user = await admin.resolve_user(core, args.user)
    who = f"#{user.id}" + (f" ({user.display_name})" if user.display_name else "")
    if command == "ban":
        await moderation.ban_user(core, operator, user.id, args.reason)
        print(t("ban.done", "en", user=who))
    elif command == "unban":
        await moderation.unban_user(core, operator, user.id)
        print(t("admin.unbanned", "en", user=who))
    elif command == "export":
        from bot.console import Progress

        with Progress("exporting images") as bar:  # a bar on a terminal's stderr only
            data = await data_rights.export_user(core, operator, user.id,
                                                 progress=lambda done, total: bar.update(done, total=total))
        try:
            args.out.write_bytes(data)
        except OSError as exc:
            raise Refusal("admin.cannot_write", path=str(args.out), reason=exc.strerror or str(exc)) from None
        print(t("admin.exported", "en", user=who, path=str(args.out), size=len(data)))
    elif command == "erase":
        if not args.yes:
            raise Refusal("admin.erase_confirm", user=who)
        erased = await data_rights.erase_user(core, operator, user.id)
        print(t("admin.erased", "en", user=who, makers=len(erased.makers_revoked), files=erased.blobs_deleted))
    return 0


def _line(kind: str, row: dict) -> str:
    if kind == "users":
        flags = [f for f, on in (("banned", row["banned"]), ("erased", row["erased"])) if on]
        accounts = ", ".join(f"{a['platform']}:@{a['handle']}" for a in row["accounts"]) or "-"
        return (f"#{row['id']}\t{row['name'] or '-'}\tdiscord={row['discord_id'] or '-'}\t{accounts}\t"
                f"makers={row['makers']}\tgenerations={row['generations']}" + (f"\t{' '.join(flags)}" if flags else ""))
    return (f"#{row['id']}\t{row['name']}\t{row['status']}\tby #{row['owner_id']} {row['owner'] or '-'}\t"
            f"{row['usage']}/{row['visibility']}\tgenerations={row['generations']}")
