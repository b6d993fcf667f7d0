"""The gateway WebSocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatches.

Transport compression: discord.py asks for `compress=zstd-stream` when the `zstandard` package (or
Python 3.14's compression.zstd) is importable, else `compress=zlib-stream`. Both are honoured: one
compressor per connection, flushed after every message (zlib Z_SYNC_FLUSH / zstd block flush), sent as
binary frames. Without the parameter, or with zstd asked but no zstd module here, plain text frames are
sent, which discord.py also accepts."""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, ACK = (
    0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11,
)
CLOSE_AUTHENTICATION_FAILED = 4004
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
CLOSE_INVALID_SHARD = 4010  # "You sent us an invalid shard when identifying."
CLOSE_SHARDING_REQUIRED = 4011  # "The session would have handled too many guilds"
MAX_GUILDS_PER_SHARD = 2500  # https://discord.com/developers/docs/topics/gateway#sharding


@dataclass
class GatewaySession:
    session_id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    sent: list[dict] = field(default_factory=list)  # dispatches kept for RESUME
    ws: "Connection | None" = None

    def covers(self, guild_id: int | None) -> bool:
        """Sharding (https://discord.com/developers/docs/topics/gateway#sharding): a guild's events go to shard
        (guild_id >> 22) % num_shards; direct messages go to shard 0 only."""
        shard_id, count = self.shard
        return shard_id == 0 if guild_id is None else (guild_id >> 22) % count == shard_id


def _stream_compressor(kind: str | None) -> Callable[[bytes], bytes] | None:
    """A function compressing one message into the connection's stream, or None for plain text."""
    if kind == "zlib-stream":
        context = zlib.compressobj()
        return lambda data: context.compress(data) + context.flush(zlib.Z_SYNC_FLUSH)
    if kind == "zstd-stream":
        try:
            import zstandard
        except ImportError:
            return None
        zstd = zstandard.ZstdCompressor().compressobj()
        return lambda data: zstd.compress(data) + zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    return None


class Connection:
    """One WebSocket connection, with its own compression context."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self._compress = _stream_compressor(compress)
        self.compressed = self._compress is not None
        self._lock = asyncio.Lock()

    async def send(self, message: dict) -> None:
        text = json.dumps(message, separators=(",", ":"))
        async with self._lock:  # compressed frames must leave in compression order
            if self.ws.closed:
                return
            if self._compress is not None:
                await self.ws.send_bytes(self._compress(text.encode()))
            else:
                await self.ws.send_str(text)


class Gateway:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0  # successful IDENTIFYs (a restarted bot identifies again)
        self.connections: set[Connection] = set()
        self.connect_queries: list[dict[str, str]] = []  # e.g. {"v": "10", "encoding": "json", "compress": "zlib-stream"}

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, request.query.get("compress"))
        self.connect_queries.append(dict(request.query) | {"compressed": str(conn.compressed)})
        self.connections.add(conn)
        session: GatewaySession | None = None
        try:
            await conn.send({"op": HELLO, "d": {"heartbeat_interval": self.fake.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op, data = payload.get("op"), payload.get("d")
                if op == HEARTBEAT:
                    await conn.send({"op": ACK})
                elif op == IDENTIFY:
                    session = await self._identify(conn, data)
                    if session is None:
                        break
                elif op == RESUME:
                    session = await self._resume(conn, data)
                elif op == REQUEST_MEMBERS:
                    await self._send_member_chunk(session, data)
                elif op in (PRESENCE, VOICE):
                    pass
                else:
                    log.debug("fake gateway ignores op %s", op)
        finally:
            self.connections.discard(conn)
            if session is not None and session.ws is conn:
                session.ws = None
        return ws

    async def _identify(self, conn: Connection, data: dict) -> GatewaySession | None:
        if data.get("token") not in (self.fake.token, f"Bot {self.fake.token}"):
            await conn.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        # IDENTIFY's optional "shard" is [shard_id, num_shards], with 0 <= shard_id < num_shards
        # (https://discord.com/developers/docs/events/gateway-events#identify)
        shard = data.get("shard") or [0, 1]
        try:
            shard_id, count = int(shard[0]), int(shard[1])
        except (TypeError, ValueError, IndexError):
            shard_id, count = -1, 0
        if not (count >= 1 and 0 <= shard_id < count):
            await conn.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return None
        if sum(1 for g in self.fake.guilds.values() if (g.id >> 22) % count == shard_id) > MAX_GUILDS_PER_SHARD:
            await conn.ws.close(code=CLOSE_SHARDING_REQUIRED, message=b"Sharding required.")
            return None
        session = GatewaySession(secrets.token_hex(16), (shard_id, count), int(data.get("intents") or 0))
        session.ws = conn
        self.sessions[session.session_id] = session
        guilds = [g for g in self.fake.guilds.values() if session.covers(g.id)]
        ready = {
            "v": 10,
            "user": self.fake.bot_user.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.fake.gateway_url,
            "application": {"id": str(self.fake.application_id), "flags": self.fake.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if data.get("shard"):
            ready["shard"] = list(session.shard)
        await self._dispatch_to(session, "READY", ready)
        for guild in guilds:
            await self._dispatch_to(session, "GUILD_CREATE", guild.payload())
        self.identify_count += 1
        self.fake.signal.bump()
        return session

    async def _resume(self, conn: Connection, data: dict) -> GatewaySession | None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") not in (self.fake.token, f"Bot {self.fake.token}"):
            await conn.send({"op": INVALID_SESSION, "d": False})
            return None
        session.ws = conn
        last = int(data.get("seq") or 0)
        for message in session.sent:
            if message["s"] > last:
                await conn.send(message)
        await self._dispatch_to(session, "RESUMED", {})
        self.fake.resumes += 1
        self.fake.signal.bump()
        return session

    async def _send_member_chunk(self, session: GatewaySession | None, data: dict) -> None:
        if session is None:
            return
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [m.payload() for m in guild.members.values() if not wanted or m.user.id in wanted]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _dispatch_to(self, session: GatewaySession, event: str, data: dict) -> None:
        session.seq += 1
        message = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(message)
        del session.sent[:-1000]  # enough history for a RESUME in tests
        if session.ws is not None:
            await session.ws.send(message)

    async def dispatch(self, event: str, data: dict, guild_id: int | None = None) -> int:
        """Send a dispatch to every session whose shard covers `guild_id`; returns how many got it."""
        targets = [s for s in self.sessions.values() if s.ws is not None and s.covers(guild_id)]
        for session in targets:
            await self._dispatch_to(session, event, data)
        return len(targets)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection: the client closes and RESUMEs."""
        for session in list(self.sessions.values()):
            if session.ws is not None:
                await session.ws.send({"op": RECONNECT, "d": None})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001)
