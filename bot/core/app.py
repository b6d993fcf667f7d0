"""The Core: one object holding the parts the use cases need, and the actor who asks."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.errors import Refusal
from data.context import AppContext
from data.models import AuditEvent, User, utcnow
from engine.queue import JobQueue

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who is asking, as the adapter established it. `is_moderator` comes from the platform's permissions."""

    user_id: int
    is_moderator: bool = False
    guild_id: int | None = None
    channel_id: int | None = None
    locale: str = "en"
    operator: bool = False  # the install's operator at the command line (`mimic admin`): no user row of their own

    @classmethod
    def for_operator(cls) -> "Actor":
        """The operator of the install: a moderator everywhere, recorded in the audit log as `by: operator`."""
        return cls(user_id=0, is_moderator=True, operator=True)

    def require_moderator(self) -> None:
        if not self.is_moderator:
            raise Refusal("permission.moderator_only")


@dataclass
class Core:
    app: AppContext
    queue: JobQueue
    providers: dict = field(default_factory=dict)  # platform -> verification provider
    clock: Callable[[], datetime] = utcnow
    _registry: object = None
    _content_index: object = None

    @property
    def registry(self):
        """The global artwork registry (built on first use: it loads every claim's hash)."""
        if self._registry is None:
            from verification.registry import Registry

            self._registry = Registry(self.app.db)
        return self._registry

    @property
    def content_index(self):
        """Generated images by content, for tracing copies without a mark (loaded on the first such trace; one per
        process: the bot and the web gallery of `mimic run` share it)."""
        if self._content_index is None:
            from bot.core.content_index import ContentIndex

            if "content_index" not in self.app.caches:
                self.app.caches["content_index"] = ContentIndex(self.app.db, self.app.blobs,
                                                                max_images=self.settings.trace_index_max_images)
            self._content_index = self.app.caches["content_index"]
        return self._content_index

    @classmethod
    def create(cls, app: AppContext, *, providers: dict | None = None) -> "Core":
        if providers is None:
            from verification.accounts import build_providers

            providers = build_providers(app.settings)
        return cls(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers=providers)

    @property
    def settings(self):
        return self.app.settings

    async def db(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in a thread: database calls never block the event loop."""
        def work() -> T:
            with self.app.db.session() as session:
                return fn(session)
        return await asyncio.to_thread(work)

    # users --------------------------------------------------------------------------------------------
    async def user_for_discord(self, discord_id: int, display_name: str = "", locale: str = "en") -> User:
        def get_or_create(s: Session) -> User:
            from sqlmodel import select

            user = s.exec(select(User).where(User.discord_id == discord_id)).first()
            if user is None:
                user = User(discord_id=discord_id, display_name=display_name, locale=locale)
            elif display_name and (user.display_name != display_name or user.locale != locale):
                user.display_name, user.locale = display_name, locale
            else:
                return user
            s.add(user)
            try:
                s.commit()
            except IntegrityError:  # two first commands of one person at once: the other one created the row
                s.rollback()
                return s.exec(select(User).where(User.discord_id == discord_id)).one()
            s.refresh(user)
            return user
        return await self.db(get_or_create)

    async def local_user(self, name: str) -> User:
        """A user without Discord (CLI, demo)."""
        def create(s: Session) -> User:
            from sqlmodel import select

            user = s.exec(select(User).where(User.display_name == name, User.discord_id.is_(None))).first()
            if user is None:
                user = User(display_name=name)
                s.add(user)
                s.commit()
                s.refresh(user)
            return user
        return await self.db(create)

    @staticmethod
    def audit(s: Session, actor: Actor | None, action: str, target_kind: str = "", target_id: int | None = None,
              **detail) -> None:
        if actor is not None and actor.operator:
            detail = {**detail, "by": "operator"}
        s.add(AuditEvent(actor_id=actor.user_id if actor and not actor.operator else None, action=action,
                         target_kind=target_kind, target_id=target_id, detail=detail))

    async def aclose(self) -> None:
        for provider in self.providers.values():  # their HTTP sessions
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()
        await self.queue.aclose()
