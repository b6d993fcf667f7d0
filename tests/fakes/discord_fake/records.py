"""What the fake Discord remembers: requests, messages, interactions, and a way to await changes."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# interaction callback types (https://discord.com/developers/docs/interactions/receiving-and-responding)
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15  # https://discord.com/developers/docs/resources/message#message-object-message-flags


class Signal:
    """Wakes every waiter whenever the fake's state changes; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def bump(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        async def _loop() -> T:
            while True:
                event = self._event
                result = check()
                if result:
                    return result
                await event.wait()

        try:
            return await asyncio.wait_for(_loop(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"fake Discord: no {what} within {timeout} s") from None


@dataclass
class RecordedFile:
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    """One REST call as the fake received it."""

    method: str
    path: str  # concrete path after /api/v10, e.g. /channels/123/messages
    route: str  # discord.py-style route key, e.g. "POST /channels/{channel_id}/messages"
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    status: int = 0
    response: Any = None
    at: float = 0.0  # fake clock

    @property
    def error_code(self) -> int | None:
        return self.response.get("code") if isinstance(self.response, dict) else None


@dataclass
class FakeMessage:
    """A message as the fake stores it; `payload` is what Discord would return for it."""

    id: int
    channel_id: int
    payload: dict
    files: list[RecordedFile] = field(default_factory=list)
    source: str = "bot"  # "bot" (bot token) or "interaction" (interaction token/webhook)
    interaction_id: int | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def embeds(self) -> list[dict]:
        return self.payload.get("embeds") or []

    @property
    def components(self) -> list[dict]:
        return self.payload.get("components") or []

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags") or 0)

    @property
    def components_v2(self) -> bool:
        return bool(self.flags & IS_COMPONENTS_V2)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    def custom_ids(self) -> list[str]:
        """Every component custom_id in the message, however deeply nested."""
        found: list[str] = []

        def walk(items: list[dict]) -> None:
            for item in items:
                if item.get("custom_id"):
                    found.append(item["custom_id"])
                walk(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])
                if isinstance(item.get("component"), dict):
                    walk([item["component"]])

        walk(self.components)
        return found

    def text(self) -> str:
        """Content, embed titles/descriptions/fields and Text Display contents: what a user reads."""
        from .components import TEXT_DISPLAY, walk

        parts = [self.content]
        parts += [c.get("content") or "" for c in walk(self.components) if c.get("type") == TEXT_DISPLAY]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for fld in embed.get("fields") or []:
                parts += [fld.get("name") or "", fld.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)


@dataclass
class Callback:
    """One POST /interactions/{id}/{token}/callback."""

    type: int
    data: dict
    files: list[RecordedFile]
    status: int  # HTTP status the fake answered
    error_code: int | None
    latency: float  # real seconds from dispatching the interaction to receiving this callback

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class InteractionHandle:
    """An injected interaction; await what the bot does with it."""

    def __init__(self, *, id: int, token: str, payload: dict, sent_at: float) -> None:
        self.id = id
        self.token = token
        self.payload = payload
        self.sent_at = sent_at  # fake clock, judges the 3 s and 15 min rules
        self.sent_perf = time.perf_counter()  # real time, measures latency
        self.callbacks: list[Callback] = []
        self.followups: list[FakeMessage] = []
        self.original: FakeMessage | None = None
        self.modal: dict | None = None  # data of a MODAL callback
        self.autocomplete: list[dict] | None = None  # choices of an AUTOCOMPLETE_RESULT callback
        self.signal = Signal()  # its own, so that many waiting tests don't wake each other

    @property
    def acknowledged(self) -> bool:
        return any(cb.ok for cb in self.callbacks)

    @property
    def ack_latency(self) -> float | None:
        ok = [cb for cb in self.callbacks if cb.ok]
        return ok[0].latency if ok else None

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    async def wait_callback(self, timeout: float = 5.0) -> Callback:
        """The first callback the bot sent (accepted or refused)."""
        return await self.signal.wait_for(
            lambda: self.callbacks[0] if self.callbacks else None, timeout, f"callback for interaction {self.id}"
        )

    async def wait_followup(
        self, timeout: float = 5.0, predicate: Callable[[FakeMessage], bool] | None = None
    ) -> FakeMessage:
        """The first follow-up message (matching `predicate`) sent with this interaction's token."""

        def check() -> FakeMessage | None:
            return next((m for m in self.followups if predicate is None or predicate(m)), None)

        return await self.signal.wait_for(check, timeout, f"follow-up for interaction {self.id}")

    async def wait_response(
        self, timeout: float = 5.0, predicate: Callable[[FakeMessage], bool] | None = None
    ) -> FakeMessage:
        """The visible answer however the bot gave it: an immediate message, an edit of the deferred
        "thinking" message, or a follow-up. Loading placeholders don't count."""

        def check() -> FakeMessage | None:
            candidates = ([self.original] if self.original else []) + self.followups
            return next(
                (m for m in candidates if not m.loading and not m.deleted and (predicate is None or predicate(m))),
                None,
            )

        return await self.signal.wait_for(check, timeout, f"response to interaction {self.id}")

    async def wait_autocomplete(self, timeout: float = 5.0) -> list[dict]:
        """The choices of the bot's AUTOCOMPLETE_RESULT callback."""
        found = await self.signal.wait_for(
            lambda: (self.autocomplete,) if self.autocomplete is not None else None, timeout, f"autocomplete {self.id}"
        )
        return found[0]

    async def wait_modal(self, timeout: float = 5.0) -> dict:
        return await self.signal.wait_for(lambda: self.modal, timeout, f"modal for interaction {self.id}")
