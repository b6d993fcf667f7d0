"""What the install's operator reads and does from the command line (`mimic admin ...`): lists of people and
makers, and finding a person by what the operator types. The actions themselves (revoke, ban, export, erase) are
the same use cases Discord and the web call; every one of them, and every list, leaves an audit event."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.core.gallery import aware
from data.models import Generation, Maker, SocialAccount, User


def find_user(s: Session, ref: str) -> User:
    """A person by their id, their Discord id, a linked account's handle (@name) or their display name."""
    ref = ref.strip()
    user = None
    if ref.isdigit() and len(ref) < 20:
        user = s.get(User, int(ref)) or s.exec(select(User).where(User.discord_id == int(ref))).first()
    elif ref:
        account = s.exec(select(SocialAccount).where(SocialAccount.handle == ref.lstrip("@"))).first()
        if account is not None:
            user = s.get(User, account.user_id)
        else:
            named = s.exec(select(User).where(User.display_name == ref).limit(2)).all()
            if len(named) > 1:
                raise Refusal("admin.user_ambiguous", name=ref)
            user = named[0] if named else None
    if user is None:
        raise Refusal("user.not_found")
    return user


async def resolve_user(core: Core, ref: str) -> User:
    return await core.db(lambda s: find_user(s, ref))


def _when(value) -> str | None:
    return aware(value).isoformat() if value else None


async def list_users(core: Core, actor: Actor) -> list[dict]:
    actor.require_moderator()

    def query(s: Session) -> list[dict]:
        makers = dict(s.exec(select(Maker.owner_id, func.count()).group_by(Maker.owner_id)).all())
        requests = dict(s.exec(select(Generation.requester_id, func.count()).group_by(Generation.requester_id)).all())
        accounts: dict[int, list[dict]] = {}
        for a in s.exec(select(SocialAccount).order_by(SocialAccount.id)):
            accounts.setdefault(a.user_id, []).append({"platform": a.platform, "handle": a.handle,
                                                       "verified": a.verified_at is not None})
        rows = [{"id": u.id, "discord_id": u.discord_id, "name": u.display_name, "banned": u.banned,
                 "erased": u.erased_at is not None, "created_at": _when(u.created_at),
                 "accounts": accounts.get(u.id, []), "makers": makers.get(u.id, 0),
                 "generations": requests.get(u.id, 0)} for u in s.exec(select(User).order_by(User.id))]
        core.audit(s, actor, "admin.users", "user", None, count=len(rows))
        s.commit()
        return rows
    return await core.db(query)


async def list_all_makers(core: Core, actor: Actor) -> list[dict]:
    actor.require_moderator()

    def query(s: Session) -> list[dict]:
        owners = {u.id: u.display_name for u in s.exec(select(User))}
        counts = dict(s.exec(select(Generation.maker_id, func.count()).group_by(Generation.maker_id)).all())
        rows = [{"id": m.id, "name": m.name, "owner_id": m.owner_id, "owner": owners.get(m.owner_id, ""),
                 "status": m.status, "usage": m.usage, "visibility": m.visibility,
                 "generations": counts.get(m.id, 0), "created_at": _when(m.created_at),
                 "revoked_at": _when(m.revoked_at)} for m in s.exec(select(Maker).order_by(Maker.id))]
        core.audit(s, actor, "admin.makers", "maker", None, count=len(rows))
        s.commit()
        return rows
    return await core.db(query)
