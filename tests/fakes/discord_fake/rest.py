"""REST API under /api/v10: what a discord.py bot calls, with Discord's errors, limits and rate-limit headers.

Route templates use discord.py's own parameter names so that `"POST /channels/{channel_id}/messages"`
means the same thing here (for injected 429s) as `discord.http.Route.key` does in the client."""
from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .components import ComponentRuleBroken, check_choices, check_message_components, check_modal
from .interactions import AUTOCOMPLETE, MODAL_SUBMIT
from .oauth import add_oauth_routes, bearer_user, token as oauth_token
from .records import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    MODAL,
    UPDATE_MESSAGE,
    AUTOCOMPLETE_RESULT,
    Callback,
    FakeMessage,
    InteractionHandle,
    RecordedFile,
    RecordedRequest,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

API = "/api/v10"
MAX_FILES = 10
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_BODY = 512 * 1024 * 1024  # the fake reads at most this much of one request


class DiscordError(Exception):
    """Raised by handlers; becomes Discord's JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def unknown(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def invalid_form(field_name: str, code: str, message: str) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", {field_name: {"_errors": [{"code": code, "message": message}]}})


FAKE = web.AppKey("fake", object)
RECORD = web.RequestKey("record", RecordedRequest)
TOUCHED = web.RequestKey("touched", InteractionHandle)  # the interaction whose waiters to wake


def fake_of(request: web.Request) -> FakeDiscord:
    return request.app[FAKE]  # type: ignore[return-value]


def record_of(request: web.Request) -> RecordedRequest:
    return request[RECORD]


def body_json(request: web.Request) -> dict:
    data = record_of(request).json
    return data if isinstance(data, dict) else {}


async def read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """JSON body, or multipart with payload_json and files[n] parts (as discord.py sends them)."""
    if request.content_type == "multipart/form-data":
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        async for part in reader:
            raw = await part.read(decode=False)
            if part.name == "payload_json":
                payload = json.loads(raw)
            elif part.filename is not None:
                ctype = part.headers.get("Content-Type")
                files.append(RecordedFile(part.filename, bytes(raw), ctype))
        return payload, files
    if request.can_read_body:
        raw = await request.read()
        if raw and request.content_type == "application/json":
            return json.loads(raw), []
    return None, []


def check_message_body(body: dict, files: list[RecordedFile], size_limit: int, *, editing: bool = False,
                       was_v2: bool = False) -> None:
    """Discord's checks of a message body; `was_v2`: the edited message carries IS_COMPONENTS_V2."""
    try:
        check_message_components(body, was_v2=was_v2)
    except ComponentRuleBroken as broken:
        raise invalid_form(broken.field, broken.code, broken.message) from None
    if len(files) > MAX_FILES:
        raise invalid_form("files", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
    too_big = [f.filename for f in files if f.size > size_limit]
    if too_big:
        raise DiscordError(413, 40005, "Request entity too large")
    if len(body.get("content") or "") > MAX_CONTENT:
        raise invalid_form("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    if len(body.get("embeds") or []) > MAX_EMBEDS:
        raise invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    if not editing and not (
        body.get("content") or body.get("embeds") or files or body.get("components") or body.get("sticker_ids") or body.get("poll")
    ):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def discord_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the bare `application/json` content type: discord.py only parses JSON when it is exact."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})})


def _reply(request: web.Request, status: int, data: Any = None) -> web.Response:
    record = record_of(request)
    record.status, record.response = status, data
    if status == 204 or data is None:
        return web.Response(status=204 if status < 300 else status)
    return discord_json(data, status=status)


# --- users, gateway, application ------------------------------------------------------------------

async def get_me(request: web.Request) -> web.Response:
    fake = fake_of(request)
    if request.headers.get("Authorization", "").startswith("Bearer "):  # an OAuth2 user's token (see oauth.py)
        user = bearer_user(fake, request.headers["Authorization"])
        if user is None:
            raise DiscordError(401, 0, "401: Unauthorized")
        return _reply(request, 200, user)
    return _reply(request, 200, fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "locale": "en-US"})


async def get_user(request: web.Request) -> web.Response:
    user = fake_of(request).user_by_id(int(request.match_info["user_id"]))
    if user is None:
        raise unknown("User", 10013)
    return _reply(request, 200, user.payload())


async def create_dm(request: web.Request) -> web.Response:
    fake = fake_of(request)
    user = fake.user_by_id(int(body_json(request).get("recipient_id", 0)))
    if user is None:
        raise unknown("User", 10013)
    return _reply(request, 200, fake.dm_channel(user).payload())


async def get_gateway(request: web.Request) -> web.Response:
    return _reply(request, 200, {"url": fake_of(request).gateway_url})


async def get_gateway_bot(request: web.Request) -> web.Response:
    fake = fake_of(request)
    limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
    return _reply(request, 200, {"url": fake.gateway_url, "shards": fake.shard_count, "session_start_limit": limit})


async def get_application(request: web.Request) -> web.Response:
    fake = fake_of(request)
    owner = fake.guild.members[fake.guild.owner_id].user
    return _reply(
        request,
        200,
        {
            "id": str(fake.application_id),
            "name": fake.bot_user.username,
            "description": "fake application",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner.payload(),
            "verify_key": "0" * 64,
            "flags": fake.application_flags,
            "team": None,
            "bot": fake.bot_user.payload(),
            "interactions_endpoint_url": None,
            "summary": "",
            "rpc_origins": [],
        },
    )


# --- application commands -------------------------------------------------------------------------

def _check_app(request: web.Request) -> int | None:
    fake = fake_of(request)
    if int(request.match_info["application_id"]) != fake.application_id:
        raise DiscordError(403, 50001, "Missing Access")
    guild_id = request.match_info.get("guild_id")
    return int(guild_id) if guild_id else None


def _stamp_command(fake: FakeDiscord, command: dict, guild_id: int | None, previous: list[dict]) -> dict:
    same = next((c for c in previous if c["name"] == command["name"] and c.get("type", 1) == command.get("type", 1)), None)
    stamped = dict(command)
    stamped.setdefault("type", 1)
    stamped.setdefault("description", "")  # context-menu commands are sent without one
    stamped.update(
        id=same["id"] if same else str(fake.snowflakes.next()),
        application_id=str(fake.application_id),
        version=str(fake.snowflakes.next()),
        default_member_permissions=command.get("default_member_permissions"),
    )
    if guild_id:
        stamped["guild_id"] = str(guild_id)
    return stamped


async def get_commands(request: web.Request) -> web.Response:
    guild_id = _check_app(request)
    return _reply(request, 200, fake_of(request).commands.get(guild_id, []))


async def put_commands(request: web.Request) -> web.Response:
    fake = fake_of(request)
    guild_id = _check_app(request)
    body = record_of(request).json
    if not isinstance(body, list):
        raise invalid_form("_root", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
    if len(body) > 100:
        raise invalid_form("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    previous = fake.commands.get(guild_id, [])
    fake.commands[guild_id] = [_stamp_command(fake, c, guild_id, previous) for c in body]
    fake.sync_count += 1
    return _reply(request, 200, fake.commands[guild_id])


async def post_command(request: web.Request) -> web.Response:
    fake = fake_of(request)
    guild_id = _check_app(request)
    previous = fake.commands.get(guild_id, [])
    stamped = _stamp_command(fake, body_json(request), guild_id, previous)
    fake.commands[guild_id] = [c for c in previous if c["id"] != stamped["id"]] + [stamped]
    return _reply(request, 200, stamped)


# --- interactions ---------------------------------------------------------------------------------

async def interaction_callback(request: web.Request) -> web.Response:
    fake = fake_of(request)
    record = record_of(request)
    handle = fake.interactions.get(int(request.match_info["webhook_id"]))
    if handle is None or handle.token != request.match_info["webhook_token"]:
        raise unknown("interaction", 10062)
    request[TOUCHED] = handle
    body = body_json(request)
    kind, data = int(body.get("type", 0)), body.get("data") or {}
    latency = time.perf_counter() - handle.sent_perf
    try:
        if handle.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if fake.clock.now() - handle.sent_at > fake.ack_deadline_s:
            raise unknown("interaction", 10062)
        _check_callback_kind(handle, kind)
        if kind == CHANNEL_MESSAGE:
            check_message_body(data, record.files, fake.size_limit_for(handle))
        if kind == UPDATE_MESSAGE:
            target = fake.messages.get(int(handle.payload.get("message", {}).get("id", 0)))
            check_message_body(data, record.files, fake.size_limit_for(handle), editing=True,
                               was_v2=bool(target and target.components_v2))
        try:
            if kind == MODAL:
                check_modal(data)
            if kind == AUTOCOMPLETE_RESULT:
                check_choices(data.get("choices") or [])
        except ComponentRuleBroken as broken:
            raise invalid_form(broken.field, broken.code, broken.message) from None
        if kind not in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL):
            raise invalid_form("type", "BASE_TYPE_CHOICES", f"Value must be one of known callback types, not {kind}.")
    except DiscordError as exc:
        handle.callbacks.append(Callback(kind, data, record.files, exc.status, exc.code, latency))
        raise
    handle.callbacks.append(Callback(kind, data, record.files, 200, None, latency))
    message = _apply_callback(fake, handle, kind, data, record.files)
    if request.query.get("with_response") not in ("1", "true", "True"):
        return _reply(request, 204)
    response: dict[str, Any] = {
        "interaction": {
            "id": str(handle.id),
            "type": handle.payload["type"],
            "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(message and message.ephemeral),
        },
        "resource": {"type": kind},
    }
    if message is not None:
        response["interaction"]["response_message_id"] = str(message.id)
        response["resource"]["message"] = message.payload
    return _reply(request, 200, response)


def _check_callback_kind(handle: InteractionHandle, kind: int) -> None:
    """An autocomplete interaction is answered with choices and nothing else; choices answer nothing else; a modal
    cannot answer a modal's submission (receiving-and-responding, interaction callback types)."""
    interaction_type = handle.payload["type"]
    if (interaction_type == AUTOCOMPLETE) != (kind == AUTOCOMPLETE_RESULT) or (
            kind == MODAL and interaction_type == MODAL_SUBMIT):
        raise invalid_form("type", "INTERACTION_CALLBACK_TYPE_INVALID",
                           f"Callback type {kind} cannot answer an interaction of type {interaction_type}.")


def _apply_callback(fake: FakeDiscord, handle: InteractionHandle, kind: int, data: dict, files: list[RecordedFile]) -> FakeMessage | None:
    if kind == CHANNEL_MESSAGE:
        handle.original = fake.create_message(handle.channel_id, data, files, source="interaction", interaction=handle)
        return handle.original
    if kind == DEFERRED_CHANNEL_MESSAGE:
        flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
        handle.original = fake.create_message(
            handle.channel_id, {"content": "", "flags": flags}, [], source="interaction", interaction=handle
        )
        return handle.original
    if kind in (UPDATE_MESSAGE, DEFERRED_UPDATE_MESSAGE):
        # for a component interaction, "@original" is the message that carries the component
        target = fake.messages.get(int(handle.payload.get("message", {}).get("id", 0)))
        handle.original = target
        if target is not None and kind == UPDATE_MESSAGE:
            fake.edit_message(target, data, files)
        return target
    if kind == MODAL:
        handle.modal = data
    if kind == AUTOCOMPLETE_RESULT:
        handle.autocomplete = data.get("choices") or []
    return None


def _interaction_for_token(request: web.Request) -> InteractionHandle:
    fake = fake_of(request)
    handle = fake.interactions_by_token.get(request.match_info["webhook_token"])
    if handle is None or int(request.match_info["webhook_id"]) != fake.application_id:
        raise unknown("Webhook", 10015)
    if fake.clock.now() - handle.sent_at > fake.token_lifetime_s:
        raise DiscordError(401, 50027, "Invalid Webhook Token")
    if not handle.acknowledged:
        raise unknown("Webhook", 10015)
    request[TOUCHED] = handle
    return handle


def _webhook_message(request: web.Request, handle: InteractionHandle) -> FakeMessage:
    fake = fake_of(request)
    ref = request.match_info["message_id"]
    message = handle.original if ref == "@original" else fake.messages.get(int(ref)) if ref.isdigit() else None
    if message is None or message.deleted or (message.interaction_id != handle.id and message is not handle.original):
        raise unknown("Message", 10008)
    return message


async def webhook_execute(request: web.Request) -> web.Response:
    fake = fake_of(request)
    handle = _interaction_for_token(request)
    body, files = body_json(request), record_of(request).files
    check_message_body(body, files, fake.size_limit_for(handle))
    if handle.original is not None and handle.original.loading:
        # the first follow-up after a deferred response replaces the "thinking..." message
        keep = handle.original.flags & EPHEMERAL
        fake.edit_message(handle.original, body | {"flags": (int(body.get("flags") or 0) & ~LOADING) | keep}, files)
        message = handle.original
    else:
        message = fake.create_message(handle.channel_id, body, files, source="interaction", interaction=handle)
    handle.followups.append(message)
    if request.query.get("wait") in ("true", "1", "True"):
        return _reply(request, 200, message.payload)
    return _reply(request, 204)


async def webhook_get_message(request: web.Request) -> web.Response:
    handle = _interaction_for_token(request)
    return _reply(request, 200, _webhook_message(request, handle).payload)


async def webhook_edit_message(request: web.Request) -> web.Response:
    fake = fake_of(request)
    handle = _interaction_for_token(request)
    message = _webhook_message(request, handle)
    body, files = body_json(request), record_of(request).files
    check_message_body(body, files, fake.size_limit_for(handle), editing=True, was_v2=message.components_v2)
    flags = int(body.get("flags", message.flags & ~LOADING)) | (message.flags & EPHEMERAL)
    fake.edit_message(message, body | {"flags": flags & ~LOADING}, files)
    return _reply(request, 200, message.payload)


async def webhook_delete_message(request: web.Request) -> web.Response:
    handle = _interaction_for_token(request)
    message = _webhook_message(request, handle)
    message.deleted = True
    return _reply(request, 204)


# --- channels and messages ------------------------------------------------------------------------

def _channel(request: web.Request):
    channel = fake_of(request).channels.get(int(request.match_info["channel_id"]))
    if channel is None:
        raise unknown("Channel", 10003)
    return channel


def _channel_message(request: web.Request) -> FakeMessage:
    channel = _channel(request)
    ref = request.match_info["message_id"]
    message = fake_of(request).messages.get(int(ref)) if ref.isdigit() else None
    if message is None or message.deleted or message.channel_id != channel.id:
        raise unknown("Message", 10008)
    return message


async def get_channel(request: web.Request) -> web.Response:
    return _reply(request, 200, _channel(request).payload())


async def create_message(request: web.Request) -> web.Response:
    fake = fake_of(request)
    channel = _channel(request)
    body, files = body_json(request), record_of(request).files
    check_message_body(body, files, fake.upload_limit_bytes)
    message = fake.create_message(channel.id, body, files, source="bot")
    return _reply(request, 200, message.payload)


async def list_messages(request: web.Request) -> web.Response:
    channel = _channel(request)
    limit = min(int(request.query.get("limit", 50)), 100)
    messages = [m.payload for m in fake_of(request).messages_in(channel.id)][::-1][:limit]
    return _reply(request, 200, messages)


async def get_message(request: web.Request) -> web.Response:
    return _reply(request, 200, _channel_message(request).payload)


async def edit_message(request: web.Request) -> web.Response:
    fake = fake_of(request)
    message = _channel_message(request)
    if message.payload["author"]["id"] != str(fake.bot_user.id):
        raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
    body, files = body_json(request), record_of(request).files
    check_message_body(body, files, fake.upload_limit_bytes, editing=True, was_v2=message.components_v2)
    fake.edit_message(message, body, files)
    return _reply(request, 200, message.payload)


async def delete_message(request: web.Request) -> web.Response:
    message = _channel_message(request)
    message.deleted = True
    return _reply(request, 204)


async def typing(request: web.Request) -> web.Response:
    _channel(request)
    return _reply(request, 204)


# --- guilds ---------------------------------------------------------------------------------------

def _guild(request: web.Request):
    guild = fake_of(request).guilds.get(int(request.match_info["guild_id"]))
    if guild is None:
        raise unknown("Guild", 10004)
    return guild


async def get_guild(request: web.Request) -> web.Response:
    data = _guild(request).payload(include_members=False)
    for key in ("channels", "threads", "voice_states", "presences", "members", "joined_at", "large", "member_count"):
        data.pop(key, None)
    return _reply(request, 200, data)


async def get_guild_channels(request: web.Request) -> web.Response:
    return _reply(request, 200, [c.payload() for c in _guild(request).channels.values()])


async def get_roles(request: web.Request) -> web.Response:
    return _reply(request, 200, [r.payload() for r in _guild(request).roles.values()])


async def get_member(request: web.Request) -> web.Response:
    member = _guild(request).members.get(int(request.match_info["user_id"]))
    if member is None:
        raise unknown("Member", 10007)
    return _reply(request, 200, member.payload())


async def list_members(request: web.Request) -> web.Response:
    guild = _guild(request)
    after = int(request.query.get("after", 0))
    limit = min(int(request.query.get("limit", 1)), 1000)
    members = sorted((m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id)
    return _reply(request, 200, [m.payload() for m in members[:limit]])


async def member_role(request: web.Request) -> web.Response:
    guild = _guild(request)
    member = guild.members.get(int(request.match_info["user_id"]))
    role_id = int(request.match_info["role_id"])
    if member is None:
        raise unknown("Member", 10007)
    if role_id not in guild.roles:
        raise unknown("Role", 10011)
    if request.method == "PUT" and role_id not in member.roles:
        member.roles.append(role_id)
    elif request.method == "DELETE" and role_id in member.roles:
        member.roles.remove(role_id)
    return _reply(request, 204)


# --- attachments (the fake's CDN) -----------------------------------------------------------------

async def get_attachment(request: web.Request) -> web.Response:
    stored = fake_of(request).attachments.get(int(request.match_info["attachment_id"]))
    if stored is None or stored.filename != request.match_info["filename"]:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=stored.data, content_type=stored.content_type or "application/octet-stream")


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/users/@me", get_me),
    ("GET", "/users/{user_id}", get_user),
    ("POST", "/users/@me/channels", create_dm),
    ("GET", "/gateway", get_gateway),
    ("GET", "/gateway/bot", get_gateway_bot),
    ("GET", "/oauth2/applications/@me", get_application),
    ("POST", "/oauth2/token", oauth_token),
    ("GET", "/applications/@me", get_application),
    ("GET", "/applications/{application_id}/commands", get_commands),
    ("PUT", "/applications/{application_id}/commands", put_commands),
    ("POST", "/applications/{application_id}/commands", post_command),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_commands),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_commands),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", post_command),
    ("POST", "/interactions/{webhook_id}/{webhook_token}/callback", interaction_callback),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", webhook_execute),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", webhook_get_message),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", webhook_edit_message),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", webhook_delete_message),
    ("GET", "/channels/{channel_id}", get_channel),
    ("POST", "/channels/{channel_id}/messages", create_message),
    ("GET", "/channels/{channel_id}/messages", list_messages),
    ("GET", "/channels/{channel_id}/messages/{message_id}", get_message),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", edit_message),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message),
    ("POST", "/channels/{channel_id}/typing", typing),
    ("GET", "/guilds/{guild_id}", get_guild),
    ("GET", "/guilds/{guild_id}/channels", get_guild_channels),
    ("GET", "/guilds/{guild_id}/roles", get_roles),
    ("GET", "/guilds/{guild_id}/members", list_members),
    ("GET", "/guilds/{guild_id}/members/{user_id}", get_member),
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", member_role),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", member_role),
]
ROUTE_KEYS = {f"{method} {path}" for method, path, _ in ROUTES}
# callbacks and webhook calls carry their own token instead of the bot's Authorization header
TOKEN_AUTHENTICATED = ("/interactions/", "/webhooks/")
UNLIMITED = {"POST /interactions/{webhook_id}/{webhook_token}/callback"}


def bucket_hash(route_key: str) -> str:
    return hashlib.sha1(route_key.encode()).hexdigest()[:16]


class RateLimiter:
    """Fixed windows per route and major parameter, on real time (the client sleeps real time)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, key: str) -> tuple[bool, int, float]:
        """(allowed, remaining, reset_after)."""
        now = time.monotonic()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.window_s:
            start, used = now, 0
        reset_after = max(0.0, self.window_s - (now - start))
        if used >= self.limit:
            return False, 0, reset_after
        used += 1
        self._windows[key] = (start, used)
        return True, self.limit - used, reset_after


def ratelimit_headers(route_key: str, limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket_hash(route_key),
    }


def too_many_requests(route_key: str, limit: int, retry_after: float, *, is_global: bool, scope: str) -> web.Response:
    headers = ratelimit_headers(route_key, limit, 0, retry_after)
    headers.update({"Retry-After": f"{max(1, round(retry_after))}", "X-RateLimit-Scope": scope, "Via": "1.1 google"})
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global, "code": 0}
    return discord_json(body, status=429, headers=headers)


@web.middleware
async def api_middleware(request: web.Request, handler) -> web.StreamResponse:
    fake = fake_of(request)
    if not request.path.startswith(API + "/"):
        return await handler(request)
    resource = request.match_info.route.resource
    template = resource.canonical[len(API):] if resource is not None else request.path[len(API):]
    route_key = f"{request.method} {template}"
    try:
        payload, files = await read_body(request)
    except (ValueError, UnicodeDecodeError):
        payload, files = None, []
    record = RecordedRequest(
        method=request.method,
        path=request.path[len(API):],
        route=route_key,
        query=dict(request.query),
        json=payload,
        files=files,
        at=fake.clock.now(),
    )
    request[RECORD] = record
    fake.requests.append(record)

    oauth = template == "/oauth2/token" or (template == "/users/@me" and request.method == "GET"
                                            and request.headers.get("Authorization", "").startswith("Bearer "))
    if (not oauth and not template.startswith(TOKEN_AUTHENTICATED)
            and request.headers.get("Authorization") != f"Bot {fake.token}"):
        record.status, record.response = 401, {"message": "401: Unauthorized", "code": 0}
        return discord_json(record.response, status=401)

    injected = fake.take_injected_429(route_key)
    if injected is not None:
        record.status, record.response = 429, {"retry_after": injected.retry_after, "global": injected.is_global}
        fake.signal.bump()
        scope = "global" if injected.is_global else "user"
        return too_many_requests(route_key, fake.rate_limit, injected.retry_after, is_global=injected.is_global, scope=scope)

    major = "+".join(request.match_info.get(k, "") for k in ("channel_id", "guild_id", "webhook_id", "webhook_token"))
    remaining, reset_after = fake.rate_limit, 0.0
    if route_key not in UNLIMITED:
        allowed, remaining, reset_after = fake.rate_limiter.take(f"{route_key}:{major}")
        if not allowed:
            record.status, record.response = 429, {"retry_after": reset_after, "global": False}
            fake.signal.bump()
            return too_many_requests(route_key, fake.rate_limit, reset_after, is_global=False, scope="user")

    try:
        if resource is None:
            raise DiscordError(404, 0, "404: Not Found")
        response = await handler(request)
    except DiscordError as exc:
        record.status, record.response = exc.status, exc.body()
        response = discord_json(exc.body(), status=exc.status)
    except web.HTTPException as exc:  # e.g. 405 from the router
        record.status, record.response = exc.status, {"message": exc.reason, "code": 0}
        response = discord_json(record.response, status=exc.status)
    response.headers.update(ratelimit_headers(route_key, fake.rate_limit, remaining, reset_after or fake.rate_window_s))
    fake.signal.bump()
    if TOUCHED in request:
        request[TOUCHED].signal.bump()
    return response


def build_app(fake: FakeDiscord) -> web.Application:
    app = web.Application(middlewares=[api_middleware], client_max_size=MAX_BODY)
    app[FAKE] = fake
    for method, path, handler in ROUTES:
        app.router.add_route(method, API + path, handler)
    app.router.add_get("/gateway", fake.gateway.handle)
    add_oauth_routes(app)
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", get_attachment)
    return app
