"""Account proof and portfolio indexing: the first half of the ownership gate, as use cases."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.disputes import settle_claims
from bot.core.errors import Refusal
from data.models import Artwork, Challenge, SocialAccount, User, utcnow
from verification import accounts as proof
from verification.provenance import read_provenance
from verification.providers.base import SocialError
from verification.registry import ArtworkItem, ClaimResult, claim_artworks

log = logging.getLogger("mimic.core")


@dataclass
class VerificationResult:
    social_account: SocialAccount
    found_in: str
    indexed: int = 0  # posted images claimed for this artist now
    already_known: int = 0
    conflicts: list[str] = field(default_factory=list)  # posts of a work another artist posted earlier
    skipped: list[str] = field(default_factory=list)  # media that could not be used, with reasons
    moved: list[str] = field(default_factory=list)  # posts of works this artist posted earlier: theirs now
    disputed: list[str] = field(default_factory=list)  # posts whose dates can't decide: moderators will
    changes: list = field(default_factory=list)  # bot.core.disputes.OwnershipChange, one per work moved here
    notices: list = field(default_factory=list)  # bot.core.disputes.Notice: what each person must be told


@dataclass
class VerificationStatus:
    accounts: list[SocialAccount]
    open_challenge: Challenge | None
    artworks: int


def _refusal(exc: SocialError, platform: str) -> Refusal:
    """The verification layer's errors as message keys, so people read them in their own language."""
    from verification.accounts import AlreadyLinked, ChallengeExpired, CodeNotFound, NoChallenge
    from verification.providers.base import (AccessTierLacking, AccountNotFound, AccountProtected,
                                             AccountSuspended, AuthFailed, ProviderUnavailable, RateLimited,
                                             UsageCapReached, display_platform)

    name = display_platform(platform)
    if isinstance(exc, RateLimited) and exc.reset_at is not None:  # the true reset time the platform announced
        return Refusal("verify.rate_limited_until", platform=name, until=f"{exc.reset_at:%H:%M}", detail=str(exc))
    keys = [(AccountNotFound, "verify.account_not_found"), (AccountProtected, "verify.protected"),
            (AccountSuspended, "verify.suspended"), (RateLimited, "verify.rate_limited"),
            (UsageCapReached, "verify.usage_cap"), (AccessTierLacking, "verify.access_tier"),
            (AuthFailed, "verify.provider_unavailable"),
            (ProviderUnavailable, "verify.provider_unavailable"), (NoChallenge, "verify.no_challenge"),
            (ChallengeExpired, "verify.expired"), (CodeNotFound, "verify.code_not_found"),
            (AlreadyLinked, "verify.already_linked")]
    for kind, key in keys:
        if isinstance(exc, kind):
            return Refusal(key, platform=name, handle=getattr(exc, "handle", ""), detail=str(exc),
                           period=getattr(exc, "period", ""), endpoint=getattr(exc, "endpoint", ""))
    return Refusal("verify.failed", detail=str(exc))


def _provider(core: Core, platform: str):
    provider = core.providers.get(platform)
    if provider is None:
        raise Refusal("verify.platform_disabled", platform=platform)
    return provider


async def _ensure_not_banned(core: Core, actor: Actor) -> None:
    user = await core.db(lambda s: s.get(User, actor.user_id))
    if user is None or user.banned:
        raise Refusal("user.banned")


async def start_verification(core: Core, actor: Actor, platform: str, handle: str) -> Challenge:
    await _ensure_not_banned(core, actor)
    _provider(core, platform)
    try:
        return await asyncio.to_thread(proof.start_challenge, core.app.db, core.settings, actor.user_id, platform,
                                       handle, now=core.clock())
    except SocialError as exc:
        raise _refusal(exc, platform) from None


async def check_verification(core: Core, actor: Actor, *, index_limit: int = 3200) -> VerificationResult:
    """Find the code, link the account, then index its posted images so uploads can be matched."""
    await _ensure_not_banned(core, actor)
    challenge = await core.db(lambda s: s.exec(
        select(Challenge).where(Challenge.user_id == actor.user_id, Challenge.used_at.is_(None))
        .order_by(Challenge.created_at.desc())).first())
    if challenge is None:
        raise Refusal("verify.no_challenge")
    provider = _provider(core, challenge.platform)
    try:
        link = await proof.check_challenge(core.app.db, core.settings, provider, actor.user_id, now=core.clock())
        portfolio = await proof.fetch_portfolio(provider, link.account, core.settings, limit=index_limit)
    except SocialError as exc:
        raise _refusal(exc, challenge.platform) from None
    result = VerificationResult(social_account=link.social_account, found_in=link.found_in,
                                skipped=[f"{s.post_url}: {s.reason}" for s in portfolio.skipped])
    await index_portfolio(core, actor.user_id, link.social_account, portfolio.items, result)

    def stamp(s: Session) -> None:
        row = s.get(SocialAccount, link.social_account.id)
        row.last_indexed_at = core.clock()
        s.add(row)
        core.audit(s, actor, "verify.link", "social_account", row.id, platform=row.platform, handle=row.handle,
                   indexed=result.indexed, conflicts=len(result.conflicts), moved=len(result.moved),
                   disputed=len(result.disputed))
        s.commit()
    await core.db(stamp)
    return result


async def index_portfolio(core: Core, user_id: int, social_account: SocialAccount, items, result) -> None:
    """Hash each posted image and claim it for the artist: the earliest post owns a work (verification.registry).
    A work this artist posted earlier than its holder moves here with its consequences carried out before this
    returns (bot.core.disputes); unclear dates open a dispute."""
    from bot.core.ownership import fingerprint_bytes

    total = ClaimResult()
    known = await core.db(lambda s: set(s.exec(select(Artwork.media_url).where(Artwork.owner_id == user_id))))
    for item in items:
        if item.media_url in known:
            result.already_known += 1
            continue
        generated = (await asyncio.to_thread(read_provenance, item.image_bytes)).generated
        if generated:  # a posted AI image (ours carry trainedAlgorithmicMedia) is nobody's work to train on
            result.skipped.append(f"{item.post_url}: the file says it was made by AI ({generated[0].source})")
            continue
        try:
            image_blob, fp, fp_blob = await fingerprint_bytes(core, item.image_bytes)
        except Refusal as exc:
            result.skipped.append(f"{item.post_url}: {exc.params.get('reason', exc.key)}")
            continue
        work = ArtworkItem(fingerprint=fp, source_url=item.post_url, media_url=item.media_url,
                           posted_at=item.posted_at, social_account_id=social_account.id, blob=image_blob,
                           fingerprint_blob=fp_blob)
        claimed = await asyncio.to_thread(claim_artworks, core.app.db, user_id, [work], registry=core.registry)
        result.indexed += len(claimed.claimed)
        result.already_known += len(claimed.already_yours)
        result.conflicts += [item.post_url for _ in claimed.conflicts]
        result.moved += [item.post_url for _ in claimed.moved]
        result.disputed += [item.post_url for _ in claimed.disputed]
        total.moved += claimed.moved
        total.disputed += claimed.disputed
        known.add(item.media_url)
    changes, notices = await settle_claims(core, total)
    result.changes += changes
    result.notices += [n for change in changes for n in change.notices] + notices


async def verification_status(core: Core, actor: Actor) -> VerificationStatus:
    def query(s: Session) -> VerificationStatus:
        accounts = list(s.exec(select(SocialAccount).where(SocialAccount.user_id == actor.user_id,
                                                           SocialAccount.verified_at.is_not(None))))
        challenge = s.exec(select(Challenge).where(Challenge.user_id == actor.user_id, Challenge.used_at.is_(None),
                                                   Challenge.expires_at > utcnow())
                           .order_by(Challenge.created_at.desc())).first()
        count = len(s.exec(select(Artwork.id).where(Artwork.owner_id == actor.user_id)).all())
        return VerificationStatus(accounts=accounts, open_challenge=challenge, artworks=count)
    return await core.db(query)
