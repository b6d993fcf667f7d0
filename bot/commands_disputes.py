"""`mimic disputes list|show|decide` for moderators at a terminal, and `mimic db prune-orphans`.

The operator at the terminal acts as a moderator (the local user "operator"); every decision goes through the same
use cases as /review disputes, with the same consequences and audit entries. Notices to the two artists are
printed (the CLI has no way to send a Discord message without the bot)."""
from __future__ import annotations

import argparse
import asyncio
import json

from bot.core.app import Actor, Core
from bot.core.disputes import decide_dispute, decision_notices, dispute_view, open_disputes
from bot.core.errors import Refusal
from bot.core.ownership import prune_orphans
from bot.i18n import t
from data.context import AppContext
from data.settings import Settings


def add_arguments(sub) -> None:
    disputes = sub.add_parser("disputes", help="moderators: ownership disputes (both posts side by side)")
    d_sub = disputes.add_subparsers(dest="disputes_command", metavar="SUBCOMMAND", required=True)
    listing = d_sub.add_parser("list", help="disputes waiting for a decision")
    listing.add_argument("--json", action="store_true", help="as JSON")
    show = d_sub.add_parser("show", help="one dispute")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="as JSON")
    decide = d_sub.add_parser("decide", help="move the work to the claimant, or keep it with the holder")
    decide.add_argument("id", type=int)
    decide.add_argument("decision", choices=["move", "keep"])
    decide.add_argument("--note", default="", help="why (kept in the dispute and the audit log)")
    decide.add_argument("--json", action="store_true", help="as JSON")


def add_prune_arguments(db_sub) -> None:
    prune = db_sub.add_parser("prune-orphans", help="list (or --delete) stored blobs that nothing points at, "
                                                    "such as refused uploads kept by earlier versions")
    prune.add_argument("--delete", action="store_true", help="delete them (default: only list)")
    prune.add_argument("--min-age-hours", type=float, default=1.0,
                       help="only blobs at least this old (an upload in progress is never taken)")
    prune.add_argument("--json", action="store_true", help="as JSON")


def _row(view) -> dict:
    d = view.dispute

    def side(s) -> dict:
        return {"user": s.user.display_name if s.user else None, "user_id": s.user.id if s.user else None,
                "post": s.post_url, "posted_at": s.posted_at.isoformat() if s.posted_at else None, "image": s.blob}
    return {"id": d.id, "status": d.status, "origin": d.origin, "artwork_id": d.artwork_id, "owner_id": view.owner_id,
            "holder": side(view.holder), "claimant": side(view.claimant), "note": d.note}


def _print(row: dict) -> None:
    print(f"dispute {row['id']} ({row['status']}, {row['origin']}), work {row['artwork_id']}")
    for name in ("holder", "claimant"):
        s = row[name]
        print(f"  {name:8} {s['user']} (user {s['user_id']}): {s['post'] or '-'}  {s['posted_at'] or 'no date'}"
              f"  image {s['image'][:12] or '-'}")
    if row["note"]:
        print("  note: " + row["note"].replace("\n", "\n        "))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    app = AppContext.create(settings)
    core = Core.create(app, providers={})
    try:
        if args.command == "db":
            result = await prune_orphans(core, delete=args.delete, min_age_s=args.min_age_hours * 3600)
            if args.json:
                print(json.dumps({"orphans": result.orphans, "deleted": result.deleted, "kept": result.kept}))
            else:
                verb = "deleted" if result.deleted else "found (use --delete to remove them)"
                print(f"{len(result.orphans)} orphaned blobs {verb}; {result.kept} still referenced")
            return 0
        operator = await core.local_user("operator")
        actor = Actor(user_id=operator.id, is_moderator=True)
        if args.disputes_command == "list":
            rows = [_row(v) for v in await open_disputes(core, actor, limit=100)]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
            elif not rows:
                print(t("dispute.empty"))
            for row in [] if args.json else rows:
                _print(row)
            return 0
        if args.disputes_command == "show":
            row = _row(await dispute_view(core, actor, args.id))
            print(json.dumps(row, ensure_ascii=False)) if args.json else _print(row)
            return 0
        dispute, change = await decide_dispute(core, actor, args.id, args.decision, note=args.note)
        notices = await decision_notices(core, dispute, change)
        told = [{"user_id": n.user_id, "locale": n.locale, "text": t(n.text.key, n.locale, **n.text.params)}
                for n in notices]
        if args.json:
            print(json.dumps({"id": dispute.id, "status": dispute.status,
                              "suspended": change.suspended if change else [], "notices": told}, ensure_ascii=False))
        else:
            print(t("dispute.decided", id=dispute.id, decision=dispute.status,
                    makers=(change.suspended if change else []) or "—"))
            for notice in told:
                print(f"  tell user {notice['user_id']} ({notice['locale']}): {notice['text']}")
        return 0
    except Refusal as exc:
        print(f"mimic: {t(exc.key, 'en', **exc.params)}")
        return 1
    finally:
        await core.aclose()
        await app.aclose()


def run_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args))
