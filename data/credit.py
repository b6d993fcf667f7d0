"""The artist's public credit: the one rule the watermark, Discord, the web gallery and the command line all use.

Only a *verified* social account may speak for an artist (an account linked but never proven is anyone's claim);
with several, the first proven one, so the credit never flips between posts. Without one, the display name."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from data.models import SocialAccount, User


@dataclass(frozen=True)
class Credit:
    name: str  # "@aoi_draws", or the display name, or "artist 12"
    profile_url: str | None = None  # the verified account's page, when there is one


def public_credit(session: Session, user_id: int | None) -> Credit:
    if user_id is None:
        return Credit("unknown artist")
    return public_credits(session, [user_id])[user_id]


def public_credits(session: Session, user_ids: Iterable[int]) -> dict[int, Credit]:
    """The credit of each user, in two queries however many there are (gallery pages list many artists)."""
    ids = set(user_ids)
    if not ids:
        return {}
    credits: dict[int, Credit] = {}
    accounts = session.exec(select(SocialAccount).where(SocialAccount.user_id.in_(ids),
                                                        SocialAccount.verified_at.is_not(None))
                            .order_by(SocialAccount.verified_at, SocialAccount.id)).all()
    for account in accounts:
        if account.handle and account.user_id not in credits:
            credits[account.user_id] = Credit(f"@{account.handle.lstrip('@')}", account.profile_url or None)
    for user in session.exec(select(User).where(User.id.in_(ids - credits.keys()))).all():
        credits[user.id] = Credit(user.display_name or f"artist {user.id}")
    for missing in ids - credits.keys():
        credits[missing] = Credit(f"artist {missing}")
    return credits
